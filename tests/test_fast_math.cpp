// The vectorizable exp and tanh of the float build against the standard library.
#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <limits>

#include "autodiff/fast_math.h"

using nfvi::detail::exp_f;
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
