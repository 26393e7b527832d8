#include "models/targets.h"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "autodiff/ops.h"

namespace nfvi {

namespace {

Var col(Var z, int i) { return slice_cols(z, i, i + 1); }

// −½((x − c)/s)²
Var gauss_exponent(Var x, real c, real s) { return real(-0.5) * square((x - c) / s); }

Var w1(Var z1) { return sin(real(2 * std::numbers::pi / 4) * z1); }
Var w2(Var z1) { return real(3) * exp(gauss_exponent(z1, 1, real(0.6))); }
Var w3(Var z1) { return real(3) * sigmoid((z1 - real(1)) / real(0.3)); }

// log(e^a + e^b), stably.
Var logaddexp(Var a, Var b) { return logsumexp(concat_cols(a, b), 1); }

Var radius(Var z) { return sqrt(sum(square(z), 1)); }

}  // namespace

Var energy_u1(Var z) {
    Var z1 = col(z, 0);
    return real(0.5) * square((radius(z) - real(2)) / real(0.4)) -
           logaddexp(gauss_exponent(z1, 2, real(0.6)), gauss_exponent(z1, -2, real(0.6)));
}

Var energy_u2(Var z) {
    return real(0.5) * square((col(z, 1) - w1(col(z, 0))) / real(0.4));
}

Var energy_u3(Var z) {
    Var z1 = col(z, 0), z2 = col(z, 1);
    Var d = z2 - w1(z1);
    return -logaddexp(real(-0.5) * square(d / real(0.35)),
                      real(-0.5) * square((d + w2(z1)) / real(0.35)));
}

Var energy_u4(Var z) {
    Var z1 = col(z, 0), z2 = col(z, 1);
    Var d = z2 - w1(z1);
    return -logaddexp(real(-0.5) * square(d / real(0.4)),
                      real(-0.5) * square((d + w3(z1)) / real(0.35)));
}

// Σ over θ ∈ {0, π/4, π/2, 3π/4} of the two-mode ring energy of R_θ z (radius 3):
// ½((‖z‖ − 3)/0.4)² − log(exp(−½((x1 − 3)/0.6)²) + exp(−½((x1 + 3)/0.6)²) + 1e−5),
// x1 = cos θ·z1 − sin θ·z2. Each point of a lobe matches one θ; the 1e−5 floor lets the
// other three factors agree, so all eight lobes have the same height.
Var energy_u8(Var z) {
    Graph& g = z.graph();
    Var z1 = col(z, 0), z2 = col(z, 1);
    Var ring = real(0.5) * square((radius(z) - real(3)) / real(0.4));
    Var floor = g.constant(Shape{z.rows(), 1}, static_cast<real>(std::log(1e-5)));
    Var u;
    for (int k = 0; k < 4; ++k) {
        double th = k * std::numbers::pi / 4;
        Var x1 = real(std::cos(th)) * z1 - real(std::sin(th)) * z2;
        Var modes = logsumexp(concat_cols(concat_cols(gauss_exponent(x1, 3, real(0.6)),
                                                      gauss_exponent(x1, -3, real(0.6))),
                                          floor), 1);
        Var term = ring - modes;
        u = u.valid() ? u + term : term;
    }
    return u;
}

Var taper(Var z, Var u) {
    Var zinf = max(abs(z), 1);  // ‖z‖∞ [N,1]
    return u + softplus(real(10) * (zinf - real(5)));
}

std::span<const Target> targets() {
    static const Target kTargets[] = {
        {"U1", energy_u1, true, "½((‖z‖−2)/0.4)² − log(e^{−½((z1−2)/0.6)²} + e^{−½((z1+2)/0.6)²})"},
        {"U2", energy_u2, false, "½((z2 − w1)/0.4)²"},
        {"U3", energy_u3, false, "−log(e^{−½((z2−w1)/0.35)²} + e^{−½((z2−w1+w2)/0.35)²})"},
        {"U4", energy_u4, false, "−log(e^{−½((z2−w1)/0.4)²} + e^{−½((z2−w1+w3)/0.35)²})"},
        {"U8", energy_u8, true, "Σ_θ ring energy of R_θ z, θ ∈ {0, π/4, π/2, 3π/4}"},
    };
    return kTargets;
}

const Target& find_target(std::string_view name) {
    for (const Target& t : targets())
        if (t.name == name) return t;
    throw std::invalid_argument("unknown target '" + std::string(name) + "' (known: U1, U2, U3, U4, U8)");
}

bool uses_taper(const Target& t, bool taper_requested) { return taper_requested || !t.proper; }

EnergyFn make_energy(const Target& t, bool taper_requested) {
    Var (*u)(Var) = t.energy;
    if (!uses_taper(t, taper_requested)) return u;
    return [u](Var z) { return taper(z, u(z)); };
}

}  // namespace nfvi
