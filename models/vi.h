// Unconditional variational inference with a flow (Rezende & Mohamed 2015, section 6.1).
//
// q_K is a learned diagonal Gaussian q0 pushed through a flow stack whose raw parameters are
// one learned row. The loss is the Monte-Carlo free energy
//     F = E_q[log q_K(z_K) + β_t·U(z_K)],   log q_K(z_K) = log q0(z0) − Σ_k log|det J_k|,
// with β_t = min(1, 0.01 + t/anneal) when annealing. At β = 1, KL(q‖p) = F + log Z ≥ 0;
// a single batch's estimate is noisy and can come out negative.
//
// Legend: N batch (samples), D latent dimension (2 for the potentials), P flow parameters.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/optim.h"
#include "flows/gaussian.h"
#include "flows/stack.h"
#include "models/targets.h"

namespace nfvi {

struct FlowModel {
    DiagGaussianBase base;
    FlowStack flow;
    Parameter flow_params;  // [1,P]

    // A flow of `layers` layers of `kind`, initialized near the identity from `seed`.
    FlowModel(std::string_view kind, int dim, int layers, std::uint64_t seed);
    ParameterList params() { return {&base.mu, &base.rho, &flow_params}; }
};

struct FlowSample {
    Var z;       // z_K [N,D]
    Var log_q;   // log q_K(z_K) [N,1]
    Var z0;      // [N,D]
};

// Draws N samples of q_K on g (ε from rng). With `trace`, also z after every layer.
FlowSample sample_flow(Graph& g, FlowModel& m, Rng& rng, int n, std::vector<Var>* trace = nullptr);

// The loss of one step: mean over N samples of log q_K(z_K) + β·U(z_K).
Var free_energy(Graph& g, FlowModel& m, const EnergyFn& energy, Rng& rng, int n, real beta);

double anneal_beta(std::int64_t step, std::int64_t anneal);  // step counts from 0

// log ∫ exp(−U) over [−box, box]² by the midpoint rule on an n × n grid (log-sum-exp in double).
double log_z_quadrature(const EnergyFn& energy, double box, int n);

struct FreeEnergyEstimate {
    double mean = 0;      // E_q[log q + U] at β = 1
    double std_error = 0; // its Monte-Carlo standard error
    std::int64_t samples = 0;
};
// E_q[log q_K + U] from `samples` fresh samples, in chunks (no gradients kept).
FreeEnergyEstimate estimate_free_energy(FlowModel& m, const EnergyFn& energy, Rng& rng,
                                        std::int64_t samples, int chunk = 10000);

// The mean and its standard error of `samples` values that batch(g, n) returns as [n,1],
// n ≤ chunk at a time on one reused tape: the Monte-Carlo part of every free-energy estimate.
// std::invalid_argument unless samples ≥ 1 and chunk ≥ 1.
template <class Batch>
FreeEnergyEstimate estimate_in_chunks(std::int64_t samples, int chunk, Batch&& batch) {
    if (samples < 1 || chunk < 1)
        throw std::invalid_argument("nfvi: a free-energy estimate needs samples >= 1 and chunk >= 1");
    Graph g;
    double sum = 0, sum2 = 0;
    for (std::int64_t done = 0; done < samples;) {
        const int n = static_cast<int>(std::min<std::int64_t>(chunk, samples - done));
        g.clear();
        const Var v = batch(g, n);
        for (int i = 0; i < n; ++i) {
            const double x = v.data()[i];
            sum += x;
            sum2 += x * x;
        }
        done += n;
    }
    FreeEnergyEstimate e;
    e.samples = samples;
    e.mean = sum / static_cast<double>(samples);
    const double var = std::max(0.0, sum2 / static_cast<double>(samples) - e.mean * e.mean);
    e.std_error = std::sqrt(var / static_cast<double>(samples));
    return e;
}

}  // namespace nfvi
