// Tests of the optimizers and clip_grad_norm (autodiff/optim.h): each update against values by
// hand or a plain double implementation written here, state save/load, convergence on a
// quadratic, thread-count independence, and no allocation in step().
//
// This file replaces the global operator new/delete to count allocations (only counted while a
// test asks), so it must be linked into its own test executable.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "autodiff/optim.h"
#include "autodiff/thread_pool.h"

// ---- allocation counting
// -------------------------------------------------------------------------

namespace {
std::atomic<bool> g_counting{false};
std::atomic<long> g_allocs{0};

void* counted_alloc(std::size_t n, std::size_t align) {
    if (g_counting.load(std::memory_order_relaxed))
        g_allocs.fetch_add(1, std::memory_order_relaxed);
    if (n == 0) n = 1;
    void* p = nullptr;
    if (align <= alignof(std::max_align_t)) {
        p = std::malloc(n);
    } else {
        n = (n + align - 1) / align * align;
        p = std::aligned_alloc(align, n);
    }
    if (!p) throw std::bad_alloc();
    return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) {
    return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

// ---- helpers ---------------------------------------------------------------------------------

namespace {

using nfvi::Adam;
using nfvi::AdamOptions;
using nfvi::Optimizer;
using nfvi::Parameter;
using nfvi::ParameterList;
using nfvi::real;
using nfvi::RMSprop;
using nfvi::RMSpropOptions;
using nfvi::SGD;
using nfvi::SGDOptions;
using nfvi::Shape;
using nfvi::Tensor;

constexpr bool kFloat = std::is_same_v<real, float>;
// Relative agreement with a double oracle after a few steps.
constexpr double kRel = kFloat ? 2e-5 : 1e-12;

Parameter make_param(const char* name, Shape s, const std::vector<double>& v) {
    Parameter p(name, s);
    REQUIRE(static_cast<std::int64_t>(v.size()) == p.value.numel());
    for (std::size_t i = 0; i < v.size(); ++i)
        p.value[static_cast<std::int64_t>(i)] = static_cast<real>(v[i]);
    return p;
}

void set_grad(Parameter& p, const std::vector<double>& g) {
    REQUIRE(static_cast<std::int64_t>(g.size()) == p.grad.numel());
    for (std::size_t i = 0; i < g.size(); ++i)
        p.grad[static_cast<std::int64_t>(i)] = static_cast<real>(g[i]);
}

std::vector<double> values(const Parameter& p) {
    std::vector<double> out;
    for (std::int64_t i = 0; i < p.value.numel(); ++i)
        out.push_back(static_cast<double>(p.value[i]));
    return out;
}

// Grads at step t: signed, of several magnitudes, different each step.
std::vector<double> grads_at(int t, std::size_t n) {
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i)
        g[i] = std::sin(1.3 * static_cast<double>(i) + 0.7 * t + 0.2) *
               std::pow(3.0, static_cast<double>(i % 4) - 2.0);
    return g;
}

void check_close(const std::vector<double>& got, const std::vector<double>& want, double rel) {
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        INFO("element " << i << ": got " << got[i] << ", want " << want[i]);
        CHECK(std::abs(got[i] - want[i]) <= rel * std::max(1.0, std::abs(want[i])));
    }
}

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(real)) == 0;
}

// Plain double oracles, written in the textbook form.
struct RefSGD {
    double lr, mu;
    std::vector<double> b;
    void step(std::vector<double>& p, const std::vector<double>& g) {
        b.resize(p.size(), 0.0);
        for (std::size_t i = 0; i < p.size(); ++i) {
            b[i] = mu * b[i] + g[i];
            p[i] -= lr * (mu > 0 ? b[i] : g[i]);
        }
    }
};

struct RefAdam {
    double lr, b1, b2, eps;
    std::vector<double> m, v;
    int t = 0;
    void step(std::vector<double>& p, const std::vector<double>& g) {
        m.resize(p.size(), 0.0);
        v.resize(p.size(), 0.0);
        ++t;
        for (std::size_t i = 0; i < p.size(); ++i) {
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mhat = m[i] / (1 - std::pow(b1, t));
            double vhat = v[i] / (1 - std::pow(b2, t));
            p[i] -= lr * mhat / (std::sqrt(vhat) + eps);
        }
    }
};

