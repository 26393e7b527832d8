// Conditional VI (models/conditional.h): the rotated energy against the unrotated one at the
// rotated point and against its formula, log Z the same at every angle, the amortized planar
// flow with equal rows against the unconditional flow, the per-angle grouped loss against
// the obvious per-sample computation, central-difference gradients of the loss with respect
// to the network, and a short training run that lowers the KL at every angle.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/optim.h"
#include "flows/gaussian.h"
#include "models/conditional.h"
#include "tests/test_util.h"

using namespace nfvi;

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kTol = NFVI_REAL_IS_DOUBLE ? 1e-12 : 2e-5;
double sq(double x) { return x * x; }

// U(x) written out in double, from the formula in models/conditional.h.
double ring_formula(double x1, double x2) {
    const double r = std::hypot(x1, x2);
    return 0.5 * sq((r - 2) / 0.4) -
           std::log(std::exp(-0.5 * sq((x1 - 2) / 0.6)) + std::exp(-0.5 * sq((x1 + 2) / 0.6)) + 1e-6);
}

// A small network: 3 layers of flow, hidden {6, 5}.
ConditionalShape small_shape(AngleInput input) {
    ConditionalShape s;
    s.layers = 3;
    s.hidden = {6, 5};
    s.input = input;
    return s;
}

// The loss computed the obvious way: every one of the M = B·S rows gets its own copy of its
// angle's network output (repeat_rows) and the flow runs with per-sample parameter rows; the
// energy takes one angle per row. ε as conditional_loss draws it: one [M,2] fill.
Var loss_per_sample_rows(Graph& g, ConditionalFlow& m, const std::vector<real>& angles, int S, Rng& rng) {
    const int B = static_cast<int>(angles.size()), M = B * S, P = m.flow().num_params();
    Var a = g.input(Shape{B, 1});
    std::copy(angles.begin(), angles.end(), a.data());
    Var raw = repeat_rows(m.forward(g, a), S);  // [M,O]
    Var eps = g.input(Shape{M, 2});
    rng.normal(eps.data(), eps.value().numel());
    GaussianSample s0 = diag_gaussian_sample(slice_cols(raw, 0, 2), softplus(slice_cols(raw, 2, 4)), eps);
    FlowOutput f = m.flow().forward(s0.z, slice_cols(raw, 4, 4 + P));
    Var u = rotated_ring_energy(f.z, repeat_rows(a, S));
    return mean(s0.log_q - f.logdet + u);
}

}  // namespace

TEST_CASE("the ring energy matches its formula, with the 1e-6 floor") {
    const double pts[][2] = {{0, 0}, {2, 0}, {-2, 0.1}, {0, 2}, {1.3, -1.5}, {0.2, 3.1}, {-4, 4}, {6, -1}};
    for (auto& p : pts) {
        CAPTURE(p[0]);
        CAPTURE(p[1]);
        Graph g;
        Var x = g.input(Tensor(Shape{1, 2}, {real(p[0]), real(p[1])}));
        CHECK(ring_energy(x).item() == doctest::Approx(ring_formula(p[0], p[1])).epsilon(kTol).scale(1));
    }
    // Far from both modes the floor decides: at x1 = 6 the mode term is −log(1e−6 + e^−22.2)
    // instead of U1's 22.2.
    Graph g;
    Var far = g.input(Tensor(Shape{1, 2}, {6, -1}));
    CHECK(energy_u1(far).item() - ring_energy(far).item() == doctest::Approx(22.22 + std::log(1e-6)).epsilon(1e-3));
}

