// Planar flow (Rezende & Mohamed 2015, eq. 10-12):
//   f(z) = z + û·tanh(wᵀz + b),   log|det J| = log|1 + (1 − tanh²(wᵀz + b))·wᵀû|,
// with û = u + (m(wᵀu) − wᵀu)·w/‖w‖², m(x) = −1 + softplus(x), so that wᵀû = m(wᵀu) > −1
// and f is invertible. The log-det is computed as log(softplus(wᵀu)·(1 − h²) + h²), h the
// tanh, which is the same value but never rounds to log 0 for very negative wᵀu (it can only
// underflow where softplus(wᵀu) does: wᵀu below about −100 in float).
// Raw row: [u (D), w (D), b (1)], P = 2D + 1.
#pragma once

#include "flows/flow.h"

namespace nfvi {

class PlanarFlow : public FlowLayer {
public:
    explicit PlanarFlow(int dim, double init_scale = 0.1) : dim_(dim), init_scale_(init_scale) {}
    std::string kind() const override { return "planar"; }
    int dim() const override { return dim_; }
    int num_params() const override { return 2 * dim_ + 1; }
    void init(std::span<real> row, Rng& rng) const override;
    FlowOutput forward(Var z, Var params) const override;
    std::vector<NamedValues> describe(std::span<const real> row) const override;

private:
    int dim_;
    double init_scale_;
};

// The same layer written with elementary tape ops: the slow, obvious version that tests
// compare the fused op (autodiff's planar_layer) against.
FlowOutput planar_forward_composed(Var z, Var params);

}  // namespace nfvi
