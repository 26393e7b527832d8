// Targets against independent double-precision formulas, quadrature against closed forms,
// and VI that actually fits.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "models/targets.h"
#include "models/vi.h"

using namespace nfvi;

namespace {

constexpr double kPi = std::numbers::pi;
double sq(double x) { return x * x; }
double lae(double a, double b) { double m = std::max(a, b); return m + std::log(std::exp(a - m) + std::exp(b - m)); }
double w1(double z1) { return std::sin(2 * kPi * z1 / 4); }
double w2(double z1) { return 3 * std::exp(-0.5 * sq((z1 - 1) / 0.6)); }
double w3(double z1) { return 3 / (1 + std::exp(-(z1 - 1) / 0.3)); }

// The paper's Table 1, written out in plain double arithmetic.
double reference(std::string_view name, double z1, double z2) {
    double r = std::hypot(z1, z2);
    if (name == "U1") return 0.5 * sq((r - 2) / 0.4) - lae(-0.5 * sq((z1 - 2) / 0.6), -0.5 * sq((z1 + 2) / 0.6));
    if (name == "U2") return 0.5 * sq((z2 - w1(z1)) / 0.4);
    if (name == "U3") return -lae(-0.5 * sq((z2 - w1(z1)) / 0.35), -0.5 * sq((z2 - w1(z1) + w2(z1)) / 0.35));
    if (name == "U4") return -lae(-0.5 * sq((z2 - w1(z1)) / 0.4), -0.5 * sq((z2 - w1(z1) + w3(z1)) / 0.35));
    double u = 0;
    for (int k = 0; k < 4; ++k) {
        double th = k * kPi / 4, x1 = std::cos(th) * z1 - std::sin(th) * z2;
        u += 0.5 * sq((r - 3) / 0.4) -
             std::log(std::exp(-0.5 * sq((x1 - 3) / 0.6)) + std::exp(-0.5 * sq((x1 + 3) / 0.6)) + 1e-5);
    }
    return u;
}

double eval(const EnergyFn& u, double z1, double z2) {
    Graph g;
    return u(g.input(Tensor(Shape{1, 2}, {real(z1), real(z2)}))).item();
}

constexpr double kTol = NFVI_REAL_IS_DOUBLE ? 1e-12 : 1e-5;

}  // namespace

TEST_CASE("U1-U4 and U8 match the formulas at fixed points") {
    const double pts[][2] = {{0, 0}, {2, 0}, {-1.3, 0.7}, {1, 1}, {0.4, -2.2}, {3, 0}, {-2.1, 2.1}, {4.5, -3.9}};
    for (const Target& t : targets()) {
        EnergyFn u = make_energy(t, false);
        for (auto& p : pts) {
            CAPTURE(t.name);
            CAPTURE(p[0]);
            CAPTURE(p[1]);
            double want = reference(t.name, p[0], p[1]);
            if (!t.proper) want += std::log1p(std::exp(10 * (std::max(std::abs(p[0]), std::abs(p[1])) - 5)));
            CHECK(eval(u, p[0], p[1]) == doctest::Approx(want).epsilon(kTol).scale(1));
        }
    }
    // A few by hand: on U2's and U3's ridge z2 = sin(πz1/2) the energy is ~0 (z1 = 1: w1 = 1).
    CHECK(eval(make_energy(find_target("U2"), false), 1, 1) == doctest::Approx(0).scale(1));
    CHECK(eval(make_energy(find_target("U1"), false), 2, 0) == doctest::Approx(0).epsilon(1e-6).scale(1));
    // U8 at (3, 0): ring 0; the four angles give log-mode terms ≈ 0, −1.0723, −10.956, −1.0723.
    CHECK(eval(make_energy(find_target("U8"), false), 3, 0) == doctest::Approx(13.1007).epsilon(1e-4));
}

