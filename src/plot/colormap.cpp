// The colour map table (its definition is documented in colormap.h) and OKLab conversions.
#include "src/plot/colormap.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace nfvi::plot {

namespace {

// sRGB transfer curve, 8-bit value -> linear light, and linear light -> encoded [0, 1].
double srgb_decode(double v) {
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
}
double srgb_encode(double v) {
    return v <= 0.0031308 ? 12.92 * v : 1.055 * std::pow(v, 1 / 2.4) - 0.055;
}

Oklab linear_srgb_to_oklab(double r, double g, double b) {
    const double l = std::cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
    const double m = std::cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
    const double s = std::cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
    return {0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
            1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
            0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s};
}

Oklab from_lch(double L, double C, double h_deg) {
    const double h = h_deg * std::numbers::pi / 180;
    return {L, C * std::cos(h), C * std::sin(h)};
}

bool in_gamut(Oklab c) {
    for (double v : oklab_to_linear_srgb(c))
        if (v < 0 || v > 1) return false;
    return true;
}

// The largest chroma at lightness L and hue h that sRGB can show (bisection).
double max_chroma(double L, double h_deg) {
    double lo = 0, hi = 0.5;
    for (int it = 0; it < 50; ++it) {
        const double mid = (lo + hi) / 2;
        (in_gamut(from_lch(L, mid, h_deg)) ? lo : hi) = mid;
    }
    return lo;
}

// The documented path, before rounding to 8 bits.
Oklab path(double t) {
    struct Knot {
        double t, c;
    };
    static constexpr Knot kChroma[] = {{0.00, 0.115}, {0.25, 0.100}, {0.45, 0.090},
                                       {0.70, 0.125}, {0.88, 0.165}, {1.00, 0.150}};
    const double L = 0.27 + 0.68 * t;
    const double h = 295 - 185 * t;
    double C = kChroma[0].c;
    for (std::size_t k = 1; k < std::size(kChroma); ++k)
        if (t <= kChroma[k].t) {
            const double u = (t - kChroma[k - 1].t) / (kChroma[k].t - kChroma[k - 1].t);
            C = kChroma[k - 1].c + u * (kChroma[k].c - kChroma[k - 1].c);
            break;
        }
    C = std::min(C, 0.97 * max_chroma(L, h));
    return from_lch(L, C, h);
}

double dist2(Oklab p, Oklab q) {
    const double dL = p.L - q.L, da = p.a - q.a, db = p.b - q.b;
    return dL * dL + da * da + db * db;
}

std::array<Rgb, 256> build_table() {
    std::array<Rgb, 256> table{};
    double prev_L = -1;
    for (int i = 0; i < 256; ++i) {
        const Oklab want = path(i / 255.0);
        const auto lin = oklab_to_linear_srgb(want);
        double ideal[3];
        for (int ch = 0; ch < 3; ++ch) ideal[ch] = 255 * srgb_encode(std::clamp(lin[ch], 0.0, 1.0));
        // Among the 8 floor/ceiling roundings, the nearest one that keeps L rising.
        Rgb best{};
        double best_d = INFINITY, best_L = -1;
        Rgb brightest{};
        double brightest_L = -1;
        for (int mask = 0; mask < 8; ++mask) {
            std::uint8_t v[3];
            for (int ch = 0; ch < 3; ++ch) {
                const double q = (mask >> ch & 1) ? std::ceil(ideal[ch]) : std::floor(ideal[ch]);
                v[ch] = static_cast<std::uint8_t>(std::clamp(q, 0.0, 255.0));
            }
            const Rgb cand{v[0], v[1], v[2]};
            const Oklab got = srgb_to_oklab(cand);
            if (got.L > brightest_L) brightest = cand, brightest_L = got.L;
            const double d = dist2(got, want);
            if (got.L > prev_L && d < best_d) best = cand, best_d = d, best_L = got.L;
        }
        if (best_L < 0) best = brightest, best_L = brightest_L;  // not reached for this path
        table[static_cast<std::size_t>(i)] = best;
        prev_L = best_L;
    }
    return table;
}

}  // namespace

Oklab srgb_to_oklab(Rgb c) {
    return linear_srgb_to_oklab(srgb_decode(c.r / 255.0), srgb_decode(c.g / 255.0),
                                srgb_decode(c.b / 255.0));
}

std::array<double, 3> oklab_to_linear_srgb(Oklab c) {
    const double l = c.L + 0.3963377774 * c.a + 0.2158037573 * c.b;
    const double m = c.L - 0.1055613458 * c.a - 0.0638541728 * c.b;
    const double s = c.L - 0.0894841775 * c.a - 1.2914855480 * c.b;
    const double l3 = l * l * l, m3 = m * m * m, s3 = s * s * s;
    return {+4.0767416621 * l3 - 3.3077115913 * m3 + 0.2309699292 * s3,
            -1.2684380046 * l3 + 2.6097574011 * m3 - 0.3413193965 * s3,
            -0.0041960863 * l3 - 0.7034186147 * m3 + 1.7076147010 * s3};
}

Rgb oklab_to_srgb(Oklab c) {
    const auto lin = oklab_to_linear_srgb(c);
    std::uint8_t v[3];
    for (int ch = 0; ch < 3; ++ch)
        v[ch] = static_cast<std::uint8_t>(std::lround(255 * srgb_encode(std::clamp(lin[ch], 0.0, 1.0))));
    return {v[0], v[1], v[2]};
}

const std::array<Rgb, 256>& colormap_table() {
    static const std::array<Rgb, 256> table = build_table();
    return table;
}

Rgb colormap(double t) {
    if (std::isnan(t)) return kNanGrey;
    t = std::clamp(t, 0.0, 1.0);
    return colormap_table()[static_cast<std::size_t>(std::lround(t * 255))];
}

Rgb colormap_background() { return colormap(0); }

}  // namespace nfvi::plot
