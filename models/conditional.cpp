// Conditional VI over the rotated two-mode ring: the energy, the network θ → q(z | θ), its
// per-angle sampling, the loss and the per-angle free-energy estimate.
//
// Legend: B angles, S samples per angle, M = B·S rows, D = 2, P flow parameters, O = 2D + P.
#include "models/conditional.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "autodiff/ops.h"
#include "flows/gaussian.h"

namespace nfvi {

namespace {

constexpr int kDim = 2;  // D

// log(exp(−½((x1 − 2)/0.6)²) + exp(−½((x1 + 2)/0.6)²) + 1e−6) for x1 [N,1].
Var two_modes(Var x1) {
    Graph& g = x1.graph();
    Var a = real(-0.5) * square((x1 - real(2)) / real(0.6));
    Var b = real(-0.5) * square((x1 + real(2)) / real(0.6));
    Var floor = g.constant(Shape{x1.rows(), 1}, static_cast<real>(std::log(1e-6)));
    return logsumexp(concat_cols(concat_cols(a, b), floor), 1);  // [N,1]
}

// ½((r − 2)/0.4)² for r = ‖z‖ [N,1].
Var ring(Var z) { return real(0.5) * square((sqrt(sum(square(z), 1)) - real(2)) / real(0.4)); }

MlpShape net_shape(const ConditionalShape& s, int outputs) {
    return {s.input == AngleInput::CosSin ? 2 : 1, s.hidden, outputs, s.activation, 2};
}

FlowStack checked_flow(const ConditionalShape& s) {
    if (s.layers < 1) throw std::invalid_argument("nfvi: the conditional flow needs at least 1 layer");
    if (!(s.output_scale >= 0) || !std::isfinite(s.output_scale))
        throw std::invalid_argument("nfvi: the conditional network's output scale must be finite and >= 0");
    return make_flow("planar", kDim, s.layers);
}

}  // namespace

Var ring_energy(Var x) { return ring(x) - two_modes(slice_cols(x, 0, 1)); }

Var rotated_ring_energy(Var z, Var angle) {
    if (z.cols() != kDim || angle.cols() != 1 || (angle.rows() != 1 && angle.rows() != z.rows()))
        throw std::invalid_argument("nfvi: rotated_ring_energy needs z [N,2] and angles [N,1] or [1,1], got " +
                                    z.shape().str() + " and " + angle.shape().str());
    Var x1 = cos(angle) * slice_cols(z, 0, 1) - sin(angle) * slice_cols(z, 1, 2);  // (R_θ z)_1
    return ring(z) - two_modes(x1);
}

std::string_view to_string(AngleInput a) { return a == AngleInput::CosSin ? "cos-sin" : "angle"; }

bool parse_angle_input(std::string_view name, AngleInput& out) {
    for (AngleInput a : {AngleInput::Angle, AngleInput::CosSin})
        if (name == to_string(a)) {
            out = a;
            return true;
        }
    return false;
}

ConditionalFlow::ConditionalFlow(ConditionalShape shape, std::uint64_t seed)
    : shape_(std::move(shape)), flow_(checked_flow(shape_)), net_([&] {
          Rng rng(seed, 0x434f4e44);  // "COND"
          return Mlp("net", net_shape(shape_, 2 * kDim + flow_.num_params()), rng);
      }()) {
    if (shape_.output_scale != 1) {
        const std::size_t n = net_.layers().size();
        for (Parameter* p : {&net_.layers()[n - 2], &net_.layers()[n - 1]})
            for (std::int64_t i = 0; i < p->value.numel(); ++i)
                p->value.data()[i] = static_cast<real>(p->value.data()[i] * shape_.output_scale);
    }
}

Var ConditionalFlow::forward(Graph& g, Var angles) {
    if (angles.cols() != 1)
        throw std::invalid_argument("nfvi: the conditional network takes angles [B,1], got " + angles.shape().str());
    Var x = shape_.input == AngleInput::CosSin ? concat_cols(cos(angles), sin(angles)) : angles;  // [B,I]
    return net_.forward(g, x);  // [B,O]
}

namespace {

// S samples of angle b, whose network output is row b of out [B,O], seen flattened as
// flat [1,B·O]: the planar node reads its layers' columns of that row in place.
ConditionalSample sample_row(Graph& g, ConditionalFlow& m, Var flat, int b, int S, Rng& rng) {
    const int O = m.outputs(), K = m.flow().size();
    const int base = b * O;  // the row's first column in flat
    Var eps = g.input(Shape{S, kDim});  // [S,D]
    rng.normal(eps.data(), eps.value().numel());
    Var mu = slice_cols(flat, base, base + kDim);                          // [1,D]
    Var sigma = softplus(slice_cols(flat, base + kDim, base + 2 * kDim));  // [1,D]
    GaussianSample s0 = diag_gaussian_sample(mu, sigma, eps);
    Var y = planar_layers(s0.z, flat, base + 2 * kDim, K);  // [S,D+1]: z_K and Σ log|det J|
    return {slice_cols(y, 0, kDim), s0.log_q - slice_cols(y, kDim, kDim + 1)};
}

// The network's output for B angles, flattened to [1,B·O].
Var flat_output(Graph& g, ConditionalFlow& m, std::span<const real> angles) {
    const int B = static_cast<int>(angles.size());
    Var a = g.input(Shape{B, 1});  // [B,1]
    std::copy(angles.begin(), angles.end(), a.data());
    return reshape(m.forward(g, a), Shape{1, B * m.outputs()});
}

void check_counts(std::size_t angles, int samples) {
    if (angles < 1 || samples < 1)
        throw std::invalid_argument("nfvi: conditional sampling needs at least 1 angle and 1 sample per angle");
}

}  // namespace

ConditionalSample sample_conditional(Graph& g, ConditionalFlow& m, real angle, int samples, Rng& rng) {
    check_counts(1, samples);
    return sample_row(g, m, flat_output(g, m, std::span<const real>(&angle, 1)), 0, samples, rng);
}

Var conditional_loss(Graph& g, ConditionalFlow& m, std::span<const real> angles, int samples, Rng& rng,
                     real beta) {
    check_counts(angles.size(), samples);
    Var flat = flat_output(g, m, angles);
    Var total;
    for (std::size_t b = 0; b < angles.size(); ++b) {
        ConditionalSample s = sample_row(g, m, flat, static_cast<int>(b), samples, rng);
        Var u = rotated_ring_energy(s.z, g.constant(Shape{1, 1}, angles[b]));
        Var part = sum(beta == 1 ? s.log_q + u : s.log_q + beta * u);  // [1,1]
        total = total.valid() ? total + part : part;
    }
    return total * real(1.0 / (static_cast<double>(angles.size()) * samples));
}

void draw_angles(Rng& rng, std::span<real> out) {
    rng.uniform(out.data(), static_cast<std::int64_t>(out.size()));
    const double pi = std::numbers::pi;
    for (real& a : out) a = static_cast<real>(-pi + 2 * pi * static_cast<double>(a));
}

FreeEnergyEstimate estimate_conditional_free_energy(ConditionalFlow& m, double angle, Rng& rng,
                                                    std::int64_t samples, int chunk) {
    const real a = static_cast<real>(angle);
    return estimate_in_chunks(samples, chunk, [&](Graph& g, int n) {
        ConditionalSample s = sample_conditional(g, m, a, n, rng);
        return s.log_q + rotated_ring_energy(s.z, g.constant(Shape{1, 1}, a));  // [n,1]
    });
}

double ring_log_z(double box, int n) { return log_z_quadrature(EnergyFn(ring_energy), box, n); }

}  // namespace nfvi
