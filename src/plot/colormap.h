// nfvi's perceptual sequential colour map, and the OKLab colour space it is defined in.
//
// The map is a path through OKLab (Björn Ottosson's 2020 perceptual space; L is lightness in
// [0, 1], (a, b) the opponent axes; in polar form chroma C = |(a, b)| and hue h = atan2(b, a)):
//
//   t in [0, 1]  ->  L(t) = 0.27 + 0.68 t                     (linear: 0.27 dark .. 0.95 light)
//                    h(t) = 295 deg - 185 deg * t             (blue-violet 295, teal ~200,
//                                                              green ~150, yellow 110)
//                    C(t) = piecewise linear through (t, C) =
//                           (0, 0.115) (0.25, 0.10) (0.45, 0.09) (0.70, 0.125) (0.88, 0.165)
//                           (1, 0.15), then lowered where needed to stay inside sRGB
//                           (to 97% of the largest in-gamut chroma at that L and h).
//
// It is sampled at t = i / 255 into a 256-entry 8-bit table when first used. Each entry is
// rounded (choosing floor or ceiling per channel) to the 8-bit colour nearest in OKLab whose
// lightness is above the previous entry's, so the table's OKLab L rises strictly, by about
// 0.0027 per entry. Lightness carries the value; hue only helps to tell regions apart, and
// the map reads the same in greyscale and to colour-blind viewers.
#pragma once

#include <array>

#include "src/plot/image.h"

namespace nfvi::plot {

// colormap(t) for t in [0, 1]; t is clamped into [0, 1]; NaN gives kNanGrey.
Rgb colormap(double t);
// The colour of density 0 in a heat map: colormap(0).
Rgb colormap_background();
// The whole table, entry i = colour of t = i / 255.
const std::array<Rgb, 256>& colormap_table();

// The colour of a NaN value: a neutral mid grey that is not in the map.
inline constexpr Rgb kNanGrey{128, 128, 128};

// OKLab, and conversions to and from 8-bit sRGB (IEC 61966-2-1 transfer curve).
struct Oklab {
    double L = 0, a = 0, b = 0;
};
Oklab srgb_to_oklab(Rgb c);
// Linear-light sRGB (each channel nominally in [0, 1]; out-of-gamut colours fall outside).
std::array<double, 3> oklab_to_linear_srgb(Oklab c);
// Rounded and clipped to 8 bits.
Rgb oklab_to_srgb(Oklab c);

}  // namespace nfvi::plot
