// The NF-VAE model: MLPs (maxout included), the ELBO against a hand computation, importance-
// sampled log p(x) against 2-D quadrature, and gradients through the whole model.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/optim.h"
#include "flows/gaussian.h"
#include "models/mlp.h"
#include "models/vae.h"
#include "src/vae_data.h"

using namespace nfvi;

namespace {

const double kLog2Pi = std::log(2 * std::numbers::pi);
double softplus_d(double v) { return std::max(v, 0.0) + std::log1p(std::exp(-std::abs(v))); }

void set_values(Parameter& p, std::initializer_list<double> v) {
    REQUIRE(static_cast<std::int64_t>(v.size()) == p.value.numel());
    std::int64_t i = 0;
    for (double x : v) p.value.data()[i++] = static_cast<real>(x);
}

double tol() { return NFVI_REAL_IS_DOUBLE ? 1e-10 : 2e-5; }

}  // namespace

TEST_CASE("maxout takes the largest of each unit's pieces") {
    Rng rng(3);
    Mlp mlp("m", MlpShape{2, {2}, 1, Activation::Maxout, 3}, rng);
    REQUIRE(mlp.layers().size() == 4);
    CHECK(mlp.layers()[0].value.shape() == Shape{6, 2});  // 2 units × 3 pieces
    // Piece j of unit u: weight row u·3 + j.
    set_values(mlp.layers()[0], {1, 0, 0, 1, -1, -1, 2, 0, 0, 2, 0, 0});
    set_values(mlp.layers()[1], {0, 0, 0, 0, 0, 0.5});
    set_values(mlp.layers()[2], {1, -1});
    set_values(mlp.layers()[3], {0.25});
    Graph g;
    Tensor x(Shape{2, 2});
    x.at(0, 0) = 1, x.at(0, 1) = 3;   // unit 0: max(1, 3, −4) = 3; unit 1: max(2, 6, 0.5) = 6
    x.at(1, 0) = -2, x.at(1, 1) = -1; // unit 0: max(−2, −1, 3) = 3; unit 1: max(−4, −2, 0.5) = 0.5
    Var y = mlp.forward(g, g.input(x));
    REQUIRE(y.shape() == Shape{2, 1});
    CHECK(y.data()[0] == doctest::Approx(3 - 6 + 0.25));
    CHECK(y.data()[1] == doctest::Approx(3 - 0.5 + 0.25));
}

TEST_CASE("MLP weights start as torch.nn.Linear's: uniform within 1/sqrt(fan-in)") {
    Rng rng(1);
    Mlp mlp("m", MlpShape{100, {50}, 10, Activation::Relu, 2}, rng);
    double largest = 0, sum = 0;
    const Tensor& w = mlp.layers()[0].value;
    for (std::int64_t i = 0; i < w.numel(); ++i) {
        largest = std::max(largest, std::abs(double(w.data()[i])));
        sum += w.data()[i];
    }
    CHECK(largest <= 0.1);
    CHECK(largest > 0.099);
    CHECK(std::abs(sum / double(w.numel())) < 0.005);
    CHECK(mlp.num_values() == 100 * 50 + 50 + 50 * 10 + 10);
}

