// Flows: log-dets against the Jacobian built column by column (an independent oracle),
// invertibility constraints, inverses, gradients, and amortized = unconditional parameters.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "autodiff/thread_pool.h"
#include "flows/gaussian.h"
#include "flows/nice.h"
#include "flows/planar.h"
#include "flows/radial.h"
#include "flows/stack.h"
#include "test_util.h"

using namespace nfvi;
using test::Fill;

namespace {

constexpr bool kDouble = NFVI_REAL_IS_DOUBLE;

// log|det A| of a D×D matrix by Gaussian elimination with partial pivoting, in double.
double log_abs_det(std::vector<double> a, int D) {
    double s = 0;
    for (int c = 0; c < D; ++c) {
        int p = c;
        for (int r = c + 1; r < D; ++r)
            if (std::abs(a[r * D + c]) > std::abs(a[p * D + c])) p = r;
        for (int k = 0; k < D; ++k) std::swap(a[c * D + k], a[p * D + k]);
        double piv = a[c * D + c];
        s += std::log(std::abs(piv));
        for (int r = c + 1; r < D; ++r) {
            double f = a[r * D + c] / piv;
            for (int k = c; k < D; ++k) a[r * D + k] -= f * a[c * D + k];
        }
    }
    return s;
}

// Runs the layer on one point z [1,D] with a raw row [1,P]; returns z' (and the log-det).
std::vector<double> apply(const FlowLayer& f, const std::vector<double>& z, const Tensor& row,
                          double* logdet = nullptr) {
    Graph g;
    Tensor zt(Shape{1, f.dim()});
    for (int i = 0; i < f.dim(); ++i) zt[i] = static_cast<real>(z[static_cast<std::size_t>(i)]);
    FlowOutput out = f.forward(g.input(zt), g.input(row));
    if (logdet) *logdet = out.logdet.item();
    return std::vector<double>(out.z.data(), out.z.data() + f.dim());
}

// The log-det from central differences, column j = (f(z + h e_j) − f(z − h e_j)) / 2h.
double numeric_logdet(const FlowLayer& f, const std::vector<double>& z, const Tensor& row) {
    const int D = f.dim();
    const double h = kDouble ? 1e-5 : 1e-2;
    std::vector<double> J(static_cast<std::size_t>(D * D));
    for (int j = 0; j < D; ++j) {
        std::vector<double> zp = z, zm = z;
        zp[static_cast<std::size_t>(j)] += h;
        zm[static_cast<std::size_t>(j)] -= h;
        std::vector<double> fp = apply(f, zp, row), fm = apply(f, zm, row);
        for (int i = 0; i < D; ++i) J[static_cast<std::size_t>(i * D + j)] = (fp[static_cast<std::size_t>(i)] - fm[static_cast<std::size_t>(i)]) / (2 * h);
    }
    return log_abs_det(J, D);
}

// Random signed raw parameters, larger than the near-identity init, so the check bites.
Tensor random_row(const FlowLayer& f, std::uint64_t seed, double scale) {
    return Fill(seed).tensor(Shape{1, f.num_params()}, -scale, scale);
}

std::vector<std::unique_ptr<FlowLayer>> layers_of_dim(int D) {
    std::vector<std::unique_ptr<FlowLayer>> v;
    v.push_back(std::make_unique<PlanarFlow>(D));
    v.push_back(std::make_unique<RadialFlow>(D));
    v.push_back(std::make_unique<NiceCoupling>(D, Mixing::Permutation, 3, 8));
    v.push_back(std::make_unique<NiceCoupling>(D, Mixing::Orthogonal, 4, 8));
    return v;
}

}  // namespace

TEST_CASE("each flow's log-det equals log|det J| of its Jacobian (D = 2 and 5)") {
    const double tol = kDouble ? 1e-7 : 2e-2;
    for (int D : {2, 5}) {
        for (auto& f : layers_of_dim(D)) {
            for (std::uint64_t trial = 0; trial < 6; ++trial) {
                CAPTURE(f->kind());
                CAPTURE(D);
                CAPTURE(trial);
                Tensor row = random_row(*f, 100 + trial, 1.5);
                std::vector<double> z(static_cast<std::size_t>(D));
                Fill r(200 + trial);
                for (double& v : z) v = r.uniform(-2, 2);
                double analytic = 0;
                apply(*f, z, row, &analytic);
                CHECK(analytic == doctest::Approx(numeric_logdet(*f, z, row)).epsilon(tol).scale(1));
            }
        }
    }
}

