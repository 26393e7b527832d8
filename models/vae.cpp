#include "models/vae.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "autodiff/ops.h"
#include "flows/gaussian.h"

namespace nfvi {

bool flow_is_amortized(std::string_view kind) { return kind == "planar" || kind == "radial"; }

namespace {

MlpShape encoder_shape(const VaeShape& s, int flow_outputs) {
    return {s.data_dim, s.hidden, 2 * s.latent + flow_outputs, s.activation, s.pieces};
}

MlpShape decoder_shape(const VaeShape& s) {
    std::vector<int> mirrored(s.hidden.rbegin(), s.hidden.rend());
    return {s.latent, mirrored, s.data_dim, s.activation, s.pieces};
}

FlowStack checked_flow(const VaeShape& s, std::uint64_t seed) {
    if (s.data_dim < 1 || s.latent < 1 || s.layers < 0)
        throw std::invalid_argument("nfvi: the VAE needs data and latent dimensions >= 1 and layers >= 0");
    return make_flow(s.flow, s.latent, s.layers, seed);
}

}  // namespace

Vae::Vae(VaeShape shape, std::uint64_t seed)
    : shape_(std::move(shape)),
      flow_(checked_flow(shape_, seed)),
      amortized_(flow_is_amortized(shape_.flow)),
      encoder_([&] {
          Rng rng(seed, 0x454e43);  // "ENC"
          return Mlp("encoder", encoder_shape(shape_, amortized_ ? flow_.num_params() : 0), rng);
      }()),
      decoder_([&] {
          Rng rng(seed, 0x444543);  // "DEC"
          return Mlp("decoder", decoder_shape(shape_), rng);
      }()) {
    if (!amortized_ && flow_.num_params() > 0) {
        flow_row_ = Parameter("flow", Shape{1, flow_.num_params()});
        Rng rng(seed, 0x464c4f57);  // "FLOW"
        flow_.init(std::span<real>(flow_row_.value.data(), static_cast<std::size_t>(flow_.num_params())), rng);
    }
}

ParameterList Vae::params() {
    ParameterList ps = encoder_.params();
    for (Parameter* p : decoder_.params()) ps.push_back(p);
    if (!amortized_ && flow_.num_params() > 0) ps.push_back(&flow_row_);
    return ps;
}

std::int64_t Vae::num_values() {
    std::int64_t n = 0;
    for (Parameter* p : params()) n += p->value.numel();
    return n;
}

void init_decoder_bias(Vae& m, std::span<const double> pixel_means) {
    Parameter& bias = m.decoder().layers().back();  // [1,X]
    if (static_cast<std::int64_t>(pixel_means.size()) != bias.value.numel())
        throw std::invalid_argument("nfvi: init_decoder_bias got " + std::to_string(pixel_means.size()) +
                                    " pixel means for a decoder of " + std::to_string(bias.value.numel()) + " outputs");
    for (std::size_t j = 0; j < pixel_means.size(); ++j) {
        const double p = std::clamp(pixel_means[j], 1e-3, 1 - 1e-3);
        bias.value.data()[j] = static_cast<real>(std::log(p / (1 - p)));
    }
}

Var VaeTerms::log_weight() const { return log_px + log_pz - log_q; }

VaeTerms vae_terms(Graph& g, Vae& m, Var x, Rng& rng, int samples) {
    const int N = x.rows(), D = m.shape().latent, S = samples;
    if (S < 1) throw std::invalid_argument("nfvi: the ELBO needs at least 1 sample per data point");
    if (x.cols() != m.shape().data_dim)
        throw std::invalid_argument("nfvi: the VAE expects data [N," + std::to_string(m.shape().data_dim) +
                                    "], got " + x.shape().str());
    Var enc = m.encoder().forward(g, x);  // [N, 2D + P]
    if (S > 1) {
        enc = repeat_rows(enc, S);  // [M, 2D + P]
        x = repeat_rows(x, S);      // [M,X]
    }
    const int M = N * S;
    Var eps = g.input(Shape{M, D});
    rng.normal(eps.data(), eps.value().numel());
    GaussianSample s0 = diag_gaussian_sample(slice_cols(enc, 0, D), softplus(slice_cols(enc, D, 2 * D)), eps);
    Var z = s0.z, log_q = s0.log_q;
    FlowStack& flow = m.flow();
    if (flow.size() > 0) {
        const int P = flow.num_params();
        Var params = m.amortized() ? slice_cols(enc, 2 * D, 2 * D + P) : g.param(m.flow_row());
        FlowOutput f = flow.forward(z, params);
        z = f.z;
        log_q = log_q - f.logdet;
    }
    Var logits = m.decoder().forward(g, z);
    return {bernoulli_logits_loglik(logits, x), standard_normal_logpdf(z), log_q, z, logits};
}

Var vae_loss(const VaeTerms& t, real beta) {
    if (beta == 1) return -mean(t.log_weight());
    return -mean(beta * (t.log_px + t.log_pz) - t.log_q);
}

Var decode(Graph& g, Vae& m, Var z) { return m.decoder().forward(g, z); }

VaeEvaluation evaluate_elbo(Vae& m, const real* x, int n, Rng& rng, int chunk) {
    const int X = m.shape().data_dim;
    Graph g;
    double elbo = 0, log_px = 0;
    for (int i0 = 0; i0 < n; i0 += chunk) {
        const int b = std::min(chunk, n - i0);
        g.clear();
        Var xb = g.input(TensorRef{const_cast<real*>(x + static_cast<std::int64_t>(i0) * X), Shape{b, X}});
        VaeTerms t = vae_terms(g, m, xb, rng, 1);
        Var w = t.log_weight();
        for (int i = 0; i < b; ++i) {
            elbo += w.data()[i];
            log_px += t.log_px.data()[i];
        }
    }
    VaeEvaluation e;
    e.points = n;
    e.elbo = elbo / std::max(n, 1);
    e.log_px = log_px / std::max(n, 1);
    e.kl = e.log_px - e.elbo;
    return e;
}

void importance_nll(Vae& m, const real* x, int n, int samples, Rng& rng, std::span<double> out,
                    int chunk_rows) {
    if (samples < 1) throw std::invalid_argument("nfvi: importance sampling needs at least 1 sample");
    if (static_cast<int>(out.size()) < n) throw std::invalid_argument("nfvi: importance_nll: output too small");
    const int X = m.shape().data_dim;
    // Samples per piece, and data points per piece when all of a point's samples fit.
    const int s_chunk = std::min(samples, std::max(1, chunk_rows));
    const int p_chunk = std::max(1, chunk_rows / s_chunk);
    const double ninf = -std::numeric_limits<double>::infinity();
    std::vector<double> top(static_cast<std::size_t>(p_chunk)), acc(static_cast<std::size_t>(p_chunk));
    Graph g;
    for (int i0 = 0; i0 < n; i0 += p_chunk) {
        const int b = std::min(p_chunk, n - i0);
        std::fill(top.begin(), top.end(), ninf);
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int k0 = 0; k0 < samples; k0 += s_chunk) {
            const int s = std::min(s_chunk, samples - k0);
            g.clear();
            Var xb = g.input(TensorRef{const_cast<real*>(x + static_cast<std::int64_t>(i0) * X), Shape{b, X}});
            Var w = vae_terms(g, m, xb, rng, s).log_weight();  // [b·s,1]
            // Running log-sum-exp per data point: Σ exp(w) = exp(top)·acc.
            for (int i = 0; i < b; ++i)
                for (int j = 0; j < s; ++j) {
                    const double v = w.data()[static_cast<std::int64_t>(i) * s + j];
                    if (v == ninf) continue;  // a weight of 0 adds nothing
                    auto ii = static_cast<std::size_t>(i);
                    if (v > top[ii]) {
                        acc[ii] = acc[ii] * std::exp(top[ii] - v) + 1;
                        top[ii] = v;
                    } else {
                        acc[ii] += std::exp(v - top[ii]);
                    }
                }
        }
        for (int i = 0; i < b; ++i) {
            auto ii = static_cast<std::size_t>(i);
            out[static_cast<std::size_t>(i0 + i)] = -(top[ii] + std::log(acc[ii]) - std::log(static_cast<double>(samples)));
        }
    }
}

}  // namespace nfvi