TEST_CASE("the rotated energy equals the unrotated energy at the rotated point") {
    test::Fill fill(3);
    const int N = 40;
    Tensor z = fill.tensor(Shape{N, 2}, -3.5, 3.5);
    Tensor angle = fill.tensor(Shape{N, 1}, -kPi, kPi);
    Tensor x(Shape{N, 2});  // R_θ z, rotated in double
    for (int i = 0; i < N; ++i) {
        const double c = std::cos(double(angle[i])), s = std::sin(double(angle[i]));
        x.at(i, 0) = real(c * z.at(i, 0) - s * z.at(i, 1));
        x.at(i, 1) = real(s * z.at(i, 0) + c * z.at(i, 1));
    }
    Graph g;
    Var rotated = rotated_ring_energy(g.input(z), g.input(angle));  // one angle per row
    Var plain = ring_energy(g.input(x));
    for (int i = 0; i < N; ++i) {
        CAPTURE(i);
        CHECK(double(rotated.data()[i]) ==
              doctest::Approx(double(plain.data()[i])).epsilon(NFVI_REAL_IS_DOUBLE ? 1e-10 : 1e-4).scale(1));
    }
    // One angle for all rows ([1,1]) gives the same as that angle repeated.
    Tensor one(Shape{1, 1}, {angle[5]});
    Var shared = rotated_ring_energy(g.input(z), g.input(one));
    CHECK(double(shared.data()[5]) == double(rotated.data()[5]));
    // The rotation matters: (2, 0) is on a mode at θ = 0; at θ = π/2 it turns to (0, 2),
    // between the modes.
    Tensor mode(Shape{1, 2}, {2, 0});
    auto at = [&](double th) {
        Graph h;
        return double(rotated_ring_energy(h.input(mode), h.constant(Shape{1, 1}, real(th))).item());
    };
    CHECK(at(kPi / 2) - at(0) > 4);
    CHECK(at(kPi) == doctest::Approx(at(0)).epsilon(1e-5));  // the two modes swap
    // At θ the modes are at ±2·(cos θ, −sin θ).
    Tensor moved(Shape{1, 2}, {real(2 * std::cos(0.7)), real(-2 * std::sin(0.7))});
    Graph h;
    CHECK(rotated_ring_energy(h.input(moved), h.constant(Shape{1, 1}, real(0.7))).item() ==
          doctest::Approx(at(0)).epsilon(1e-4));
}

TEST_CASE("log Z is the same at every angle") {
    const double lz = ring_log_z(8, 400);
    for (double th : {-2.9, -1.0, 0.4, 1.7, kPi}) {
        CAPTURE(th);
        EnergyFn rotated = [th](Var z) { return rotated_ring_energy(z, z.graph().constant(Shape{1, 1}, real(th))); };
        CHECK(log_z_quadrature(rotated, 8, 400) == doctest::Approx(lz).epsilon(1e-4));
    }
    // Against a finer grid: 400 cells on [−8, 8] are fine enough already.
    CHECK(ring_log_z(8, 1200) == doctest::Approx(lz).epsilon(1e-4));
}

TEST_CASE("the amortized planar flow with every row equal gives the unconditional flow's output") {
    test::Fill fill(11);
    const int N = 37, K = 5;  // N not a multiple of the kernel's blocks
    FlowStack flow = make_flow("planar", 2, K);
    Tensor row = fill.tensor(Shape{1, flow.num_params()}, -1.5, 1.5);  // signed, far from the identity
    Tensor z = fill.tensor(Shape{N, 2}, -3, 3);
    Tensor weights = fill.tensor(Shape{N, 3}, -1, 1);  // an objective Σ w·[z', log det]
    // Values and gradients (for z and the row) of the shared-row and the per-row forms.
    struct Result {
        Tensor z, logdet, grad_z, grad_row;
    };
    auto run = [&](bool per_row) {
        Graph g;
        Parameter p("row", row), zp("z", z);
        Var r = g.param(p);
        FlowOutput f = flow.forward(g.param(zp), per_row ? repeat_rows(r, N) : r);  // [N,P] rows all equal
        Var w = g.input(weights);
        g.backward(sum(f.z * slice_cols(w, 0, 2)) + sum(f.logdet * slice_cols(w, 2, 3)));
        Result res{Tensor(Shape{N, 2}), Tensor(Shape{N, 1}), zp.grad, p.grad};
        std::copy_n(f.z.data(), 2 * N, res.z.data());
        std::copy_n(f.logdet.data(), N, res.logdet.data());
        return res;
    };
    const Result shared = run(false), rows = run(true);
    // The two forms run different loops of the fused kernel (lanes of per-sample rows against
    // one broadcast row); the compiler may contract a*b+c into an FMA in one and not the other,
    // so they agree to rounding, not always to the bit.
    const double tol = NFVI_REAL_IS_DOUBLE ? 1e-12 : 1e-5;
    auto worst = [](const Tensor& a, const Tensor& b) {
        double w = 0;
        for (std::int64_t i = 0; i < a.numel(); ++i)
            w = std::max(w, std::abs(double(a[i]) - double(b[i])) / (1 + std::abs(double(b[i]))));
        return w;
    };
    CHECK(worst(rows.z, shared.z) < tol);
    CHECK(worst(rows.logdet, shared.logdet) < tol);
    CHECK(worst(rows.grad_z, shared.grad_z) < tol);
    CHECK(worst(rows.grad_row, shared.grad_row) < 10 * tol);  // a sum over the N rows
    double moved = 0, grad = 0;
    for (int i = 0; i < N; ++i) moved += std::abs(double(shared.z[2 * i]) - double(z.at(i, 0)));
    for (std::int64_t i = 0; i < row.numel(); ++i) grad += std::abs(double(shared.grad_row[i]));
    CHECK(moved / N > 0.05);  // the flow is not the identity
    CHECK(grad > 0.1);        // and its parameters matter
}