TEST_CASE("the log-det is not trivially zero for planar and radial") {
    for (auto& f : layers_of_dim(3)) {
        if (f->kind().rfind("nice", 0) == 0) continue;  // volume-preserving by design
        double ld = 0;
        apply(*f, {0.3, -0.7, 1.1}, random_row(*f, 9, 1.5), &ld);
        CHECK(std::abs(ld) > 1e-3);
    }
}

TEST_CASE("planar keeps wᵀû > −1, radial keeps β ≥ −α, for any raw parameters") {
    Fill r(77);
    for (int trial = 0; trial < 300; ++trial) {
        const double scale = trial < 100 ? 0.5 : trial < 200 ? 2 : 3;  // |wᵀu| up to ~27
        PlanarFlow p(3);
        Tensor row = r.tensor(Shape{1, p.num_params()}, -scale, scale);
        auto d = p.describe(std::span<const real>(row.data(), static_cast<std::size_t>(row.numel())));
        double wu_hat = 0;
        for (int i = 0; i < 3; ++i) wu_hat += d[0].values[static_cast<std::size_t>(i)] * d[1].values[static_cast<std::size_t>(i)];
        CHECK(wu_hat > -1);
        RadialFlow rf(3);
        Tensor rr = r.tensor(Shape{1, rf.num_params()}, -10 * scale, 10 * scale);
        auto dr = rf.describe(std::span<const real>(rr.data(), static_cast<std::size_t>(rr.numel())));
        CHECK(dr[1].values[0] > 0);                      // α > 0
        CHECK(dr[2].values[0] >= -dr[1].values[0]);      // β ≥ −α
    }
}

TEST_CASE("planar's log-det stays finite where wᵀû rounds to −1 and tanh is 0") {
    // u = −w·t with ‖w‖² = 1: wᵀu = −t, and z on the hyperplane wᵀz + b = 0 makes h = 0, so
    // 1 + ûᵀψ = softplus(−t): tiny but positive; −1 + softplus(−t) would round to −1.
    for (double t : {5.0, 20.0, 40.0, 80.0}) {
        CAPTURE(t);
        PlanarFlow p(2);
        Tensor row(Shape{1, 5}, {real(-0.6 * t), real(-0.8 * t), 0.6, 0.8, 0});
        double ld = 0;
        apply(p, {0, 0}, row, &ld);  // wᵀz + b = 0 exactly
        CHECK(std::isfinite(ld));
        CHECK(ld == doctest::Approx(-t - std::log1p(std::exp(-t))).epsilon(1e-3));  // log softplus(−t)
    }
}

TEST_CASE("NICE: inverse(forward(z)) = z, per-row and shared parameters") {
    for (Mixing mix : {Mixing::Permutation, Mixing::Orthogonal}) {
        for (int D : {2, 5}) {
            NiceCoupling f(D, mix, 11, 6);
            Tensor z = Fill(1).tensor(Shape{7, D}, -2, 2);
            for (int rows : {1, 7}) {
                Tensor p = Fill(2).tensor(Shape{rows, f.num_params()}, -1, 1);
                Graph g;
                FlowOutput out = f.forward(g.input(z), g.input(p));
                Tensor zo(out.z.shape());
                std::copy_n(out.z.data(), zo.numel(), zo.data());
                Tensor back = f.inverse(zo, p);
                double err = 0;
                for (std::int64_t i = 0; i < z.numel(); ++i) err = std::max(err, double(std::abs(back[i] - z[i])));
                CHECK(err < (kDouble ? 1e-12 : 1e-5));
                double moved = 0;
                for (std::int64_t i = 0; i < z.numel(); ++i) moved = std::max(moved, double(std::abs(zo[i] - z[i])));
                CHECK(moved > 1e-2);  // the layer does something
            }
        }
    }
    FlowStack s = make_flow("nice-orth", 4, 3, 5);
    CHECK(s.has_inverse());
    CHECK_FALSE(make_flow("planar", 2, 2).has_inverse());
}

TEST_CASE("the mixing matrices are a non-identity permutation and an orthogonal matrix") {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        NiceCoupling p(2, Mixing::Permutation, seed, 4);
        CHECK(p.mixing_matrix().at(0, 1) == 1);  // for D = 2 the only non-identity one: a swap
    }
    NiceCoupling o(5, Mixing::Orthogonal, 3, 4);
    const Tensor& m = o.mixing_matrix();
    for (int i = 0; i < 5; ++i)
        for (int j = 0; j < 5; ++j) {
            double dot = 0;
            for (int k = 0; k < 5; ++k) dot += double(m.at(i, k)) * m.at(j, k);
            CHECK(dot == doctest::Approx(i == j ? 1.0 : 0.0).epsilon(1e-5).scale(1));
        }
}

