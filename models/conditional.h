// Conditional (amortized) variational inference: one network, a flow for every angle.
//
// A family of 2-D targets indexed by an angle θ:
//     p(z | θ) ∝ exp(−U(R_θ z)),   R_θ the rotation by θ (x1 = cos θ·z1 − sin θ·z2),
//     U(x) = ½((‖x‖ − 2)/0.4)² − log(exp(−½((x1 − 2)/0.6)²) + exp(−½((x1 + 2)/0.6)²) + 1e−6),
// the ring with two modes at distance 2. A rotation keeps areas, so log Z is the same for
// every θ: one quadrature (log_z_quadrature(ring_energy ...)) serves them all.
//
// One network (an MLP with hidden layers 512, 512 and ELU by default) maps (cos θ, sin θ), or
// θ itself as the PyTorch reference does, to the raw parameters of q(z | θ):
// [μ (D), ρ (D), flow (P)], σ = softplus(ρ); q(z | θ) is q0 = N(μ, σ²) pushed through K planar
// layers that read the flow part. A training step draws B angles, S samples of each, and
// minimizes the mean free energy
//     F = mean over the B·S samples of log q(z | θ_b) + U(R_θb z)
// (with β·U in place of U while annealing, as for unconditional VI).
// At one angle KL(q(·|θ) ‖ p(·|θ)) = E_q[log q + U] + log Z.
//
// Legend: B angles, S samples per angle, M = B·S rows, D = 2 latent dimension, K flow layers,
// P flow parameters, O = 2D + P network outputs, I network inputs (1 or 2).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "autodiff/graph.h"
#include "autodiff/parameter.h"
#include "autodiff/rng.h"
#include "flows/stack.h"
#include "models/mlp.h"
#include "models/vi.h"

namespace nfvi {

// The unrotated energy U(x): x [N,2] -> [N,1].
Var ring_energy(Var x);
// U(R_θ z): z [N,2], angle [N,1] (one angle per row) or [1,1] (one for all) -> [N,1].
// Only x1 of R_θ z is formed; ‖R_θ z‖ = ‖z‖.
Var rotated_ring_energy(Var z, Var angle);

// What the network sees of θ: θ itself (as the reference does) or (cos θ, sin θ), which is
// periodic as the family is, so θ = −π and θ = π are the same input. With nfvi's default
// schedule (src/conditional.h) cos-sin reached a mean KL over 26 angles 2-3 times lower and a
// worst angle 2-5 times lower than angle, whose worst angle sat at the seam θ = ±π (three
// seeds against one; measured for issue 5).
enum class AngleInput : std::uint8_t { Angle, CosSin };
std::string_view to_string(AngleInput a);  // "angle", "cos-sin"
bool parse_angle_input(std::string_view name, AngleInput& out);

struct ConditionalShape {
    int layers = 32;                    // K planar layers
    std::vector<int> hidden{512, 512};  // the network's hidden layers
    Activation activation = Activation::Elu;
    AngleInput input = AngleInput::CosSin;
    // Multiplies the network's last layer (weights and bias) at initialization: 1 starts as
    // torch.nn.Linear does; smaller starts every q(z | θ) nearer to N(0, softplus(0)²) with
    // flow layers nearer to the identity.
    double output_scale = 1;
};

class ConditionalFlow {
public:
    // Throws std::invalid_argument for layers < 1 or a hidden size < 1.
    ConditionalFlow(ConditionalShape shape, std::uint64_t seed);

    const ConditionalShape& shape() const { return shape_; }
    FlowStack& flow() { return flow_; }
    const FlowStack& flow() const { return flow_; }
    Mlp& net() { return net_; }
    ParameterList params() { return net_.params(); }
    int inputs() const { return shape_.input == AngleInput::CosSin ? 2 : 1; }  // I
    int outputs() const { return 4 + flow_.num_params(); }                      // O

    // The network's output for B angles: angles [B,1] (a constant) -> [B,O].
    Var forward(Graph& g, Var angles);

private:
    ConditionalShape shape_;
    FlowStack flow_;
    Mlp net_;
};

struct ConditionalSample {
    Var z;      // z_K [S,D]
    Var log_q;  // log q(z_K | θ) [S,1]
};

// S samples of q(· | θ) at one angle (ε drawn from rng, [S,D] normals row by row).
ConditionalSample sample_conditional(Graph& g, ConditionalFlow& m, real angle, int samples, Rng& rng);

// The loss of one step: the mean over the M rows of log q(z | θ) + β·U(R_θ z), [1,1] (β < 1
// while annealing, see anneal_beta in models/vi.h; at β = 1 it is the free energy). The network
// runs once on all B angles; then each angle's S samples go through the flow with that
// angle's row of parameters shared by them (one fused planar node per angle), which costs a
// third of giving each of the M samples its own copy of the row. ε is drawn as one [M,D]
// fill would draw it: rows b·S .. b·S + S − 1 belong to angle b.
Var conditional_loss(Graph& g, ConditionalFlow& m, std::span<const real> angles, int samples, Rng& rng,
                     real beta = 1);

// B angles uniform in [−π, π).
void draw_angles(Rng& rng, std::span<real> out);

// E_q[log q + U] at one angle from `samples` fresh samples, in chunks of `chunk` (no gradients
// kept). KL(q(·|θ) ‖ p(·|θ)) is its mean plus log Z.
FreeEnergyEstimate estimate_conditional_free_energy(ConditionalFlow& m, double angle, Rng& rng,
                                                    std::int64_t samples, int chunk = 10000);

// log Z of the family (any θ), by the midpoint rule on [−box, box]² with an n × n grid.
double ring_log_z(double box = 8, int n = 2000);

}  // namespace nfvi