TEST_CASE("the grouped loss equals the per-sample-rows computation, value and gradients") {
    for (AngleInput input : {AngleInput::Angle, AngleInput::CosSin}) {
        CAPTURE(to_string(input));
        ConditionalFlow m(small_shape(input), 4);
        const std::vector<real> angles = {real(-2.5), real(0.3), real(1.9)};
        const int S = 13;
        ParameterList ps = m.params();

        zero_grad(ps);
        Graph g1;
        Rng r1(21);
        Var l1 = conditional_loss(g1, m, angles, S, r1);
        g1.backward(l1);
        std::vector<Tensor> grads;
        for (Parameter* p : ps) grads.push_back(p->grad);

        zero_grad(ps);
        Graph g2;
        Rng r2(21);
        Var l2 = loss_per_sample_rows(g2, m, angles, S, r2);
        g2.backward(l2);

        CHECK(l1.item() == doctest::Approx(double(l2.item())).epsilon(NFVI_REAL_IS_DOUBLE ? 1e-12 : 1e-5));
        CHECK(r1.state() == r2.state());  // the same ε were drawn
        double worst = 0, largest = 0;
        for (std::size_t k = 0; k < ps.size(); ++k)
            for (std::int64_t i = 0; i < ps[k]->grad.numel(); ++i) {
                const double a = grads[k][i], b = ps[k]->grad[i];
                worst = std::max(worst, std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-3}));
                largest = std::max(largest, std::abs(a));
            }
        CHECK(worst < (NFVI_REAL_IS_DOUBLE ? 1e-10 : 1e-3));
        CHECK(largest > 1e-3);  // gradients arrived
    }
}

TEST_CASE("one angle's samples are that angle's rows of a batch of angles") {
    ConditionalFlow m(small_shape(AngleInput::CosSin), 8);
    const std::vector<real> angles = {real(0.5), real(-1.2)};
    const int S = 9;
    // Angle 1's samples use ε rows S .. 2S−1: skip angle 0's S blocks of normals (one per row).
    Graph g;
    Rng rng(5);
    rng.skip(static_cast<std::uint64_t>(S));
    ConditionalSample one = sample_conditional(g, m, angles[1], S, rng);
    // Its mean log q + U against the loss of the batch, minus angle 0's share.
    Graph h;
    Rng r0(5), r1(5);
    const double both = conditional_loss(h, m, angles, S, r0).item();
    const double first = conditional_loss(h, m, std::vector<real>{angles[0]}, S, r1).item();
    Var v = one.log_q + rotated_ring_energy(one.z, g.constant(Shape{1, 1}, angles[1]));
    double second = 0;
    for (int i = 0; i < S; ++i) second += v.data()[i];
    second /= S;
    CHECK(both == doctest::Approx((first + second) / 2).epsilon(NFVI_REAL_IS_DOUBLE ? 1e-12 : 1e-5));
}

TEST_CASE("central differences agree with the loss's gradient w.r.t. the network") {
    for (AngleInput input : {AngleInput::Angle, AngleInput::CosSin}) {
        CAPTURE(to_string(input));
        ConditionalFlow m(small_shape(input), 2);
        // Larger weights than at initialization, so that the flow layers bend and every term
        // of the loss (softplus of σ, the planar constraint, the energy) has a real gradient.
        for (Parameter* p : m.params())
            for (std::int64_t i = 0; i < p->value.numel(); ++i) p->value[i] *= real(3);
        const std::vector<real> angles = {real(-3.0), real(-0.4), real(2.2)};
        const int S = 4;
        ParameterList ps = m.params();
        auto loss_at = [&] {
            Graph h;
            Rng rng(17);
            return double(conditional_loss(h, m, angles, S, rng).item());
        };
        zero_grad(ps);
        {
            Graph g;
            Rng rng(17);
            g.backward(conditional_loss(g, m, angles, S, rng));
        }
        // The double build is the real check (ELU's second derivative jumps at 0, so central
        // differences are good to about 1e-5 there); the float build only catches gross errors:
        // its loss of about 16 is rounded to ~1e-6, which a step of 1e-2 turns into ~1e-4, and
        // the step's own error adds about as much (measured: worst 0.02 against a limit of 0.05).
        const double hstep = NFVI_REAL_IS_DOUBLE ? 1e-6 : 1e-2;
        const double limit = NFVI_REAL_IS_DOUBLE ? 1e-5 : 5e-2;
        const double least = NFVI_REAL_IS_DOUBLE ? 1e-2 : 2e-1;
        double worst = 0;
        std::int64_t checked = 0;
        for (Parameter* p : ps)
            for (std::int64_t i = 0; i < p->value.numel(); ++i) {
                const real keep = p->value[i];
                p->value[i] = real(keep + hstep);
                const double up = loss_at();
                p->value[i] = real(keep - hstep);
                const double down = loss_at();
                p->value[i] = keep;
                const double numeric = (up - down) / (2 * hstep);
                const double analytic = p->grad[i];
                const double err = std::abs(numeric - analytic) / std::max({std::abs(numeric), std::abs(analytic), least});
                worst = std::max(worst, err);
                ++checked;
            }
        CHECK(checked == m.net().num_values());
        CHECK(worst < limit);
    }
}