TEST_CASE("gradients through each flow, w.r.t. z and parameters, shared and per-row") {
    for (auto& f : layers_of_dim(3)) {
        for (int rows : {1, 4}) {
            CAPTURE(f->kind());
            CAPTURE(rows);
            Tensor z = Fill(5).tensor(Shape{4, 3}, -1.5, 1.5);
            Tensor p = Fill(6).tensor(Shape{rows, f->num_params()}, -1, 1);
            const FlowLayer* layer = f.get();
            auto fn = [layer](Graph&, std::span<const Var> v) {
                FlowOutput out = layer->forward(v[0], v[1]);
                return concat_cols(out.z, out.logdet);
            };
            GradcheckResult res = gradcheck(fn, {z, p});
            CHECK_MESSAGE(res.ok, res.message());
        }
    }
}

TEST_CASE("the fused planar op equals the planar layer written with elementary ops") {
    for (int D : {2, 5}) {
        for (int rows : {1, 9}) {
            Tensor z = Fill(21).tensor(Shape{9, D}, -2, 2);
            Tensor p = Fill(22).tensor(Shape{rows, 2 * D + 1}, -1.5, 1.5);
            Parameter zp("z", z), pp("p", p), zq("z", z), pq("p", p);
            Graph g;
            FlowOutput fused = PlanarFlow(D).forward(g.param(zp), g.param(pp));
            FlowOutput plain = planar_forward_composed(g.param(zq), g.param(pq));
            Tensor w = Fill(23).tensor(Shape{9, D + 1}, 0.5, 1.5);
            g.backward(concat_cols(fused.z, fused.logdet), w.ref());
            g.backward(concat_cols(plain.z, plain.logdet), w.ref());
            const double tol = kDouble ? 1e-12 : 1e-5;
            for (std::int64_t i = 0; i < 9 * D; ++i) CHECK(fused.z.data()[i] == doctest::Approx(plain.z.data()[i]).epsilon(tol));
            for (int i = 0; i < 9; ++i) CHECK(fused.logdet.data()[i] == doctest::Approx(plain.logdet.data()[i]).epsilon(tol));
            for (std::int64_t i = 0; i < z.numel(); ++i) CHECK(zp.grad[i] == doctest::Approx(zq.grad[i]).epsilon(tol));
            for (std::int64_t i = 0; i < p.numel(); ++i) CHECK(pp.grad[i] == doctest::Approx(pq.grad[i]).epsilon(tol));
        }
    }
}

TEST_CASE("amortized parameters with equal rows give exactly the shared-row flow") {
    for (const char* kind : {"planar", "radial", "nice-perm", "nice-orth"}) {
        CAPTURE(kind);
        FlowStack s = make_flow(kind, 2, 4, 9);
        Tensor row(Shape{1, s.num_params()});
        Rng rng(3);
        s.init(std::span<real>(row.data(), static_cast<std::size_t>(row.numel())), rng);
        for (std::int64_t i = 0; i < row.numel(); ++i) row[i] += static_cast<real>(0.3 * std::sin(double(i)));
        Tensor rows(Shape{6, s.num_params()});
        for (int r = 0; r < 6; ++r)
            for (int c = 0; c < s.num_params(); ++c) rows.at(r, c) = row[c];
        Tensor z = Fill(8).tensor(Shape{6, 2}, -2, 2);
        Graph g;
        FlowOutput a = s.forward(g.input(z), g.input(row));
        FlowOutput b = s.forward(g.input(z), g.input(rows));
        for (std::int64_t i = 0; i < 12; ++i) CHECK(a.z.data()[i] == doctest::Approx(b.z.data()[i]).epsilon(kDouble ? 1e-14 : 1e-6));
        for (std::int64_t i = 0; i < 6; ++i) CHECK(a.logdet.data()[i] == doctest::Approx(b.logdet.data()[i]).epsilon(kDouble ? 1e-14 : 1e-6));
    }
}