struct RefRMSprop {
    double lr, alpha, eps, mu;
    std::vector<double> v, b;
    void step(std::vector<double>& p, const std::vector<double>& g) {
        v.resize(p.size(), 0.0);
        b.resize(p.size(), 0.0);
        for (std::size_t i = 0; i < p.size(); ++i) {
            v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i];
            double d = g[i] / (std::sqrt(v[i]) + eps);
            if (mu > 0) {
                b[i] = mu * b[i] + d;
                p[i] -= lr * b[i];
            } else {
                p[i] -= lr * d;
            }
        }
    }
};

// Runs `steps` steps of opt on p (grads from grads_at) and of ref on a double copy; compares.
template <class Ref>
void against_oracle(Optimizer& opt, Parameter& p, Ref ref, int steps) {
    std::vector<double> want = values(p);
    for (int t = 1; t <= steps; ++t) {
        std::vector<double> g = grads_at(t, want.size());
        set_grad(p, g);
        opt.step();
        ref.step(want, g);
        INFO("step " << t);
        check_close(values(p), want, kRel);
    }
    CHECK(opt.steps() == steps);
}

double d(real x) { return static_cast<double>(x); }

}  // namespace

// ---- SGD -------------------------------------------------------------------------------------

TEST_CASE("SGD without momentum: p -= lr g, by hand") {
    Parameter p = make_param("w", Shape{3}, {1, -2, 3});
    SGD opt({&p}, {.lr = real(0.5), .momentum = 0});
    CHECK(opt.slots() == 0);
    set_grad(p, {0.5, -1, 2});
    opt.step();
    check_close(values(p), {0.75, -1.5, 2.0}, 0);  // exact in binary
    set_grad(p, {1, 1, -1});
    opt.step();
    check_close(values(p), {0.25, -2.0, 2.5}, 0);
    CHECK(opt.steps() == 2);
}

TEST_CASE("SGD with momentum: b = mu b + g; p -= lr b, by hand and against an oracle") {
    Parameter p = make_param("w", Shape{2}, {1, 1});
    SGD opt({&p}, {.lr = real(0.5), .momentum = real(0.5)});
    CHECK(opt.slots() == 1);
    set_grad(p, {1, -2});
    opt.step();  // b = [1,-2], p = [0.5, 2]
    check_close(values(p), {0.5, 2.0}, 0);
    set_grad(p, {1, 0});
    opt.step();  // b = [1.5,-1], p = [-0.25, 2.5]
    check_close(values(p), {-0.25, 2.5}, 0);
    check_close({d(opt.state(0, 0)[0]), d(opt.state(0, 0)[1])}, {1.5, -1.0}, 0);

    Parameter q = make_param("q", Shape{2, 3}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7});
    SGD o2({&q}, {.lr = real(0.05), .momentum = real(0.9)});
    against_oracle(o2, q, RefSGD{d(o2.options().lr), d(o2.options().momentum), {}}, 6);
}

// ---- Adam ------------------------------------------------------------------------------------

TEST_CASE("Adam against a textbook double implementation") {
    Parameter p = make_param("w", Shape{2, 4}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7, 1e-3, -40});
    Adam opt({&p}, {.lr = real(0.01), .beta1 = real(0.8), .beta2 = real(0.95), .eps = real(0.01)});
    CHECK(opt.slots() == 2);
    AdamOptions o = opt.options();
    against_oracle(opt, p, RefAdam{d(o.lr), d(o.beta1), d(o.beta2), d(o.eps), {}, {}}, 8);
}

TEST_CASE("Adam's bias correction: with a constant gradient each update is lr in size") {
    // m̂ = g and v̂ = g² at every step, so the update is lr·sign(g) (eps is negligible here).
    // Without the correction the first update would be lr·0.1/sqrt(0.001) ≈ 3.2 lr.
    Parameter p = make_param("w", Shape{4}, {0, 0, 0, 0});
    const double lr = 0.01;
    Adam opt({&p}, {.lr = real(lr)});
    const std::vector<double> g = {0.5, -5, 2, -0.25};
    std::vector<double> prev = values(p);
    for (int t = 1; t <= 5; ++t) {
        set_grad(p, g);
        opt.step();
        std::vector<double> now = values(p);
        for (std::size_t i = 0; i < g.size(); ++i) {
            INFO("step " << t << " element " << i);
            double step = prev[i] - now[i];
            CHECK(step == doctest::Approx(g[i] > 0 ? lr : -lr).epsilon(kFloat ? 1e-4 : 1e-7));
        }
        prev = now;
    }
}