TEST_CASE("the ELBO of a tiny NF-VAE equals a hand computation, with log p(z_K)") {
    // X = 2, D = 1, no hidden layers, one planar layer: the encoder is one affine map 2 -> 5
    // emitting [μ, ρ, u, w, b]; the decoder is one affine map 1 -> 2.
    VaeShape s;
    s.data_dim = 2, s.latent = 1, s.hidden = {}, s.flow = "planar", s.layers = 1;
    Vae m(s, 1);
    REQUIRE(m.params().size() == 4);
    set_values(m.encoder().layers()[0], {0.3, -0.2, 0.1, 0.4, 0.5, 0.2, -0.7, 0.3, 1.1, -0.6});
    set_values(m.encoder().layers()[1], {0.1, -0.3, 0.8, 0.9, -0.2});
    set_values(m.decoder().layers()[0], {1.5, -2.0});
    set_values(m.decoder().layers()[1], {0.2, -0.1});
    const double x0 = 1, x1 = 0;

    Graph g;
    Tensor x(Shape{1, 2});
    x[0] = real(x0), x[1] = real(x1);
    Rng rng(42), copy = rng;
    VaeTerms t = vae_terms(g, m, g.input(x), rng, 1);
    real eps_r;
    copy.normal(&eps_r, 1);
    const double eps = eps_r;

    // By hand, in double.
    const double enc[5] = {0.3 * x0 - 0.2 * x1 + 0.1, 0.1 * x0 + 0.4 * x1 - 0.3, 0.5 * x0 + 0.2 * x1 + 0.8,
                           -0.7 * x0 + 0.3 * x1 + 0.9, 1.1 * x0 - 0.6 * x1 - 0.2};
    const double mu = enc[0], sigma = softplus_d(enc[1]), u = enc[2], w = enc[3], b = enc[4];
    const double z0 = mu + sigma * eps;
    const double wu = w * u, u_hat = u + (softplus_d(wu) - 1 - wu) * w / (w * w);
    const double h = std::tanh(w * z0 + b);
    const double z1 = z0 + u_hat * h;
    const double logdet = std::log(std::abs(1 + u_hat * w * (1 - h * h)));
    const double log_q0 = -0.5 * eps * eps - std::log(sigma) - 0.5 * kLog2Pi;
    const double log_pz1 = -0.5 * z1 * z1 - 0.5 * kLog2Pi;
    const double l0 = 1.5 * z1 + 0.2, l1 = -2.0 * z1 - 0.1;
    const double log_px = x0 * l0 - softplus_d(l0) + x1 * l1 - softplus_d(l1);
    const double elbo = log_px + log_pz1 - (log_q0 - logdet);

    CHECK(t.z.item() == doctest::Approx(z1).epsilon(tol()));
    CHECK(t.log_pz.item() == doctest::Approx(log_pz1).epsilon(tol()));
    CHECK(t.log_q.item() == doctest::Approx(log_q0 - logdet).epsilon(tol()));
    CHECK(t.log_px.item() == doctest::Approx(log_px).epsilon(tol()));
    CHECK(t.log_weight().item() == doctest::Approx(elbo).epsilon(tol()));
    CHECK(vae_loss(t, 1).item() == doctest::Approx(-elbo).epsilon(tol()));
    const double beta = 0.3;
    CHECK(vae_loss(t, real(beta)).item() ==
          doctest::Approx(-(beta * (log_px + log_pz1) - (log_q0 - logdet))).epsilon(tol()));
    // The flow moved z: the prior term at z0 differs, so swapping it in would fail above.
    const double log_pz0 = -0.5 * z0 * z0 - 0.5 * kLog2Pi;
    CHECK(std::abs(log_pz0 - log_pz1) > 0.05);
}

TEST_CASE("the decoder's output bias can start at the logits of the mean training pixel") {
    // Three 1x4 images: pixel 0 always ink, pixel 1 never, pixel 2 in two images (≥ 128 twice),
    // pixel 3 at 128, 127 and 255 (threshold counts 2 of 3; dynamic averages the bytes).
    cli::ImageSet set;
    set.count = 3, set.rows = 1, set.cols = 4;
    set.pixels = {255, 0, 200, 128, 255, 0, 130, 127, 255, 0, 10, 255};
    const std::vector<double> thr = cli::pixel_means(set, cli::Binarize::Threshold);
    const std::vector<double> dyn = cli::pixel_means(set, cli::Binarize::Dynamic);
    CHECK(thr == std::vector<double>{1, 0, 2.0 / 3, 2.0 / 3});
    CHECK(dyn[2] == doctest::Approx((200 + 130 + 10) / 765.0));
    CHECK(dyn[3] == doctest::Approx((128 + 127 + 255) / 765.0));

    VaeShape s;
    s.data_dim = 4, s.latent = 2, s.hidden = {8}, s.layers = 2;
    Vae m(s, 3), plain(s, 3);
    init_decoder_bias(m, thr);
    const Parameter& bias = m.decoder().layers().back();
    // 0 and 1 are kept 1e-3 away (finite logits), the rest is logit(2/3) = log 2.
    CHECK(bias.value[0] == doctest::Approx(std::log(999.0)).epsilon(1e-6));
    CHECK(bias.value[1] == doctest::Approx(-std::log(999.0)).epsilon(1e-6));
    CHECK(bias.value[2] == doctest::Approx(std::log(2.0)).epsilon(1e-6));
    CHECK(bias.value[3] == doctest::Approx(std::log(2.0)).epsilon(1e-6));
    // Only the bias changed, and before any update the model explains the images better:
    // log p(x|z) of the set rises from about 4·log ½ per image towards its entropy.
    CHECK(m.decoder().layers()[0].value[5] == plain.decoder().layers()[0].value[5]);
    Tensor x(Shape{3, 4});
    for (int i = 0; i < 12; ++i) x[i] = set.pixels[static_cast<std::size_t>(i)] >= 128 ? real(1) : real(0);
    auto mean_log_px = [&](Vae& model) {
        Graph g;
        Rng rng(5);
        VaeTerms t = vae_terms(g, model, g.input(x), rng, 64);
        double sum = 0;
        for (int r = 0; r < t.log_px.rows(); ++r) sum += t.log_px.data()[r];
        return sum / t.log_px.rows();
    };
    CHECK(mean_log_px(m) > mean_log_px(plain) + 1.0);
    CHECK_THROWS_AS(init_decoder_bias(m, std::vector<double>(5, 0.5)), std::invalid_argument);
}