TEST_CASE("the stack sums log-dets, traces layers, and checks shapes") {
    FlowStack s = make_flow("planar", 2, 3, 1);
    CHECK(s.num_params() == 15);
    Tensor row = Fill(4).tensor(Shape{1, 15}, -1, 1);
    Tensor z = Fill(5).tensor(Shape{3, 2}, -1, 1);
    Graph g;
    std::vector<Var> trace;
    FlowOutput out = s.forward(g.input(z), g.input(row), &trace);
    CHECK(trace.size() == 3);
    CHECK(trace.back().id() == out.z.id());
    Var zk = g.input(z);
    Var total = g.constant(Shape{3, 1}, 0);
    for (int k = 0; k < 3; ++k) {
        FlowOutput o = s.layer(k).forward(zk, slice_cols(g.input(row), s.offset(k), s.offset(k) + 5));
        zk = o.z;
        total = total + o.logdet;
    }
    for (int i = 0; i < 3; ++i) CHECK(out.logdet.data()[i] == doctest::Approx(total.data()[i]));
    CHECK_THROWS_AS(s.forward(g.input(Shape{3, 3}), g.input(row)), std::invalid_argument);
    CHECK_THROWS_AS(s.forward(g.input(z), g.input(Shape{2, 15})), std::invalid_argument);
    CHECK_THROWS_WITH_AS(make_flow("sylvester", 2, 1), doctest::Contains("planar, radial"), std::invalid_argument);
    FlowStack empty = make_flow("radial", 2, 0);
    FlowOutput e = empty.forward(g.input(z), g.input(Shape{1, 0}));
    CHECK(e.logdet.data()[0] == 0);
}

TEST_CASE("diagonal Gaussian base: log q matches the closed form") {
    Graph g;
    Tensor mu(Shape{1, 2}, {0.5, -1}), sigma(Shape{1, 2}, {2, 0.5}), eps(Shape{1, 2}, {0.3, -1.2});
    GaussianSample s = diag_gaussian_sample(g.input(mu), g.input(sigma), g.input(eps));
    CHECK(s.z.data()[0] == doctest::Approx(0.5 + 2 * 0.3));
    CHECK(s.z.data()[1] == doctest::Approx(-1 + 0.5 * -1.2));
    double expect = -0.5 * (0.09 + 1.44) - std::log(2.0) - std::log(0.5) - std::log(2 * M_PI);
    CHECK(s.log_q.item() == doctest::Approx(expect));
    CHECK(standard_normal_logpdf(g.input(Tensor(Shape{1, 2}, {0, 0}))).item() == doctest::Approx(-std::log(2 * M_PI)));
}

namespace {

// Values and gradients of one flow evaluation: z_K, Σ log-det, ∂/∂z and ∂/∂params of a fixed
// random weighting of both outputs.
struct FlowRun {
    std::vector<double> z, logdet, gz, gp;
};

template <class F>
FlowRun run_flow(F&& flow, const Tensor& z, const Tensor& p, std::uint64_t seed) {
    Parameter zp("z", z), pp("p", p);
    Graph g;
    FlowOutput out = flow(g.param(zp), g.param(pp));
    Tensor w = Fill(seed).tensor(Shape{z.rows(), z.cols() + 1}, 0.5, 1.5);
    g.backward(concat_cols(out.z, out.logdet), w.ref());
    return {std::vector<double>(out.z.data(), out.z.data() + z.numel()),
            std::vector<double>(out.logdet.data(), out.logdet.data() + z.rows()),
            std::vector<double>(zp.grad.data(), zp.grad.data() + z.numel()),
            std::vector<double>(pp.grad.data(), pp.grad.data() + p.numel())};
}

void check_close(const std::vector<double>& a, const std::vector<double>& b, double tol, const char* what) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(a[i] == doctest::Approx(b[i]).epsilon(tol).scale(1));
    }
}

void check_close(const FlowRun& a, const FlowRun& b, double tol) {
    check_close(a.z, b.z, tol, "z");
    check_close(a.logdet, b.logdet, tol, "logdet");
    check_close(a.gz, b.gz, tol, "grad z");
    check_close(a.gp, b.gp, tol, "grad params");
}

}  // namespace

TEST_CASE("a stack runs consecutive planar layers as one node, equal to one layer at a time") {
    // Planar runs of 2 and 3 around a radial layer; D = 2, 3 and 9 (per-sample rows then run
    // along D); shared and per-sample rows; a batch that does not fill the last block.
    for (int D : {2, 3, 9}) {
        for (bool per_sample : {false, true}) {
            CAPTURE(D);
            CAPTURE(per_sample);
            FlowStack s(D);
            s.add(std::make_unique<PlanarFlow>(D));
            s.add(std::make_unique<PlanarFlow>(D));
            s.add(std::make_unique<RadialFlow>(D));
            for (int k = 0; k < 3; ++k) s.add(std::make_unique<PlanarFlow>(D));
            const int N = 37;
            Tensor z = Fill(31).tensor(Shape{N, D}, -2, 2);
            Tensor p = Fill(32).tensor(Shape{per_sample ? N : 1, s.num_params()}, -1.2, 1.2);
            FlowRun fused = run_flow([&](Var zv, Var pv) { return s.forward(zv, pv); }, z, p, 33);
            FlowRun single = run_flow(
                [&](Var zv, Var pv) {
                    Var ld;
                    for (int k = 0; k < s.size(); ++k) {
                        FlowOutput o = s.layer(k).forward(zv, slice_cols(pv, s.offset(k), s.offset(k) + s.layer(k).num_params()));
                        zv = o.z;
                        ld = ld.valid() ? ld + o.logdet : o.logdet;
                    }
                    return FlowOutput{zv, ld};
                },
                z, p, 33);
            check_close(fused, single, kDouble ? 1e-12 : 2e-5);
        }
    }
    // A planar stack is one node (and the two slices of its output), whatever K is.
    FlowStack s = make_flow("planar", 2, 32);
    Graph g;
    Var z = g.input(Shape{5, 2}), p = g.input(Shape{1, s.num_params()});
    const std::int32_t before = g.size();
    s.forward(z, p);
    CHECK(g.size() - before == 3);
}

