#include "models/vi.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autodiff/ops.h"

namespace nfvi {

FlowModel::FlowModel(std::string_view kind, int dim, int layers, std::uint64_t seed)
    : base(dim), flow(make_flow(kind, dim, layers, seed)), flow_params("flow", Shape{1, flow.num_params()}) {
    Rng rng(seed, 0x464c4f57);  // "FLOW": its own stream, apart from the training draws
    flow.init(std::span<real>(flow_params.value.data(), static_cast<std::size_t>(flow.num_params())), rng);
}

FlowSample sample_flow(Graph& g, FlowModel& m, Rng& rng, int n, std::vector<Var>* trace) {
    Var eps = g.input(Shape{n, m.flow.dim()});
    rng.normal(eps.data(), eps.value().numel());
    GaussianSample s0 = m.base.sample(g, eps);
    FlowOutput out = m.flow.forward(s0.z, g.param(m.flow_params), trace);
    return {out.z, s0.log_q - out.logdet, s0.z};
}

Var free_energy(Graph& g, FlowModel& m, const EnergyFn& energy, Rng& rng, int n, real beta) {
    FlowSample s = sample_flow(g, m, rng, n);
    Var u = energy(s.z);
    return mean(beta == 1 ? s.log_q + u : s.log_q + beta * u);
}

double anneal_beta(std::int64_t step, std::int64_t anneal) {
    if (anneal <= 0) return 1;
    return std::min(1.0, 0.01 + static_cast<double>(step) / static_cast<double>(anneal));
}

double log_z_quadrature(const EnergyFn& energy, double box, int n) {
    const double h = 2 * box / n;
    const int rows_per_chunk = std::max(1, 200000 / n);
    Graph g;
    // Running log-sum-exp of −U over all cells, in double.
    double m = -std::numeric_limits<double>::infinity(), acc = 0;
    for (int r0 = 0; r0 < n; r0 += rows_per_chunk) {
        const int rows = std::min(rows_per_chunk, n - r0);
        g.clear();
        Var z = g.input(Shape{rows * n, 2});
        real* zp = z.data();
        for (int i = 0; i < rows; ++i)
            for (int j = 0; j < n; ++j) {
                std::int64_t k = static_cast<std::int64_t>(i) * n + j;
                zp[2 * k] = static_cast<real>(-box + h * (j + 0.5));
                zp[2 * k + 1] = static_cast<real>(-box + h * (r0 + i + 0.5));
            }
        Var u = energy(z);
        const real* up = u.data();
        for (std::int64_t k = 0; k < u.value().numel(); ++k) {
            double v = -static_cast<double>(up[k]);
            if (!(v > -std::numeric_limits<double>::infinity())) continue;
            if (v > m) {
                acc = acc * std::exp(m - v) + 1;
                m = v;
            } else {
                acc += std::exp(v - m);
            }
        }
    }
    return m + std::log(acc) + 2 * std::log(h);
}

FreeEnergyEstimate estimate_free_energy(FlowModel& m, const EnergyFn& energy, Rng& rng,
                                        std::int64_t samples, int chunk) {
    return estimate_in_chunks(samples, chunk, [&](Graph& g, int n) {
        FlowSample s = sample_flow(g, m, rng, n);
        return s.log_q + energy(s.z);
    });
}

}  // namespace nfvi