TEST_CASE("S samples per point: rows grouped by data point, each its own ε") {
    VaeShape s;
    s.data_dim = 3, s.latent = 2, s.hidden = {4}, s.layers = 2;
    Vae m(s, 5);
    Graph g;
    Tensor x(Shape{2, 3});
    x[0] = 1, x[4] = 1;
    Rng rng(9);
    VaeTerms t = vae_terms(g, m, g.input(x), rng, 3);
    REQUIRE(t.z.shape() == Shape{6, 2});
    REQUIRE(t.log_px.shape() == Shape{6, 1});
    // Same point, different samples: different z.
    CHECK(t.z.data()[0] != t.z.data()[2]);
    // Rows 0..2 belong to x_0: with one sample per point and the same ε for row 0, the first
    // row is reproduced.
    Graph g1;
    Rng rng1(9);
    Tensor x0(Shape{1, 3});
    x0[0] = 1;
    VaeTerms t1 = vae_terms(g1, m, g1.input(x0), rng1, 1);
    CHECK(t1.log_weight().item() == doctest::Approx(double(t.log_weight().data()[0])).epsilon(tol()));
}

TEST_CASE("gradients through the whole NF-VAE (encoder, planar flow, decoder, ELBO)") {
    for (const char* flow : {"planar", "radial", "nice-perm"}) {
        CAPTURE(flow);
        VaeShape s;
        s.data_dim = 4, s.latent = 2, s.hidden = {3}, s.flow = flow, s.layers = 2;
        s.activation = Activation::Tanh;
        Vae m(s, 2);
        ParameterList ps = m.params();
        if (std::string(flow) == "nice-perm") CHECK(ps.back() == &m.flow_row());  // shared, learned
        Tensor x(Shape{3, 4});
        for (int i = 0; i < 12; ++i) x[i] = real(i % 3 == 0);
        // The tape's parameter gradients against central differences of the loss, with the
        // same ε at every evaluation.
        Graph g;
        auto loss_at = [&] {
            Graph h;
            Rng rng(11);
            return double(vae_loss(vae_terms(h, m, h.input(x), rng, 2), real(0.7)).item());
        };
        zero_grad(ps);
        {
            Rng rng(11);
            g.backward(vae_loss(vae_terms(g, m, g.input(x), rng, 2), real(0.7)));
        }
        const double hstep = NFVI_REAL_IS_DOUBLE ? 1e-6 : 3e-3;
        const double limit = NFVI_REAL_IS_DOUBLE ? 1e-5 : 3e-2;
        double worst = 0;
        for (Parameter* p : ps)
            for (std::int64_t i = 0; i < p->value.numel(); i += 1) {
                const real keep = p->value.data()[i];
                p->value.data()[i] = real(keep + hstep);
                const double up = loss_at();
                p->value.data()[i] = real(keep - hstep);
                const double down = loss_at();
                p->value.data()[i] = keep;
                const double numeric = (up - down) / (2 * hstep);
                const double analytic = p->grad.data()[i];
                const double err = std::abs(numeric - analytic) / std::max({std::abs(numeric), std::abs(analytic), 1e-2});
                worst = std::max(worst, err);
            }
        CHECK(worst < limit);
    }
}