TEST_CASE("angles are uniform in (−π, π); the free-energy estimate does not depend on its chunks") {
    Rng rng(3);
    std::vector<real> a(4000);
    draw_angles(rng, a);
    double mean = 0, below = 0;
    for (real v : a) {
        CHECK(v > real(-kPi) - real(1e-6));
        CHECK(v < real(kPi) + real(1e-6));
        mean += v;
        below += v < 0;
    }
    CHECK(std::abs(mean / 4000) < 0.1);
    CHECK(std::abs(below / 4000 - 0.5) < 0.03);
    CHECK(*std::max_element(a.begin(), a.end()) > 3.1);
    CHECK(*std::min_element(a.begin(), a.end()) < -3.1);

    ConditionalFlow m(small_shape(AngleInput::Angle), 6);
    Rng e1(9), e2(9), e3(9);
    FreeEnergyEstimate big = estimate_conditional_free_energy(m, 0.8, e1, 300, 1000);
    FreeEnergyEstimate small = estimate_conditional_free_energy(m, 0.8, e2, 300, 7);
    CHECK(big.samples == 300);
    CHECK(big.mean == doctest::Approx(small.mean).epsilon(1e-12));
    CHECK(big.std_error == doctest::Approx(small.std_error).epsilon(1e-9));
    CHECK(big.std_error > 0);
    // And it is the mean that the loss of the same samples reports.
    Graph g;
    CHECK(conditional_loss(g, m, std::vector<real>{real(0.8)}, 300, e3).item() ==
          doctest::Approx(big.mean).epsilon(NFVI_REAL_IS_DOUBLE ? 1e-12 : 1e-5));
}

TEST_CASE("the output scale shrinks the network's last layer at initialization") {
    ConditionalShape s = small_shape(AngleInput::Angle);
    ConditionalFlow plain(s, 7);
    s.output_scale = 0.25;
    ConditionalFlow scaled(s, 7);
    auto& a = plain.net().layers();
    auto& b = scaled.net().layers();
    REQUIRE(a.size() == 6);
    CHECK(b[0].value[3] == a[0].value[3]);  // hidden layers untouched
    CHECK(b[4].value[7] == real(a[4].value[7] * real(0.25)));
    CHECK(b[5].value[2] == real(a[5].value[2] * real(0.25)));
    CHECK(plain.outputs() == 4 + 3 * 5);
    CHECK(plain.inputs() == 1);
    CHECK(a[0].value.cols() == 1);
    s.input = AngleInput::CosSin;
    CHECK(ConditionalFlow(s, 7).net().layers()[0].value.cols() == 2);
}

TEST_CASE("a short training run lowers the KL at every angle") {
    ConditionalShape s;
    s.layers = 4;
    s.hidden = {16};
    s.input = AngleInput::CosSin;
    ConditionalFlow m(s, 1);
    const double log_z = ring_log_z(8, 300);
    const double check[] = {-2.0, 0.0, 1.5};
    auto kls = [&] {
        std::vector<double> out;
        Rng rng(99);
        for (double th : check) out.push_back(estimate_conditional_free_energy(m, th, rng, 4000).mean + log_z);
        return out;
    };
    const std::vector<double> before = kls();
    ParameterList ps = m.params();
    Adam opt(ps, AdamOptions{.lr = real(3e-3)});
    Rng rng(2);
    Graph g;
    std::vector<real> angles(8);
    for (int t = 0; t < 300; ++t) {
        draw_angles(rng, angles);
        g.clear();
        opt.zero_grad();
        g.backward(conditional_loss(g, m, angles, 32, rng));
        opt.step();
    }
    const std::vector<double> after = kls();
    for (std::size_t i = 0; i < after.size(); ++i) {
        CAPTURE(check[i]);
        CAPTURE(before[i]);
        CHECK(after[i] < 0.6 * before[i]);
        CHECK(after[i] > -0.05);  // a KL, up to its sampling noise
    }
}
