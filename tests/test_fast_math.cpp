// The vectorizable exp, expm1, tanh, log and log1p of the float build against the standard library.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>

#include "autodiff/fast_math.h"

using nfvi::detail::exp_f;
using nfvi::detail::exp_f_bounded;
using nfvi::detail::expm1_f;
using nfvi::detail::log1p_f;
using nfvi::detail::log_f;
using nfvi::detail::tanh_f;

TEST_CASE("exp_f is within 3e-7 relative of exp over its whole range") {
    double worst = 0;
    for (double x = -87; x <= 88.5; x += 0.000731) {
        float xf = static_cast<float>(x);
        double want = std::exp(static_cast<double>(xf));
        worst = std::max(worst, std::abs(exp_f(xf) - want) / want);
    }
    CHECK(worst < 3e-7);
    CHECK(exp_f(0) == 1);
    CHECK(exp_f(-200) == 0);
    CHECK(std::isinf(exp_f(200)));
    CHECK(std::isnan(exp_f(std::numeric_limits<float>::quiet_NaN())));
    CHECK(exp_f(-std::numeric_limits<float>::infinity()) == 0);
}

TEST_CASE("tanh_f is within 3e-7 relative of tanh, odd, and saturates to ±1") {
    double worst = 0;
    for (double x = -12; x <= 12; x += 0.000377) {
        float xf = static_cast<float>(x);
        double want = std::tanh(static_cast<double>(xf));
        if (want != 0) worst = std::max(worst, std::abs(tanh_f(xf) - want) / std::abs(want));
        CHECK(tanh_f(-xf) == -tanh_f(xf));
    }
    CHECK(worst < 3e-7);
    for (float tiny : {1e-30f, 1e-10f, 1e-4f, 0.4999f, 0.5f, 0.5001f})
        CHECK(tanh_f(tiny) == doctest::Approx(std::tanh(double(tiny))).epsilon(3e-7));
    CHECK(tanh_f(0) == 0);
    CHECK(tanh_f(1e6f) == 1);
    CHECK(tanh_f(-std::numeric_limits<float>::infinity()) == -1);
    CHECK(std::isnan(tanh_f(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("exp_f_bounded equals exp_f where both apply") {
    for (double x = -87; x <= 87; x += 0.00913) {
        const float xf = static_cast<float>(x);
        CHECK(exp_f_bounded(xf) == exp_f(xf));
    }
}

TEST_CASE("log_f is within 3e-7 relative of log over every binade, subnormals included") {
    // Every 127th float from the smallest subnormal to the largest finite: all exponents, and
    // mantissas on both sides of the √½ split.
    double worst = 0;
    for (std::uint32_t b = 1; b < 0x7f800000u; b += 127) {
        const float x = std::bit_cast<float>(b);
        const double want = std::log(static_cast<double>(x));
        const double err = std::abs(log_f(x) - want);
        worst = std::max(worst, want != 0 ? err / std::abs(want) : err);
    }
    CHECK(worst < 3e-7);
    // Near 1 the result is tiny: the error must be relative to it, not to 1.
    for (float x : {1.f, 1.0000001f, 0.99999994f, 1.001f, 0.999f, 0.70710677f, 1.4142135f}) {
        CAPTURE(x);
        if (x == 1) CHECK(log_f(x) == 0);
        else CHECK(log_f(x) == doctest::Approx(std::log(double(x))).epsilon(3e-7));
    }
    CHECK(log_f(std::numeric_limits<float>::denorm_min()) == doctest::Approx(std::log(double(std::numeric_limits<float>::denorm_min()))).epsilon(3e-7));
    CHECK(log_f(0.f) == -std::numeric_limits<float>::infinity());
    CHECK(log_f(-0.f) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(log_f(-1.f)));
    CHECK(std::isnan(log_f(-std::numeric_limits<float>::infinity())));
    CHECK(log_f(std::numeric_limits<float>::infinity()) == std::numeric_limits<float>::infinity());
    CHECK(std::isnan(log_f(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("log1p_f is within 3e-7 relative of log1p, also where 1 + x rounds") {
    double worst = 0;
    for (std::uint32_t b = 1; b < 0x7f800000u; b += 127) {
        for (float x : {std::bit_cast<float>(b), -std::bit_cast<float>(b)}) {
            if (x <= -1) continue;
            const double want = std::log1p(static_cast<double>(x));
            worst = std::max(worst, std::abs(log1p_f(x) - want) / std::abs(want));
        }
    }
    CHECK(worst < 3e-7);
    CHECK(log1p_f(1e-30f) == 1e-30f);  // 1 + x rounds to 1: the correction gives x back
    CHECK(log1p_f(3e-8f) == doctest::Approx(std::log1p(3e-8)).epsilon(3e-7));
    CHECK(log1p_f(0.f) == 0);
    CHECK(log1p_f(-1.f) == -std::numeric_limits<float>::infinity());
    CHECK(std::isnan(log1p_f(-2.f)));
    CHECK(log1p_f(std::numeric_limits<float>::infinity()) == std::numeric_limits<float>::infinity());
    CHECK(std::isnan(log1p_f(std::numeric_limits<float>::quiet_NaN())));
}

TEST_CASE("expm1_f is within 3e-7 relative of expm1, tiny arguments included") {
    // Every 61st float of either sign up to the overflow: all exponents, so tiny x (where
    // e^x − 1 computed naively would lose every digit) as well as large.
    double worst = 0;
    for (std::uint32_t b = 1; b < 0x42b16666u; b += 61) {  // up to 88.7
        for (float x : {std::bit_cast<float>(b), -std::bit_cast<float>(b)}) {
            const double want = std::expm1(static_cast<double>(x));
            worst = std::max(worst, std::abs(expm1_f(x) - want) / std::abs(want));
        }
    }
    CHECK(worst < 3e-7);
    // Around the switches: |r| = ln2/2 (k = 0 to ±1), x = 20 (2^k·p + 2^k − 1 to 2^k·(p + 1)),
    // x = −30 (to −1).
    for (float x : {0.3465f, 0.3467f, -0.3465f, -0.3467f, 19.99f, 20.f, 20.01f, -29.99f, -30.f, -30.01f, 88.72f}) {
        CAPTURE(x);
        CHECK(expm1_f(x) == doctest::Approx(std::expm1(double(x))).epsilon(3e-7));
    }
    CHECK(expm1_f(0.f) == 0);
    CHECK(expm1_f(1e-30f) == 1e-30f);
    CHECK(expm1_f(-1e-30f) == -1e-30f);
    CHECK(expm1_f(-200.f) == -1);
    CHECK(expm1_f(-std::numeric_limits<float>::infinity()) == -1);
    CHECK(std::isinf(expm1_f(89.f)));
    CHECK(std::isinf(expm1_f(std::numeric_limits<float>::infinity())));
    CHECK(std::isnan(expm1_f(std::numeric_limits<float>::quiet_NaN())));
}
