// `nfvi demo`: the smallest variational inference there is, to show the engine working.
//
// Fits q(z) = N(μ, diag σ²) to a correlated 2-D Gaussian target p(z) ∝ exp(−U(z)) by
// minimizing the Monte-Carlo free energy E_q[log q(z) + U(z)] with the reparameterization
// z = μ + σ·ε. Its optimum has KL(q‖p) = free energy + log Z, printed as training goes.
#include <cmath>
#include <cstdio>
#include <numbers>

#include "autodiff/autodiff.h"
#include "src/args.h"
#include "src/demo.h"

namespace nfvi::cli {

int run_demo(const DemoOptions& o) {
    set_num_threads(o.threads);
    // Target: precision matrix P = [[2, 1.2], [1.2, 1]]; U(z) = ½ zᵀPz.
    const double p11 = 2, p12 = 1.2, p22 = 1;
    const double log_z = std::log(2 * std::numbers::pi) - 0.5 * std::log(p11 * p22 - p12 * p12);
    // Best diagonal fit (mean-field): σᵢ² = 1/Pᵢᵢ, so KL* = ½ log(P11 P22 / det P).
    const double best_kl = 0.5 * std::log(p11 * p22 / (p11 * p22 - p12 * p12));

    Parameter mu("mu", Tensor(Shape{1, 2}, {1.0, -1.0}));
    Parameter rho("rho", Shape{1, 2});  // σ = softplus(ρ)
    Adam opt({&mu, &rho}, AdamOptions{.lr = static_cast<real>(o.lr)});
    Rng rng(o.seed);
    Graph g;
    const int N = o.batch;
    std::printf("nfvi demo: fitting a diagonal Gaussian to a correlated 2-D Gaussian (best KL %.4f)\n",
                best_kl);
    double kl = 0;
    for (int step = 1; step <= o.steps; ++step) {
        g.clear();
        opt.zero_grad();
        Var eps = g.input(Shape{N, 2});
        rng.normal(eps.data(), eps.value().numel());
        Var m = g.param(mu), sigma = softplus(g.param(rho));
        Var z = m + sigma * eps;                                   // [N,2]
        Var z1 = slice_cols(z, 0, 1), z2 = slice_cols(z, 1, 2);    // [N,1]
        Var u = real(0.5 * p11) * square(z1) + real(p12) * (z1 * z2) + real(0.5 * p22) * square(z2);
        // log q(z) = −½ε² − log σ − ½ log 2π, per dimension.
        Var log_q = sum(real(-0.5) * square(eps) - log(sigma), 1) - real(std::log(2 * std::numbers::pi));
        Var loss = mean(log_q + u);
        g.backward(loss);
        opt.step();
        kl = loss.item() + log_z;
        if (step % o.print_every == 0 || step == o.steps)
            std::printf("step %5d  free energy %8.4f  KL %7.4f\n", step, loss.item(), kl);
    }
    std::printf("learned mu = (%.3f, %.3f), sigma = (%.3f, %.3f); optimum sigma = (%.3f, %.3f)\n",
                mu.value[0], mu.value[1], std::log1p(std::exp(rho.value[0])),
                std::log1p(std::exp(rho.value[1])), 1 / std::sqrt(p11), 1 / std::sqrt(p22));
    return 0;
}

int demo_command(int argc, char** argv) {
    Args a("demo", argc, argv, 2, {"--steps", "--batch", "--lr", "--seed", "--threads"});
    DemoOptions o;
    o.steps = static_cast<int>(a.integer("--steps", o.steps, 1, 100'000'000));
    o.batch = static_cast<int>(a.integer("--batch", o.batch, 1, 10'000'000));
    o.lr = a.positive("--lr", o.lr);
    o.seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer("--threads", o.threads, 1, 256));
    return run_demo(o);
}

}  // namespace nfvi::cli
