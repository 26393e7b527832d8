// Diagonal Gaussian base distributions q0 and the standard normal density.
//
// Legend: N batch, D latent dimension.
#pragma once

#include "autodiff/graph.h"
#include "autodiff/parameter.h"

namespace nfvi {

struct GaussianSample {
    Var z;      // [N,D] = μ + σ·ε
    Var log_q;  // [N,1] = log N(z; μ, σ²)
};

// Reparameterized sample: μ, σ [1,D] or [N,D], ε [N,D] standard normal.
GaussianSample diag_gaussian_sample(Var mu, Var sigma, Var eps);
// log N(z; 0, I) per row [N,1].
Var standard_normal_logpdf(Var z);

// A learned diagonal Gaussian: μ and ρ [1,D], σ = softplus(ρ). Starts at N(0, I).
struct DiagGaussianBase {
    Parameter mu, rho;
    explicit DiagGaussianBase(int dim);
    ParameterList params() { return {&mu, &rho}; }
    GaussianSample sample(Graph& g, Var eps);  // eps [N,D]
    double sigma(int d) const;                 // σ_d, for reports
};

}  // namespace nfvi