TEST_CASE("tapering multiplies the density by sigmoid(10(5 − ‖z‖∞))") {
    EnergyFn plain = make_energy(find_target("U1"), false), tapered = make_energy(find_target("U1"), true);
    CHECK(eval(tapered, 0.5, 0.2) - eval(plain, 0.5, 0.2) == doctest::Approx(std::log1p(std::exp(-45.0))).scale(1));
    CHECK(eval(tapered, 1, 6) - eval(plain, 1, 6) == doctest::Approx(std::log1p(std::exp(10.0))).epsilon(1e-5));
    CHECK(uses_taper(find_target("U3"), false));
    CHECK_FALSE(uses_taper(find_target("U8"), false));
    CHECK_THROWS_WITH_AS(find_target("U5"), doctest::Contains("U1, U2"), std::invalid_argument);
}

TEST_CASE("gradients of every target") {
    for (const Target& t : targets()) {
        CAPTURE(t.name);
        EnergyFn u = make_energy(t, true);
        Tensor z(Shape{3, 2}, {0.3, -0.8, 1.7, 1.1, -2.4, 0.6});
        auto fn = [&u](Graph&, std::span<const Var> v) { return u(v[0]); };
        GradcheckResult res = gradcheck(fn, {z});
        CHECK_MESSAGE(res.ok, res.message());
    }
}

TEST_CASE("quadrature log Z of a Gaussian energy equals its closed form") {
    // U = ½ zᵀPz with P = [[2, 0.6], [0.6, 1]]: Z = 2π / sqrt(det P).
    EnergyFn u = [](Var z) {
        Var a = slice_cols(z, 0, 1), b = slice_cols(z, 1, 2);
        return real(1.0) * square(a) + real(0.6) * (a * b) + real(0.5) * square(b);
    };
    double exact = std::log(2 * kPi) - 0.5 * std::log(2 * 1 - 0.36);
    CHECK(log_z_quadrature(u, 8, 400) == doctest::Approx(exact).epsilon(NFVI_REAL_IS_DOUBLE ? 1e-9 : 1e-5));
    // U1's log Z converges: halving the grid changes it by < 1e-3.
    EnergyFn u1 = make_energy(find_target("U1"), false);
    CHECK(std::abs(log_z_quadrature(u1, 8, 800) - log_z_quadrature(u1, 8, 400)) < 1e-3);
}

TEST_CASE("annealing schedule") {
    CHECK(anneal_beta(0, 10000) == doctest::Approx(0.01));
    CHECK(anneal_beta(5000, 10000) == doctest::Approx(0.51));
    CHECK(anneal_beta(20000, 10000) == 1);
    CHECK(anneal_beta(0, 0) == 1);
}

TEST_CASE("VI with a planar flow fits a Gaussian target: KL below 0.01") {
    // Target N(m, Σ) with correlation, which the diagonal base alone cannot fit (its best KL
    // is ½ log(P11 P22 / det P) = 0.11); four planar layers shear it into place.
    EnergyFn u = [](Var z) {
        Var a = slice_cols(z, 0, 1) - real(1), b = slice_cols(z, 1, 2) + real(0.5);
        return real(0.5) * (real(1.0) * square(a) + real(0.9) * (a * b) + real(1.0) * square(b)) * real(2);
    };
    const double log_z = std::log(2 * kPi) - 0.5 * std::log(4 * (1.0 - 0.2025));
    FlowModel m("planar", 2, 4, 3);
    Adam opt(m.params(), AdamOptions{.lr = 1e-2});
    Rng rng(5);
    Graph g;
    for (int step = 0; step < 1500; ++step) {
        g.clear();
        opt.zero_grad();
        Var loss = free_energy(g, m, u, rng, 256, 1);
        g.backward(loss);
        opt.step();
    }
    Rng eval_rng(99);
    FreeEnergyEstimate f = estimate_free_energy(m, u, eval_rng, 100000);
    double kl = f.mean + log_z;
    CHECK(kl < 0.01);
    CHECK(kl > -3 * f.std_error - 1e-3);  // a KL is not negative beyond noise
}
