// Radial flow (Rezende & Mohamed 2015, eq. 14):
//   f(z) = z + β·h(α, r)·(z − z0),  r = ‖z − z0‖,  h = 1/(α + r),
//   log|det J| = (D − 1)·log(1 + βh) + log(1 + βh + βh′r),  h′ = −1/(α + r)²,
// with α = softplus(α̂) > 0 and β = −α + softplus(β̂) ≥ −α, which keeps f invertible.
// Raw row: [z0 (D), α̂ (1), β̂ (1)], P = D + 2.
#pragma once

#include "flows/flow.h"

namespace nfvi {

class RadialFlow : public FlowLayer {
public:
    explicit RadialFlow(int dim, double init_scale = 0.1) : dim_(dim), init_scale_(init_scale) {}
    std::string kind() const override { return "radial"; }
    int dim() const override { return dim_; }
    int num_params() const override { return dim_ + 2; }
    void init(std::span<real> row, Rng& rng) const override;
    FlowOutput forward(Var z, Var params) const override;
    std::vector<NamedValues> describe(std::span<const real> row) const override;

private:
    int dim_;
    double init_scale_;
};

}  // namespace nfvi