// ---- RMSprop ---------------------------------------------------------------------------------

TEST_CASE("RMSprop without momentum against a double implementation") {
    Parameter p = make_param("w", Shape{7}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7, 1e-3});
    RMSprop opt({&p}, {.lr = real(0.01), .alpha = real(0.9), .eps = real(0.05), .momentum = 0});
    CHECK(opt.slots() == 1);
    RMSpropOptions o = opt.options();
    against_oracle(opt, p, RefRMSprop{d(o.lr), d(o.alpha), d(o.eps), 0, {}, {}}, 8);
}

TEST_CASE("RMSprop with momentum against a double implementation") {
    Parameter p = make_param("w", Shape{7}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7, 1e-3});
    RMSprop opt({&p},
                {.lr = real(0.01), .alpha = real(0.9), .eps = real(0.02), .momentum = real(0.7)});
    CHECK(opt.slots() == 2);
    RMSpropOptions o = opt.options();
    against_oracle(opt, p, RefRMSprop{d(o.lr), d(o.alpha), d(o.eps), d(o.momentum), {}, {}}, 8);
}

TEST_CASE("RMSprop's first step by hand: v = (1-alpha) g², update lr·g/(|g|·sqrt(1-alpha))") {
    Parameter p = make_param("w", Shape{2}, {0, 0});
    RMSprop opt({&p}, {.lr = real(0.1), .alpha = real(0.75), .eps = 0, .momentum = 0});
    set_grad(p, {2, -8});
    opt.step();  // v = 0.25·[4, 64] = [1, 16]; p = -0.1·[2/1, -8/4] = [-0.2, 0.2]
    check_close({d(opt.state(0, 0)[0]), d(opt.state(0, 0)[1])}, {1.0, 16.0}, 0);
    check_close(values(p), {-0.2, 0.2}, kFloat ? 1e-7 : 1e-16);
}

// ---- shared behaviour ------------------------------------------------------------------------

TEST_CASE("zero_grad, steps, params, set_lr") {
    Parameter a = make_param("a", Shape{2}, {1, 2});
    Parameter b = make_param("b", Shape{1, 3}, {3, 4, 5});
    SGD opt({&a, &b}, {.lr = real(0.25)});
    CHECK(opt.params().size() == 2);
    CHECK(opt.params()[1] == &b);
    CHECK(opt.lr() == real(0.25));

    set_grad(a, {1, 1});
    set_grad(b, {1, 1, 1});
    opt.zero_grad();
    for (int i = 0; i < 2; ++i) CHECK(a.grad[i] == 0);
    for (int i = 0; i < 3; ++i) CHECK(b.grad[i] == 0);

    set_grad(a, {1, -1});
    set_grad(b, {0, 0, 2});
    opt.set_lr(real(0.5));
    CHECK(opt.lr() == real(0.5));
    opt.step();
    check_close(values(a), {0.5, 2.5}, 0);
    check_close(values(b), {3, 4, 4}, 0);
    opt.set_lr(0);
    opt.step();
    check_close(values(a), {0.5, 2.5}, 0);
    CHECK(opt.steps() == 2);

    // Adam and RMSprop read the new lr too: lr 0 leaves p alone, doubling lr doubles Adam's step.
    Parameter c = make_param("c", Shape{1}, {0});
    Adam adam({&c}, {.lr = real(0.125)});
    adam.set_lr(real(0.25));
    set_grad(c, {3});
    adam.step();
    CHECK(d(c.value[0]) == doctest::Approx(-0.25).epsilon(1e-6));
    RMSprop rms({&c});
    rms.set_lr(0);
    rms.step();
    CHECK(d(c.value[0]) == doctest::Approx(-0.25).epsilon(1e-6));

    CHECK_THROWS_AS(opt.set_lr(-1), std::invalid_argument);
    CHECK_THROWS_AS(opt.set_lr(std::numeric_limits<real>::quiet_NaN()), std::invalid_argument);
    CHECK_THROWS_AS(opt.set_lr(std::numeric_limits<real>::infinity()), std::invalid_argument);
    CHECK(opt.lr() == 0);
}

