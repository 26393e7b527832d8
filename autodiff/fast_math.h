// exp, expm1, tanh, log and log1p written as plain arithmetic, so that loops over them vectorize
// (libm's calls do not). In the float build they replace the standard library's in the
// elementwise ops and fused kernels: each is within a few ulp of the correctly rounded value
// (tests check 3e-7 relative). The double build keeps the standard library's, whose accuracy
// the strict gradient checks rely on.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>

#include "autodiff/config.h"

namespace nfvi::detail {

// The pieces exp_f, exp_f_bounded and expm1_f share.
//
// x = k·ln2 + r with k a whole number (held as a float) and |r| ≤ ln2/2: k rounded to nearest
// by adding and removing 1.5·2²³ (vectorizes, unlike nearbyint), ln 2 split so that k·ln2_hi
// is exact (Cody & Waite).
struct Ln2Split {
    float k, r;
};
inline Ln2Split split_ln2(float x) {
    const float k = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
    return {k, (x - k * 0.693145751953125f) - k * 1.42860682030941723212e-6f};
}

// 2^k for a whole k with 2^k a normal float (−126 ≤ k ≤ 127), by building its exponent bits.
inline float pow2i(std::int32_t k) { return std::bit_cast<float>(static_cast<std::int32_t>((k + 127) << 23)); }

// e^r for |r| ≤ ln2/2 by its Taylor series to r⁷ (relative error < 6e-9 on that interval).
inline float exp_reduced(float r) {
    float p = 1.f / 5040;
    p = p * r + 1.f / 720;
    p = p * r + 1.f / 120;
    p = p * r + 1.f / 24;
    p = p * r + 1.f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    return p * r + 1.f;
}

// e^x for float: e^r · 2^k (split_ln2), 2^k as 2^k1 · 2^k2 with both halves normal, since k
// runs from −150 to 128. Saturates to 0 and +inf outside [−103.9, 88.7] (denormal results
// below −87.3); NaN stays NaN.
inline float exp_f(float x) {
    const float hi = 88.72f, lo = -103.9f;  // below lo, e^x is 0 even as a denormal
    const bool nan = x != x;
    const Ln2Split s = split_ln2(x > hi ? hi : (x < lo ? lo : x));
    const std::int32_t ki = static_cast<std::int32_t>(s.k), k1 = ki >> 1, k2 = ki - k1;
    float y = (exp_reduced(s.r) * pow2i(k1)) * pow2i(k2);
    y = x > hi ? INFINITY : (x < lo ? 0.f : y);
    return nan ? x : y;
}

// e^x for float where |x| ≤ 87 (then e^x and 2^k are normal): exp_f's arithmetic without its
// range checks, for callers that bound x themselves.
inline float exp_f_bounded(float x) {
    const Ln2Split s = split_ln2(x);
    return exp_reduced(s.r) * pow2i(static_cast<std::int32_t>(s.k));
}

// tanh for float: an odd Taylor polynomial for |x| < 0.5 (no cancellation near 0), else
// 1 − 2/(e^{2|x|} + 1) with the sign put back.
inline float tanh_f(float x) {
    const float a = std::abs(x);
    const float x2 = x * x;
    float p = -929569.f / 638512875;  // Taylor coefficients of tanh (Bernoulli numbers)
    p = p * x2 + 21844.f / 6081075;
    p = p * x2 - 1382.f / 155925;
    p = p * x2 + 62.f / 2835;
    p = p * x2 - 17.f / 315;
    p = p * x2 + 2.f / 15;
    p = p * x2 - 1.f / 3;
    const float small = x + x * x2 * p;
    const float e = exp_f_bounded(2 * (a < 9.5f ? a : 9.5f));  // tanh(9.5) rounds to 1 in float
    const float big = std::copysign(1.f - 2.f / (e + 1.f), x);
    const float y = a < 0.5f ? small : big;
    return x != x ? x : y;
}

// log x for float: x = 2^e·m with m in [√½, √2), log m = 2·atanh(s), s = (m − 1)/(m + 1),
// |s| ≤ 0.172, by its odd series 2(s + s³/3 + … + s⁹/9) (truncation < 3e-9 relative), and
// e·ln2 added in two parts. Subnormal x is scaled by 2²³ first. log 0 = −inf, log of a
// negative number is NaN, log inf = inf; NaN stays NaN.
inline float log_f(float x) {
    const bool sub = x < 1.17549435e-38f;  // below the smallest normal float (and ≤ 0)
    const float xs = sub ? x * 8388608.f : x;
    // Subtracting the bits of √½ makes the exponent field floor(log2(x/√½)) and leaves the
    // mantissa of m = x/2^e in the low bits (exact: only the exponent changes).
    // (In unsigned arithmetic, which wraps: for x = −0 or a negative x the difference is out of
    // int range; those results are replaced below.)
    const std::int32_t bits = std::bit_cast<std::int32_t>(std::bit_cast<std::uint32_t>(xs) - 0x3f3504f3u);
    const std::int32_t e = (bits >> 23) - (sub ? 23 : 0);
    const float m = std::bit_cast<float>((bits & 0x007fffff) + 0x3f3504f3);
    const float f = m - 1.f;  // exact (Sterbenz)
    const float s = f / (m + 1.f);
    const float s2 = s * s;
    float p = 2.f / 9;
    p = p * s2 + 2.f / 7;
    p = p * s2 + 2.f / 5;
    p = p * s2 + 2.f / 3;
    const float log_m = 2.f * s + s * s2 * p;
    const float ef = static_cast<float>(e);
    // ln 2 split so that e·ln2_hi is exact (as in exp_f).
    float y = (ef * 1.42860682030941723212e-6f + log_m) + ef * 0.693145751953125f;
    y = x < 0 ? NAN : y;
    y = x == 0 ? -INFINITY : y;
    y = x == INFINITY ? INFINITY : y;
    return x != x ? x : y;
}

// log(1 + x) for float: with u = 1 + x rounded, log1p x = log u − ((u − 1) − x)/u, the first
// order correction for the rounding of u (u − 1 is exact); where u = 1 it gives x.
inline float log1p_f(float x) {
    const float u = 1.f + x;
    const float y = u == 0 ? -INFINITY : log_f(u) - ((u - 1.f) - x) / u;
    return x == INFINITY ? x : y;
}

// e^x − 1 for float, accurate near 0: x = k·ln2 + r as in exp_f, e^r − 1 = p(r) by its Taylor
// series to r⁸ (relative error < 6e-10 for |r| ≤ ln2/2), then e^x − 1 = 2^k·p + (2^k − 1),
// which is p itself when k = 0 (no cancellation for small x) and exact in its parts for the
// 2^k of |x| ≤ 20. Beyond 20 it is e^x to float precision: 2^k·(p + 1), as exp_f forms it.
// −1 below −30 (e^x is under half an ulp of 1 there), +inf above log(FLT_MAX); NaN stays NaN.
inline float expm1_f(float x) {
    const float hi = 88.7228394f;  // log of the largest float
    const bool nan = x != x;
    const float xc = x > hi ? hi : (x < -30.f ? -30.f : x);
    const Ln2Split sp = split_ln2(xc);
    const float r = sp.r;
    float p = 1.f / 40320;
    p = p * r + 1.f / 5040;
    p = p * r + 1.f / 720;
    p = p * r + 1.f / 120;
    p = p * r + 1.f / 24;
    p = p * r + 1.f / 6;
    p = p * r + 0.5f;
    p = r + (r * r) * p;
    // 2^k as 2^k1 · 2^k2, both normal: k runs from −43 to 128.
    const std::int32_t ki = static_cast<std::int32_t>(sp.k), k1 = ki >> 1, k2 = ki - k1;
    const float s1 = pow2i(k1), s2 = pow2i(k2);
    const float s = s1 * s2;  // inf for k = 128: only the x > 20 form below is kept there
    const float small = s * p + (s - 1.f);
    const float big = ((p + 1.f) * s1) * s2;
    float y = xc > 20.f ? big : small;
    y = x > hi ? INFINITY : (x < -30.f ? -1.f : y);
    return nan ? x : y;
}

inline real exp_r(real x) {
    if constexpr (sizeof(real) == sizeof(float)) return exp_f(x);
    else return std::exp(x);
}

inline real tanh_r(real x) {
    if constexpr (sizeof(real) == sizeof(float)) return tanh_f(x);
    else return std::tanh(x);
}

inline real log_r(real x) {
    if constexpr (sizeof(real) == sizeof(float)) return log_f(x);
    else return std::log(x);
}

inline real log1p_r(real x) {
    if constexpr (sizeof(real) == sizeof(float)) return log1p_f(x);
    else return std::log1p(x);
}

inline real expm1_r(real x) {
    if constexpr (sizeof(real) == sizeof(float)) return expm1_f(x);
    else return std::expm1(x);
}

}  // namespace nfvi::detail
