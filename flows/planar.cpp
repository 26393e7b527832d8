#include "flows/planar.h"

#include <cmath>

#include "autodiff/ops.h"

namespace nfvi {

void PlanarFlow::init(std::span<real> row, Rng& rng) const {
    // u, w ~ N(0, s²), b = 0: small, signed, and not degenerate (‖w‖ > 0).
    rng.normal(row.data(), 2 * dim_);
    for (int i = 0; i < 2 * dim_; ++i) row[static_cast<std::size_t>(i)] *= static_cast<real>(init_scale_);
    row[static_cast<std::size_t>(2 * dim_)] = 0;
}

FlowOutput PlanarFlow::forward(Var z, Var p) const {
    Var y = planar_layer(z, p);  // [N,D+1]: z' and log|det J|, one fused op
    return {slice_cols(y, 0, dim_), slice_cols(y, dim_, dim_ + 1)};
}

FlowOutput planar_forward_composed(Var z, Var p) {
    const int D = z.cols();
    Var u = slice_cols(p, 0, D);          // [R,D], R = 1 or N
    Var w = slice_cols(p, D, 2 * D);      // [R,D]
    Var b = slice_cols(p, 2 * D, 2 * D + 1);  // [R,1]
    Var wu = sum(w * u, 1);               // [R,1]
    Var sp = softplus(wu);                // 1 + wᵀû > 0
    Var m = sp - real(1);                 // wᵀû
    Var u_hat = u + ((m - wu) / sum(square(w), 1)) * w;  // [R,D]
    Var h = tanh(sum(z * w, 1) + b);      // [N,1]
    Var z_out = z + h * u_hat;            // [N,D]
    // 1 + ûᵀψ = 1 + (1 − h²)·wᵀû, written as sp·(1 − h²) + h²: a sum of non-negative terms,
    // so it stays positive where −1 + softplus(wᵀu) would round to −1.
    Var h2 = square(h);
    Var logdet = log(sp * (real(1) - h2) + h2);
    return {z_out, logdet};
}

std::vector<NamedValues> PlanarFlow::describe(std::span<const real> row) const {
    const int D = dim_;
    std::vector<double> u(row.begin(), row.begin() + D), w(row.begin() + D, row.begin() + 2 * D);
    double wu = 0, ww = 0;
    for (int i = 0; i < D; ++i) {
        wu += w[static_cast<std::size_t>(i)] * u[static_cast<std::size_t>(i)];
        ww += w[static_cast<std::size_t>(i)] * w[static_cast<std::size_t>(i)];
    }
    double m = -1 + std::max(wu, 0.0) + std::log1p(std::exp(-std::abs(wu)));
    std::vector<double> u_hat(static_cast<std::size_t>(D));
    for (std::size_t i = 0; i < u_hat.size(); ++i) u_hat[i] = u[i] + (m - wu) * w[i] / ww;
    return {{"w", {D}, w}, {"u_hat", {D}, u_hat}, {"b", {1}, {static_cast<double>(row[static_cast<std::size_t>(2 * D)])}}};
}

}  // namespace nfvi
