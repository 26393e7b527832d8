// A training loop allocates nothing after its first step: this suite replaces the global
// operator new and counts every heap allocation made by steps 2..N.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <vector>
#include <cstdlib>
#include <new>

#include "autodiff/ops.h"
#include "autodiff/optim.h"
#include "autodiff/rng.h"
#include "autodiff/thread_pool.h"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    std::size_t al = static_cast<std::size_t>(a);
    if (void* p = std::aligned_alloc(al, (n + al - 1) / al * al)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

using namespace nfvi;

namespace {

// A two-layer MLP regressing random targets from random inputs, trained with Adam.
struct Mlp {
    Parameter w1{"w1", Shape{32, 8}}, b1{"b1", Shape{1, 32}};
    Parameter w2{"w2", Shape{1, 32}}, b2{"b2", Shape{1, 1}};
    ParameterList params() { return {&w1, &b1, &w2, &b2}; }
};

long allocations_in_steps(int threads) {
    set_num_threads(threads);
    Mlp m;
    Rng rng(7);
    rng.normal(m.w1.value.data(), m.w1.value.numel());
    rng.normal(m.w2.value.data(), m.w2.value.numel());
    const ParameterList params = m.params();
    Adam opt(params, AdamOptions{.lr = 1e-2});
    Tensor x(Shape{64, 8}), y(Shape{64, 1});
    Graph g;
    real first_loss = 0, last_loss = 0;
    long before = 0;
    for (int step = 0; step < 50; ++step) {
        if (step == 1) before = g_allocations.load();
        rng.normal(x.data(), x.numel());
        for (int i = 0; i < 64; ++i) y[i] = x.at(i, 0) - real(0.5) * x.at(i, 1);
        g.clear();
        opt.zero_grad();
        Var h = tanh(linear(g.input(x), g.param(m.w1), g.param(m.b1)));
        Var pred = linear(h, g.param(m.w2), g.param(m.b2));
        Var loss = mean(square(pred - g.input(y)));
        g.backward(loss);
        clip_grad_norm(params, 10);
        opt.step();
        (step == 0 ? first_loss : last_loss) = loss.item();
    }
    long made = g_allocations.load() - before;
    set_num_threads(1);
    CHECK(last_loss < first_loss);  // it does train
    return made;
}

}  // namespace

TEST_CASE("steps 2..N of a training loop allocate nothing (1 thread)") {
    CHECK(allocations_in_steps(1) == 0);
}

TEST_CASE("steps 2..N of a training loop allocate nothing (2 threads)") {
    CHECK(allocations_in_steps(2) == 0);
}

TEST_CASE("the counter sees allocations (the test can fail)") {
    long before = g_allocations.load();
    Tensor t(Shape{10, 10});
    CHECK(g_allocations.load() > before);
}

#include "models/vae.h"

namespace {

// The NF-VAE's update: encoder, amortized planar flow, decoder, ELBO, Adam.
long vae_allocations_in_steps(int threads) {
    set_num_threads(threads);
    VaeShape s;
    s.data_dim = 20, s.latent = 4, s.hidden = {16, 16}, s.flow = "planar", s.layers = 3;
    Vae m(s, 3);
    const ParameterList params = m.params();
    Adam opt(params, AdamOptions{.lr = 1e-3f});
    Tensor x(Shape{32, 20});
    std::vector<real> p(static_cast<std::size_t>(x.numel()), real(0.3));
    Rng rng(1), data(2);
    Graph g;
    real first = 0, last = 0;
    long before = 0;
    for (int step = 0; step < 40; ++step) {
        if (step == 1) before = g_allocations.load();
        data.bernoulli(x.data(), p.data(), x.numel());
        g.clear();
        opt.zero_grad();
        Var loss = vae_loss(vae_terms(g, m, g.input(x), rng, 2), real(0.5));
        g.backward(loss);
        opt.step();
        (step == 0 ? first : last) = loss.item();
    }
    long made = g_allocations.load() - before;
    set_num_threads(1);
    CHECK(std::isfinite(last));
    CHECK(last < first);
    return made;
}

}  // namespace

TEST_CASE("steps 2..N of NF-VAE training allocate nothing (1 and 2 threads)") {
    CHECK(vae_allocations_in_steps(1) == 0);
    CHECK(vae_allocations_in_steps(2) == 0);
}
#include "models/conditional.h"

namespace {

// Conditional VI's update: network θ → q(z|θ), one planar node per angle, rotated energy, Adam.
long conditional_allocations_in_steps(int threads) {
    set_num_threads(threads);
    ConditionalShape s;
    s.layers = 4, s.hidden = {16, 16}, s.input = AngleInput::CosSin;
    ConditionalFlow m(s, 3);
    const ParameterList params = m.params();
    Adam opt(params, AdamOptions{.lr = 1e-3f});
    Rng rng(1);
    Graph g;
    std::vector<real> angles(8);
    real first = 0, last = 0;
    long before = 0;
    for (int step = 0; step < 40; ++step) {
        // Step 0 grows the tape chunk by chunk and the clear() of step 1 merges the chunks into
        // one block; from step 2 on nothing is allocated.
        if (step == 2) before = g_allocations.load();
        draw_angles(rng, angles);
        g.clear();
        opt.zero_grad();
        Var loss = conditional_loss(g, m, angles, 300, rng);  // 300 samples: several chunks per node
        g.backward(loss);
        opt.step();
        (step == 0 ? first : last) = loss.item();
    }
    long made = g_allocations.load() - before;
    set_num_threads(1);
    CHECK(last < first);  // it does train
    return made;
}

}  // namespace

TEST_CASE("steps 3..N of conditional VI allocate nothing (1 and 2 threads)") {
    CHECK(conditional_allocations_in_steps(1) == 0);
    CHECK(conditional_allocations_in_steps(2) == 0);
}
