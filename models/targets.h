// Unnormalized 2-D target densities p(z) ∝ exp(−U(z)): the paper's U1–U4 (Table 1) and an
// eight-lobed ring U8. An energy is an ordinary function on tape ops, z [N,2] -> U [N,1], so
// its gradient comes for free and a user adds a target in a few lines:
//
//     Var banana(Var z) { Var a = slice_cols(z, 0, 1), b = slice_cols(z, 1, 2);
//                         return real(0.5) * square(a) + real(2) * square(b - square(a)); }
//
// U2–U4 do not decay along z1 and cannot be normalized on R²; nfvi uses them tapered,
// exp(−U)·sigmoid(10·(5 − ‖z‖∞)), i.e. U + softplus(10·(‖z‖∞ − 5)).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "autodiff/graph.h"

namespace nfvi {

using EnergyFn = std::function<Var(Var)>;  // z [N,2] -> U(z) [N,1]

struct Target {
    std::string_view name;   // "U1"
    Var (*energy)(Var z);    // the untapered energy
    bool proper;             // normalizable on R² as it stands
    std::string_view formula;
};

Var energy_u1(Var z);
Var energy_u2(Var z);
Var energy_u3(Var z);
Var energy_u4(Var z);
Var energy_u8(Var z);
// U + softplus(10·(‖z‖∞ − 5)): multiplies the density by sigmoid(10·(5 − ‖z‖∞)).
Var taper(Var z, Var u);

std::span<const Target> targets();
// Throws std::invalid_argument naming the known targets.
const Target& find_target(std::string_view name);
// The energy a run uses: tapered when asked, or always for targets that need it.
EnergyFn make_energy(const Target& t, bool taper_requested);
bool uses_taper(const Target& t, bool taper_requested);

}  // namespace nfvi
