// A deep latent Gaussian model whose approximate posterior is a normalizing flow
// (Rezende & Mohamed 2015, section 6.2): the NF-VAE.
//
//   encoder   x [N,X] -> [μ0 (D), ρ0 (D), flow parameters (P)] per data point, σ0 = softplus(ρ0)
//   q0        z0 = μ0 + σ0·ε, ε ~ N(0, I)
//   flow      z_K = f_K ∘ … ∘ f_1(z0), log q_K(z_K|x) = log q0(z0|x) − Σ_k log|det J_k|
//   decoder   z_K [.,D] -> Bernoulli logits [.,X];  prior p(z) = N(0, I)
//
// Planar and radial flows are amortized: the encoder emits each data point's parameters. A
// NICE layer's coupling network has thousands of parameters, so for NICE the flow's parameters
// are one learned row shared by every data point, and only q0 is amortized.
//
// With S samples per data point the rows of every per-sample tensor are grouped by data point:
// row n·S + s is sample s of x_n.
//
// Legend: N data points, S samples each, M = N·S rows, X data dimension (784 for MNIST),
// D latent dimension, P flow parameters per data point, K flow layers.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "autodiff/graph.h"
#include "autodiff/parameter.h"
#include "autodiff/rng.h"
#include "flows/stack.h"
#include "models/mlp.h"

namespace nfvi {

struct VaeShape {
    int data_dim = 784;                // X
    int latent = 32;                   // D
    std::vector<int> hidden{512, 512}; // encoder's hidden layers; the decoder mirrors them
    Activation activation = Activation::Elu;
    int pieces = 2;                    // maxout pieces
    std::string flow = "planar";       // a kind from flow_kinds()
    int layers = 16;                   // K (0: a plain diagonal-Gaussian VAE)
};

// Whether `kind`'s parameters are emitted per data point (planar, radial) or shared (NICE).
bool flow_is_amortized(std::string_view kind);

class Vae {
public:
    // Throws std::invalid_argument for an unknown flow or a size < 1 (layers may be 0).
    Vae(VaeShape shape, std::uint64_t seed);

    const VaeShape& shape() const { return shape_; }
    FlowStack& flow() { return flow_; }
    Mlp& encoder() { return encoder_; }
    Mlp& decoder() { return decoder_; }
    bool amortized() const { return amortized_; }
    Parameter& flow_row() { return flow_row_; }  // the shared flow row [1,P] (NICE); empty if amortized
    ParameterList params();  // encoder's, decoder's, then the shared flow row (NICE only)
    std::int64_t num_values();

private:
    VaeShape shape_;
    FlowStack flow_;
    bool amortized_;
    Mlp encoder_, decoder_;
    Parameter flow_row_;  // [1,P] for a shared flow; empty when amortized
};

// Per-row terms for S samples of each of N data points. Every Var is [M,1] unless said.
struct VaeTerms {
    Var log_px;  // log p(x|z_K)
    Var log_pz;  // log p(z_K)
    Var log_q;   // log q_K(z_K|x) = log q0(z0|x) − Σ_k log|det J_k|
    Var z;       // z_K [M,D]
    Var logits;  // decoder output [M,X]
    // log p(x, z_K) − log q_K(z_K|x): a one-sample ELBO, and an importance log-weight.
    Var log_weight() const;
};

// Sets the decoder's output bias to the logits of `pixel_means` (the mean of each binarized
// pixel over the training images, kept within [1e-3, 1 − 1e-3]), so that before any update the
// decoder already predicts the average image: the first updates then learn digits instead of
// the background. (A common initialization of Bernoulli decoders; with it the reference preset
// ends its first MNIST epoch some 30 nats higher.) std::invalid_argument for a size mismatch.
void init_decoder_bias(Vae& m, std::span<const double> pixel_means);

// x [N,X] of 0/1 values; ε drawn from rng ([M,D] normals, row by row).
VaeTerms vae_terms(Graph& g, Vae& m, Var x, Rng& rng, int samples);

// The loss of one step: −mean over rows of β·(log p(x|z_K) + log p(z_K)) − log q_K(z_K|x)
// (β = 1: −ELBO). One scalar [1,1].
Var vae_loss(const VaeTerms& t, real beta);

// Decoder logits for z [M,D] (for sample grids).
Var decode(Graph& g, Vae& m, Var z);

struct VaeEvaluation {
    double elbo = 0;         // mean one-sample ELBO
    double log_px = 0;       // its reconstruction part, mean log p(x|z_K)
    double kl = 0;           // its KL part, mean log q_K(z_K|x) − log p(z_K) (= log_px − elbo)
    std::int64_t points = 0;
};
// The one-sample ELBO over `n` data points x [n,X] in chunks of `chunk` points, no gradients.
VaeEvaluation evaluate_elbo(Vae& m, const real* x, int n, Rng& rng, int chunk = 1000);

// Importance-sampled −log p(x) for each of n data points x [n,X], with `samples` (K) draws of
// q_K(z|x): −(logsumexp_k log w_k − log K), log w_k = log p(x, z_k) − log q_K(z_k|x). The
// work goes in pieces of at most `chunk_rows` decoder rows, so K = 5000 fits in memory; the
// log-sum-exp runs in double. Writes out[0..n).
void importance_nll(Vae& m, const real* x, int n, int samples, Rng& rng, std::span<double> out,
                    int chunk_rows = 8192);

}  // namespace nfvi