TEST_CASE("constructors refuse bad parameters and options") {
    Parameter a = make_param("a", Shape{2}, {1, 2});
    CHECK_THROWS_WITH_AS(SGD({&a, nullptr}), doctest::Contains("null"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({&a, &a}), doctest::Contains("twice"), std::invalid_argument);
    Parameter bad = a;
    bad.grad = Tensor(Shape{3});
    CHECK_THROWS_WITH_AS(Adam({&bad}), doctest::Contains("same shape"), std::invalid_argument);
    CHECK_THROWS_AS(SGD({&a}, {.lr = -1}), std::invalid_argument);
    CHECK_THROWS_WITH_AS(SGD({&a}, {.lr = real(0.1), .momentum = 1}), doctest::Contains("momentum"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({&a}, {.beta1 = real(1.5)}), doctest::Contains("beta1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({&a}, {.beta2 = -real(0.1)}), doctest::Contains("beta2"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(Adam({&a}, {.eps = -1}), doctest::Contains("eps"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(RMSprop({&a}, {.alpha = 1}), doctest::Contains("alpha"),
                         std::invalid_argument);
    CHECK_THROWS_AS(RMSprop({&a}, {.lr = std::numeric_limits<real>::quiet_NaN()}),
                    std::invalid_argument);
    // An empty list is fine (a model without parameters); step does nothing.
    Adam empty({});
    empty.step();
    CHECK(empty.steps() == 1);
    CHECK(nfvi::clip_grad_norm({}, 1) == 0);
}

// ---- clip_grad_norm --------------------------------------------------------------------------

TEST_CASE("clip_grad_norm over several parameters") {
    Parameter a = make_param("a", Shape{2}, {0, 0});
    Parameter b = make_param("b", Shape{1}, {0});
    Parameter c = make_param("c", Shape{2, 2}, {0, 0, 0, 0});
    ParameterList ps{&a, &b, &c};
    auto fill = [&] {
        set_grad(a, {3, 4});
        set_grad(b, {12});
        set_grad(c, {0, 0, 0, 0});  // global norm sqrt(9 + 16 + 144) = 13
    };

    SUBCASE("above max_norm: scaled down to max_norm, direction kept") {
        fill();
        real before = nfvi::clip_grad_norm(ps, real(6.5));
        CHECK(d(before) == doctest::Approx(13).epsilon(1e-7));
        CHECK(nfvi::grad_norm(ps) == doctest::Approx(6.5).epsilon(1e-6));
        CHECK(d(a.grad[0]) == doctest::Approx(1.5).epsilon(1e-6));
        CHECK(d(a.grad[1]) == doctest::Approx(2.0).epsilon(1e-6));
        CHECK(d(b.grad[0]) == doctest::Approx(6.0).epsilon(1e-6));
        CHECK(c.grad[3] == 0);
    }
    SUBCASE("below max_norm: grads untouched, bit for bit") {
        fill();
        real before = nfvi::clip_grad_norm(ps, 20);
        CHECK(d(before) == doctest::Approx(13).epsilon(1e-7));
        check_close(values(a), {0, 0}, 0);
        CHECK(a.grad[0] == real(3));
        CHECK(a.grad[1] == real(4));
        CHECK(b.grad[0] == real(12));
    }
    SUBCASE("a non-finite grad: norm is NaN/Inf, grads untouched") {
        fill();
        b.grad[0] = std::numeric_limits<real>::infinity();
        CHECK(std::isinf(nfvi::clip_grad_norm(ps, 1)));
        CHECK(a.grad[1] == real(4));
        b.grad[0] = std::numeric_limits<real>::quiet_NaN();
        CHECK(std::isnan(nfvi::clip_grad_norm(ps, 1)));
        CHECK(a.grad[0] == real(3));
    }
    SUBCASE("bad max_norm") {
        fill();
        CHECK_THROWS_AS(nfvi::clip_grad_norm(ps, -1), std::invalid_argument);
        CHECK_THROWS_AS(nfvi::clip_grad_norm(ps, std::numeric_limits<real>::quiet_NaN()),
                        std::invalid_argument);
    }
}

TEST_CASE("grad_norm matches a naive double sum on long ragged parameters") {
    for (int n : {1, 7, 8, 9, 1001}) {
        Parameter p("p", Shape{n});
        std::vector<double> g = grads_at(3, static_cast<std::size_t>(n));
        set_grad(p, g);
        double want = 0;
        for (std::int64_t i = 0; i < n; ++i) want += d(p.grad[i]) * d(p.grad[i]);
        INFO("n = " << n);
        CHECK(nfvi::grad_norm({&p}) == doctest::Approx(std::sqrt(want)).epsilon(1e-14));
    }
}

// ---- state -----------------------------------------------------------------------------------

namespace {

// Grads that depend on the current values, so that a wrong restored state shows up.
void fake_backward(ParameterList& ps, int t) {
    for (Parameter* p : ps)
        for (std::int64_t i = 0; i < p->value.numel(); ++i)
            p->grad[i] = static_cast<real>(0.5 * d(p->value[i]) +
                                           std::sin(0.9 * static_cast<double>(i) + t));
}

template <class Opt, class Options>
void check_resume(Options options) {
    Parameter a = make_param("a", Shape{2, 3}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7});
    Parameter b = make_param("b", Shape{4}, {1, 2, 3, 4});
    ParameterList ps{&a, &b};
    Opt opt(ps, options);
    for (int t = 0; t < 3; ++t) {
        fake_backward(ps, t);
        opt.step();
    }
    std::vector<std::byte> saved = opt.save_state();
    Parameter a2 = a, b2 = b;  // the parameters as a checkpoint would hold them
    for (int t = 3; t < 6; ++t) {
        fake_backward(ps, t);
        opt.step();
    }

    ParameterList ps2{&a2, &b2};
    Opt fresh(ps2);  // default options: load_state restores the saved ones
    fresh.load_state(saved);
    CHECK(fresh.steps() == 3);
    CHECK(fresh.lr() == opt.lr());
    CHECK(fresh.slots() == opt.slots());
    for (int t = 3; t < 6; ++t) {
        fake_backward(ps2, t);
        fresh.step();
    }
    CHECK(same_bits(a2.value, a.value));
    CHECK(same_bits(b2.value, b.value));
    for (int s = 0; s < opt.slots(); ++s)
        for (std::size_t i = 0; i < 2; ++i) CHECK(same_bits(fresh.state(s, i), opt.state(s, i)));
    CHECK(fresh.save_state() == opt.save_state());
}

}  // namespace

TEST_CASE("save_state / load_state: a resumed run is bit-identical") {
    SUBCASE("SGD, momentum") {
        check_resume<SGD>(SGDOptions{.lr = real(0.05), .momentum = real(0.9)});
    }
    SUBCASE("SGD, plain") { check_resume<SGD>(SGDOptions{.lr = real(0.05), .momentum = 0}); }
    SUBCASE("Adam") { check_resume<Adam>(AdamOptions{.lr = real(0.02), .beta1 = real(0.85)}); }
    SUBCASE("RMSprop, momentum") {
        check_resume<RMSprop>(RMSpropOptions{.lr = real(0.01), .momentum = real(0.5)});
    }
    SUBCASE("RMSprop, plain") {
        check_resume<RMSprop>(RMSpropOptions{.lr = real(0.03), .alpha = real(0.9)});
    }
}

TEST_CASE("save_state: the documented header") {
    Parameter a = make_param("a", Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    Adam opt({&a}, {.lr = real(0.5)});
    set_grad(a, {1, 1, 1, 1, 1, 1});
    opt.step();
    std::vector<std::byte> s = opt.save_state();
    auto u32 = [&](std::size_t at) {
        std::uint32_t x;
        std::memcpy(&x, s.data() + at, 4);
        return x;
    };
    CHECK(std::memcmp(s.data(), "NFVIOPT", 8) == 0);
    CHECK(u32(8) == 1);
    CHECK(u32(12) == 0x01020304u);
    CHECK(u32(16) == sizeof(real));
    CHECK(u32(20) == 2);
    std::int64_t steps;
    std::memcpy(&steps, s.data() + 24, 8);
    CHECK(steps == 1);
    CHECK(u32(32) == 4);
    double lr;
    std::memcpy(&lr, s.data() + 36, 8);
    CHECK(lr == 0.5);
    // header 36 + 4·8 + 8, then 2 buffers of (4 + 16 + 8) + 6 reals
    CHECK(s.size() == 36 + 32 + 8 + 2 * (28 + 6 * sizeof(real)));
}

TEST_CASE("load_state refuses a state that does not fit, and changes nothing then") {
    Parameter a = make_param("a", Shape{2, 3}, {0.3, -1.2, 2.0, 0.0, 5.0, -0.7});
    Parameter b = make_param("b", Shape{4}, {1, 2, 3, 4});
    ParameterList ps{&a, &b};
    Adam adam(ps);
    fake_backward(ps, 0);
    adam.step();
    const std::vector<std::byte> good = adam.save_state();

    Parameter a2 = a, b2 = b;
    Adam target({&a2, &b2});
    fake_backward(ps, 1);
    target.step();
    target.step();
    const std::vector<std::byte> before = target.save_state();
    auto refused = [&](const std::vector<std::byte>& bytes, const char* says) {
        INFO("expected a message containing: " << says);
        CHECK_THROWS_WITH_AS(target.load_state(bytes), doctest::Contains(says), std::runtime_error);
        CHECK(target.save_state() == before);
    };

    SUBCASE("wrong kind") {
        SGD sgd({&a2, &b2}, {.momentum = real(0.9)});
        CHECK_THROWS_WITH_AS(
            sgd.load_state(good),
            doctest::Contains("holds Adam optimizer state, but this optimizer is SGD"),
            std::runtime_error);
        refused(sgd.save_state(), "SGD");
        RMSprop rms({&a2, &b2});
        refused(rms.save_state(), "RMSprop");
    }
    SUBCASE("wrong shapes") {
        Parameter t1 = make_param("a", Shape{3, 2}, {1, 2, 3, 4, 5, 6});
        Parameter t2 = make_param("b", Shape{4}, {1, 2, 3, 4});
        Adam other({&t1, &t2});
        refused(other.save_state(),
                "has shape [3,2] (6 elements), but the parameter has shape [2,3]");
        Adam fewer({&t2});
        refused(fewer.save_state(), "state buffers");
        Parameter t3 = make_param("b", Shape{5}, {1, 2, 3, 4, 5});
        Adam longer({&a2, &t3});
        refused(longer.save_state(), "[5]");
    }
    SUBCASE("truncated bytes, at every length") {
        for (std::size_t n = 0; n < good.size(); ++n) {
            INFO("length " << n << " of " << good.size());
            refused(
                std::vector<std::byte>(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)),
                "truncated");
        }
        std::vector<std::byte> longer = good;
        longer.push_back(std::byte{0});
        refused(longer, "unexpected bytes");
    }
    SUBCASE("corrupted header") {
        std::vector<std::byte> bad = good;
        bad[0] = std::byte{'X'};
        refused(bad, "magic");
        bad = good;
        bad[8] = std::byte{7};
        refused(bad, "format version 7");
        bad = good;
        std::uint32_t tag = 0x04030201u;
        std::memcpy(bad.data() + 12, &tag, 4);
        refused(bad, "byte order");
        bad = good;
        double lr = -1;
        std::memcpy(bad.data() + 36, &lr, 8);
        refused(bad, "learning rate");
        bad = good;
        double beta2 = 2;
        std::memcpy(bad.data() + 36 + 16, &beta2, 8);
        refused(bad, "beta2");
    }
    SUBCASE("a float state into a double build, or the reverse") {
        std::vector<std::byte> bad = good;
        std::uint32_t other = kFloat ? 8 : 4;
        std::memcpy(bad.data() + 16, &other, 4);
        refused(bad, kFloat ? "holds 8-byte reals (a double build of nfvi), but this build uses "
                              "4-byte reals (float)"
                            : "holds 4-byte reals (a float build of nfvi), but this build uses "
                              "8-byte reals (double)");
    }
    // After all these, the target still works and still holds its own state.
    target.step();
    CHECK(target.steps() == 3);
}

// ---- convergence -----------------------------------------------------------------------------

namespace {

// f(p) = ½ Σ a_i (p_i - c_i)², minimized from p = 0; returns max |p_i - c_i| after `steps`.
double minimize_quadratic(Optimizer& opt, Parameter& p, int steps) {
    const double a[] = {1, 4, 0.25, 2};
    const double c[] = {1, -2, 0.5, 3};
    for (int t = 0; t < steps; ++t) {
        opt.zero_grad();
        for (std::int64_t i = 0; i < 4; ++i)
            p.grad[i] += static_cast<real>(a[i] * (d(p.value[i]) - c[i]));
        opt.step();
    }
    double err = 0;
    for (std::int64_t i = 0; i < 4; ++i) err = std::max(err, std::abs(d(p.value[i]) - c[i]));
    return err;
}

}  // namespace

TEST_CASE("each optimizer minimizes a quadratic") {
    Parameter p("p", Shape{4});
    SUBCASE("SGD") {
        SGD opt({&p}, {.lr = real(0.2)});
        CHECK(minimize_quadratic(opt, p, 300) < 1e-4);
    }
    SUBCASE("SGD, momentum") {
        SGD opt({&p}, {.lr = real(0.05), .momentum = real(0.9)});
        CHECK(minimize_quadratic(opt, p, 400) < 1e-4);
    }
    SUBCASE("Adam") {
        Adam opt({&p}, {.lr = real(0.05)});
        CHECK(minimize_quadratic(opt, p, 2000) < 1e-3);
    }
    SUBCASE("RMSprop") {
        RMSprop opt({&p}, {.lr = real(0.01)});
        CHECK(minimize_quadratic(opt, p, 2000) < 1e-3);
    }
    SUBCASE("RMSprop, momentum") {
        RMSprop opt({&p}, {.lr = real(0.005), .momentum = real(0.9)});
        CHECK(minimize_quadratic(opt, p, 2000) < 1e-3);
    }
}

// ---- threads and allocation ------------------------------------------------------------------

namespace {

// Runs 3 steps of each optimizer on a parameter large enough to be split over threads.
std::vector<Tensor> run_large(int threads) {
    nfvi::set_num_threads(threads);
    std::vector<Tensor> out;
    const int n = 100003;  // > 2 grains, ragged
    Parameter p1("p1", Shape{n}), p2("p2", Shape{n}), p3("p3", Shape{n}), p4("p4", Shape{n});
    SGD sgd({&p1}, {.lr = real(0.1), .momentum = real(0.9)});
    Adam adam({&p2});
    RMSprop rms({&p3}, {.momentum = real(0.5)});
    RMSprop rms0({&p4});
    ParameterList all{&p1, &p2, &p3, &p4};
    for (int t = 0; t < 3; ++t) {
        fake_backward(all, t);
        real norm = nfvi::clip_grad_norm(all, 100);
        out.push_back(Tensor(Shape{1}, {norm}));
        sgd.step();
        adam.step();
        rms.step();
        rms0.step();
    }
    for (Parameter* p : all) out.push_back(p->value);
    nfvi::set_num_threads(1);
    return out;
}

}  // namespace

TEST_CASE("results do not depend on the number of threads") {
    std::vector<Tensor> one = run_large(1);
    std::vector<Tensor> two = run_large(2);
    REQUIRE(one.size() == two.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
        INFO("result " << i);
        CHECK(same_bits(one[i], two[i]));
    }
}

TEST_CASE("step() and clip_grad_norm allocate nothing") {
    for (int threads : {1, 2}) {
        nfvi::set_num_threads(threads);
        Parameter a("a", Shape{70000}), b("b", Shape{3, 5});
        ParameterList ps{&a, &b};
        SGD sgd(ps, {.momentum = real(0.9)});
        SGD plain(ps);
        Adam adam(ps);
        RMSprop rms(ps);
        RMSprop rmsm(ps, {.momentum = real(0.9)});
        fake_backward(ps, 0);
        g_allocs = 0;
        g_counting = true;
        for (int t = 0; t < 2; ++t) {
            nfvi::clip_grad_norm(ps, real(0.5));
            sgd.step();
            plain.step();
            adam.step();
            rms.step();
            rmsm.step();
            sgd.zero_grad();
        }
        g_counting = false;
        INFO("threads " << threads);
        CHECK(g_allocs.load() == 0);
    }
    nfvi::set_num_threads(1);
}
