#include "flows/gaussian.h"

#include <cmath>
#include <numbers>

#include "autodiff/ops.h"

namespace nfvi {

namespace {
const double kHalfLog2Pi = 0.5 * std::log(2 * std::numbers::pi);
}

GaussianSample diag_gaussian_sample(Var mu, Var sigma, Var eps) {
    const int D = eps.cols();
    Var z = mu + sigma * eps;
    // log q = Σ_d (−½ε² − log σ) − (D/2)·log 2π
    Var log_q = sum(real(-0.5) * square(eps), 1) - sum(log(sigma), 1) - real(D * kHalfLog2Pi);
    return {z, log_q};
}

Var standard_normal_logpdf(Var z) {
    return sum(real(-0.5) * square(z), 1) - real(z.cols() * kHalfLog2Pi);
}

DiagGaussianBase::DiagGaussianBase(int dim)
    : mu("base.mu", Shape{1, dim}), rho("base.rho", Tensor::full(Shape{1, dim}, static_cast<real>(std::log(std::exp(1.0) - 1)))) {}

GaussianSample DiagGaussianBase::sample(Graph& g, Var eps) {
    return diag_gaussian_sample(g.param(mu), softplus(g.param(rho)), eps);
}

double DiagGaussianBase::sigma(int d) const {
    double r = rho.value[d];
    return std::max(r, 0.0) + std::log1p(std::exp(-std::abs(r)));
}

}  // namespace nfvi