TEST_CASE("the fused planar kernels equal the planar layer written with elementary ops, K layers") {
    // Each kernel of planar_layers (shared row; per-sample rows across samples, D < 8; per-sample
    // rows along D, D >= 8) against the composed layer applied K times.
    const int K = 3;
    for (int D : {2, 3, 9, 16}) {
        for (int rows : {1, 21}) {
            CAPTURE(D);
            CAPTURE(rows);
            const int P = 2 * D + 1;
            Tensor z = Fill(41).tensor(Shape{21, D}, -2, 2);
            Tensor p = Fill(42).tensor(Shape{rows, 1 + K * P}, -1.5, 1.5);
            FlowRun fused = run_flow(
                [&](Var zv, Var pv) {
                    Var y = planar_layers(zv, pv, 1, K);
                    return FlowOutput{slice_cols(y, 0, D), slice_cols(y, D, D + 1)};
                },
                z, p, 43);
            FlowRun plain = run_flow(
                [&](Var zv, Var pv) {
                    Var ld;
                    for (int k = 0; k < K; ++k) {
                        FlowOutput o = planar_forward_composed(zv, slice_cols(pv, 1 + k * P, 1 + (k + 1) * P));
                        zv = o.z;
                        ld = ld.valid() ? ld + o.logdet : o.logdet;
                    }
                    return FlowOutput{zv, ld};
                },
                z, p, 43);
            check_close(fused, plain, kDouble ? 1e-11 : 5e-5);
            CHECK(fused.gp[0] == 0);  // the column before the layers is not theirs
        }
    }
}

TEST_CASE("planar_layers gives the same bits for 1 and 2 threads") {
    struct Case { int N, D, rows; };
    for (Case c : {Case{700, 2, 1}, Case{200, 2, 200}, Case{300, 5, 1}, Case{150, 9, 150}}) {
        CAPTURE(c.N);
        CAPTURE(c.D);
        CAPTURE(c.rows);
        const int K = 4, P = 2 * c.D + 1;
        Tensor z = Fill(51).tensor(Shape{c.N, c.D}, -2, 2);
        Tensor p = Fill(52).tensor(Shape{c.rows, K * P}, -1, 1);
        auto flow = [&](Var zv, Var pv) {
            Var y = planar_layers(zv, pv, 0, K);
            return FlowOutput{slice_cols(y, 0, c.D), slice_cols(y, c.D, c.D + 1)};
        };
        set_num_threads(1);
        FlowRun one = run_flow(flow, z, p, 53);
        set_num_threads(2);
        FlowRun two = run_flow(flow, z, p, 53);
        set_num_threads(1);
        CHECK(one.z == two.z);
        CHECK(one.logdet == two.logdet);
        CHECK(one.gz == two.gz);
        CHECK(one.gp == two.gp);
    }
}

TEST_CASE("planar_layers refuses parameters that do not cover its layers") {
    Graph g;
    Var z = g.input(Shape{4, 2});
    CHECK_THROWS_WITH_AS(planar_layers(z, g.input(Shape{1, 14}), 0, 3), doctest::Contains("params [1, >= 15]"),
                         std::invalid_argument);
    CHECK_THROWS_AS(planar_layers(z, g.input(Shape{1, 15}), 1, 3), std::invalid_argument);
    CHECK_THROWS_AS(planar_layers(z, g.input(Shape{3, 15}), 0, 3), std::invalid_argument);
    CHECK_THROWS_AS(planar_layers(z, g.input(Shape{1, 15}), 0, 0), std::invalid_argument);
    CHECK_NOTHROW(planar_layers(z, g.input(Shape{4, 16}), 1, 3));
}