namespace {

// log p(x) = log ∫ p(x|z) N(z; 0, I) dz by the midpoint rule on [−b, b]² (D = 2).
double log_px_quadrature(Vae& m, const Tensor& x, double box, int n) {
    const double h = 2 * box / n;
    Graph g;
    Var z = g.input(Shape{n * n, 2});
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            z.data()[2 * (i * n + j)] = real(-box + h * (j + 0.5));
            z.data()[2 * (i * n + j) + 1] = real(-box + h * (i + 0.5));
        }
    Var xr = repeat_rows(g.input(x), n * n);
    Var lj = bernoulli_logits_loglik(decode(g, m, z), xr) + standard_normal_logpdf(z);
    double top = -1e300, acc = 0;
    for (int k = 0; k < n * n; ++k) top = std::max(top, double(lj.data()[k]));
    for (int k = 0; k < n * n; ++k) acc += std::exp(double(lj.data()[k]) - top);
    return top + std::log(acc) + 2 * std::log(h);
}

Vae small_vae(int seed) {
    VaeShape s;
    s.data_dim = 6, s.latent = 2, s.hidden = {8}, s.flow = "planar", s.layers = 2;
    Vae m(s, std::uint64_t(seed));
    // A sharper decoder than the initial one, so p(z|x) is far from the prior.
    for (Parameter& p : m.decoder().layers())
        for (std::int64_t i = 0; i < p.value.numel(); ++i) p.value.data()[i] *= 4;
    return m;
}

}  // namespace

TEST_CASE("importance-sampled log p(x) converges to 2-D quadrature (K = 10^4)") {
    Vae m = small_vae(3);
    Tensor x(Shape{1, 6});
    for (int i : {0, 2, 3}) x[i] = 1;
    // Fit q(z|x) to this x first (a random encoder's q misses most of the posterior's mass,
    // and importance sampling from it converges slowly); the decoder stays as it is.
    Adam opt(m.encoder().params(), AdamOptions{.lr = real(1e-2)});
    Rng train(1);
    Graph g;
    double first = 0, last = 0;
    for (int step = 0; step < 400; ++step) {
        g.clear();
        opt.zero_grad();
        Var loss = vae_loss(vae_terms(g, m, g.input(x), train, 16), 1);
        g.backward(loss);
        opt.step();
        (step == 0 ? first : last) = loss.item();
    }
    CHECK(last < first);
    const double exact = log_px_quadrature(m, x, 7, 700);
    Rng rng(21);
    double nll[1];
    importance_nll(m, x.data(), 1, 10000, rng, nll, 4096);  // several pieces of samples
    CHECK(std::abs(-nll[0] - exact) < 0.05);
    // log p(x) ≥ ELBO, with the ELBO itself from 20000 samples (± 0.01).
    Tensor many(Shape{20000, 6});
    for (int r = 0; r < 20000; ++r)
        for (int c = 0; c < 6; ++c) many.at(r, c) = x[c];
    Rng er(22);
    const VaeEvaluation e = evaluate_elbo(m, many.data(), 20000, er, 5000);
    CHECK(e.elbo < exact);
    CHECK(e.elbo > exact - 1);  // q was fitted: the gap is small but not zero
}

TEST_CASE("on average the −log p(x) estimate is below −ELBO, and chunking does not change it") {
    Vae m = small_vae(4);
    const int n = 20;
    Tensor x(Shape{n, 6});
    Rng data(5);
    std::vector<real> p(static_cast<std::size_t>(x.numel()), real(0.4));
    data.bernoulli(x.data(), p.data(), x.numel());
    Rng r1(8);
    VaeEvaluation e = evaluate_elbo(m, x.data(), n, r1, 7);
    CHECK(e.points == n);
    CHECK(e.kl == doctest::Approx(e.log_px - e.elbo));
    std::vector<double> a(n), b(n);
    Rng r2(9), r3(9);
    importance_nll(m, x.data(), n, 500, r2, a, 100000);  // all at once
    importance_nll(m, x.data(), n, 500, r3, b, 1000);    // 2 points per piece
    double mean_nll = 0;
    for (int i = 0; i < n; ++i) {
        mean_nll += a[std::size_t(i)] / n;
        CHECK(std::isfinite(a[std::size_t(i)]));
    }
    CHECK(mean_nll < -e.elbo);
    // Same draws in the same order per point only when the pieces hold whole points; the
    // estimates agree to Monte-Carlo precision either way.
    for (int i = 0; i < n; ++i) CHECK(std::abs(a[std::size_t(i)] - b[std::size_t(i)]) < 0.3);
}
