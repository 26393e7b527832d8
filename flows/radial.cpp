#include "flows/radial.h"

#include <cmath>

#include "autodiff/ops.h"

namespace nfvi {

namespace {
double softplus_d(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
}  // namespace

void RadialFlow::init(std::span<real> row, Rng& rng) const {
    // z0 near the origin, α = softplus(0) ≈ 0.69 and β = −α + softplus(α̂ + small) ≈ small.
    rng.normal(row.data(), dim_ + 1);
    for (int i = 0; i < dim_; ++i) row[static_cast<std::size_t>(i)] *= static_cast<real>(init_scale_);
    real noise = row[static_cast<std::size_t>(dim_)] * static_cast<real>(init_scale_);
    row[static_cast<std::size_t>(dim_)] = 0;              // α̂
    row[static_cast<std::size_t>(dim_ + 1)] = noise;      // β̂: β = softplus(β̂) − softplus(0) ≈ β̂/2
}

FlowOutput RadialFlow::forward(Var z, Var p) const {
    const int D = dim_;
    Var z0 = slice_cols(p, 0, D);                        // [R,D]
    Var alpha = softplus(slice_cols(p, D, D + 1));       // [R,1], > 0
    Var beta = softplus(slice_cols(p, D + 1, D + 2)) - alpha;  // [R,1], ≥ −α
    Var diff = z - z0;                                   // [N,D]
    Var r = sqrt(sum(square(diff), 1));                  // [N,1]
    Var h = pow(alpha + r, -1);                          // [N,1]
    Var bh = beta * h;
    Var z_out = z + bh * diff;
    // 1 + βh + βh′r = 1 + βα/(α + r)²
    Var logdet = real(D - 1) * log(real(1) + bh) + log(real(1) + beta * alpha * square(h));
    return {z_out, logdet};
}

std::vector<NamedValues> RadialFlow::describe(std::span<const real> row) const {
    const int D = dim_;
    std::vector<double> z0(row.begin(), row.begin() + D);
    double alpha = softplus_d(row[static_cast<std::size_t>(D)]);
    double beta = -alpha + softplus_d(row[static_cast<std::size_t>(D + 1)]);
    return {{"z0", {D}, z0}, {"alpha", {1}, {alpha}}, {"beta", {1}, {beta}}};
}

}  // namespace nfvi
