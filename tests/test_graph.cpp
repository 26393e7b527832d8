// The tape itself: values, the reverse loop, leaves, memory reuse, errors, determinism.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "autodiff/ops.h"
#include "autodiff/thread_pool.h"
#include "test_util.h"

using namespace nfvi;
using test::Fill;

TEST_CASE("tensors: shape, aligned storage, deep copies") {
    Tensor t(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
    CHECK(t.rows() == 2);
    CHECK(t.cols() == 3);
    CHECK(t.at(1, 2) == 6);
    CHECK(reinterpret_cast<std::uintptr_t>(t.data()) % kAlign == 0);
    Tensor u = t;
    u[0] = 10;
    CHECK(t[0] == 1);
    CHECK(Shape{2, 3, 4}.rows() == 6);
    CHECK(Shape{2, 3, 4}.cols() == 4);
    CHECK(Shape{}.numel() == 1);
    CHECK_THROWS_AS(Shape({1, 2, 3, 4, 5}), std::invalid_argument);
    CHECK_THROWS_AS(Tensor(Shape{2, 2}, {1, 2, 3}), std::invalid_argument);
}

TEST_CASE("diamond: a node used twice gets both gradients, each backward runs once") {
    Parameter a("a", Tensor(Shape{1, 1}, {3}));
    Graph g;
    Var va = g.param(a);
    Var b = va + va;  // 2a
    Var c = b * b;    // 4a²
    CHECK(c.item() == doctest::Approx(36));
    g.backward(c);
    CHECK(a.grad[0] == doctest::Approx(24));  // d(4a²)/da = 8a
    CHECK(g.backward_calls() == 2);           // mul and add, once each
}

TEST_CASE("a chain: values and gradients by hand") {
    Parameter x("x", Tensor(Shape{1, 2}, {0.5, -1.0}));
    Graph g;
    Var v = g.param(x);
    Var y = sum(exp(v) * v);  // Σ x e^x
    CHECK(y.item() == doctest::Approx(0.5 * std::exp(0.5) - std::exp(-1.0)));
    g.backward(y);
    CHECK(x.grad[0] == doctest::Approx(std::exp(0.5) * 1.5));  // e^x (1 + x)
    CHECK(x.grad[1] == doctest::Approx(0.0).epsilon(1e-6));
}

TEST_CASE("parameter gradients accumulate across backward calls until zeroed") {
    Parameter w("w", Tensor(Shape{1, 1}, {2}));
    Graph g;
    for (int i = 0; i < 3; ++i) {
        g.clear();
        Var y = square(g.param(w));
        g.backward(y);
    }
    CHECK(w.grad[0] == doctest::Approx(12));  // 3 × 2w
    w.zero_grad();
    CHECK(w.grad[0] == 0);
}

TEST_CASE("a second backward on the same tape adds only its own output's gradient") {
    Parameter a("a", Tensor(Shape{1, 1}, {2}));
    Graph g;
    Var x = g.param(a);
    Var y = square(x);          // dy/da = 2a = 4
    Var z = real(3) * exp(x);   // dz/da = 3e^a
    g.backward(y);
    g.backward(z);
    CHECK(a.grad[0] == doctest::Approx(4 + 3 * std::exp(2.0)));
    Var w = y * z;              // built on the same tape after both backwards
    a.zero_grad();
    g.backward(w);              // d(a² · 3e^a)/da = 3e^a (2a + a²)
    CHECK(a.grad[0] == doctest::Approx(3 * std::exp(2.0) * (4 + 4)));
}

TEST_CASE("constants get no gradient and cost no backward") {
    Graph g;
    Var c = g.input(Tensor(Shape{2, 2}, {1, 2, 3, 4}));
    Var y = sum(c * c);
    g.backward(y);
    CHECK(g.backward_calls() == 0);
    CHECK(c.grad().data == nullptr);
}

TEST_CASE("clear() keeps the arena: the same step twice uses no new chunk") {
    Parameter w("w", Fill(1).tensor(Shape{64, 64}, -1, 1));
    Graph g;
    auto step = [&] {
        g.clear();
        Var x = g.input(Fill(2).tensor(Shape{32, 64}, -1, 1));
        Var y = sum(tanh(matmul(x, g.param(w), false, true)));
        g.backward(y);
    };
    step();
    step();
    std::int64_t cap = g.arena().capacity();
    for (int i = 0; i < 5; ++i) step();
    CHECK(g.arena().capacity() == cap);
}

TEST_CASE("shape errors say what is wrong") {
    Graph g;
    Var a = g.input(Shape{3, 4});
    Var b = g.input(Shape{2, 4});
    CHECK_THROWS_WITH_AS(a + b, doctest::Contains("cannot broadcast [3,4] against [2,4]"),
                         std::invalid_argument);
    CHECK_THROWS_AS(matmul(a, b), std::invalid_argument);
    CHECK_THROWS_AS(slice_cols(a, 2, 5), std::invalid_argument);
    CHECK_THROWS_AS(reshape(a, Shape{5, 2}), std::invalid_argument);
    CHECK_THROWS_AS(sum(a, 2), std::invalid_argument);
    CHECK_THROWS_WITH_AS(g.backward(a), doctest::Contains("one element"), std::invalid_argument);
    Graph other;
    Var c = other.input(Shape{3, 4});
    CHECK_THROWS_AS(a + c, std::invalid_argument);
}

TEST_CASE("stable forms: no overflow at the tails") {
    Graph g;
    Var x = g.input(test::row({-1000, -30, 0, 30, 1000}));
    Var sp = softplus(x);
    CHECK(sp.data()[0] == 0);
    CHECK(sp.data()[2] == doctest::Approx(std::log(2.0)));
    CHECK(sp.data()[4] == 1000);
    Var sg = sigmoid(x);
    CHECK(sg.data()[0] == 0);
    CHECK(sg.data()[4] == 1);
    Var lse = logsumexp(x, 1);
    CHECK(lse.item() == 1000);
    Var logits = g.input(test::row({-1000, 1000}));
    Var obs = g.input(test::row({0, 1}));
    CHECK(bernoulli_logits_loglik(logits, obs).item() == 0);
    Var inf = g.input(test::row({-std::numeric_limits<double>::infinity()}));
    CHECK(std::isinf(logsumexp(inf, 1).item()));
}

TEST_CASE("results are bit-identical for 1, 2 and 4 threads") {
    const int rows = 300, cols = 700;  // large enough that elementwise ops and sums split
    Tensor xv = Fill(3).tensor(Shape{rows, cols}, -2, 2);
    Tensor wv = Fill(4).tensor(Shape{cols, 96}, -1, 1);
    // A layer as the VAE has them: linear (bias copied and its gradient summed by threads that
    // own columns), ELU and the Bernoulli log-likelihood (split by rows).
    Tensor lw = Fill(5).tensor(Shape{256, cols}, -0.1, 0.1), lb = Fill(6).tensor(Shape{1, 256}, -1, 1);
    Tensor target = Fill(7).tensor(Shape{rows, 256}, 0, 1);
    auto run = [&](int threads, Tensor& grad_out, Tensor& bias_grad) {
        set_num_threads(threads);
        Parameter x("x", xv), w("w", wv), w2("w2", lw), b2("b2", lb);
        Graph g;
        Var h = tanh(matmul(g.param(x), g.param(w)));
        Var y = sum(softplus(h) * h) + sum(exp(g.param(x) * 0.1));
        Var l = elu(linear(g.param(x), g.param(w2), g.param(b2)));
        y = y + sum(bernoulli_logits_loglik(l, g.input(target)));
        g.backward(y);
        grad_out = x.grad;
        bias_grad = b2.grad;
        return y.item();
    };
    Tensor g1, g2, g4, b1, b2, b4;
    real y1 = run(1, g1, b1), y2 = run(2, g2, b2), y4 = run(4, g4, b4);
    set_num_threads(1);
    CHECK(y1 == y2);
    CHECK(y1 == y4);
    bool same = true;
    for (std::int64_t i = 0; i < g1.numel(); ++i) same = same && g1[i] == g2[i] && g1[i] == g4[i];
    for (std::int64_t i = 0; i < b1.numel(); ++i) same = same && b1[i] == b2[i] && b1[i] == b4[i];
    CHECK(same);
}

TEST_CASE("parallel_for covers the range once, in disjoint parts") {
    set_num_threads(3);
    std::vector<int> hits(100000, 0);
    parallel_for(static_cast<std::int64_t>(hits.size()), 1000, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)] += 1;
    });
    set_num_threads(1);
    bool once = true;
    for (int h : hits) once = once && h == 1;
    CHECK(once);
}

TEST_CASE("grad_to_write: the first gradient of a node is assigned, later ones added") {
    Graph g;
    Var x = g.input(Tensor(Shape{1, 3}, {1, 2, 3}));
    bool assign = false;
    TensorRef first = g.grad_to_write(x.id(), assign);
    CHECK(assign);  // new: the caller must set every element
    CHECK(first.shape == x.shape());
    for (std::int64_t i = 0; i < 3; ++i) first.data[i] = real(i + 1);
    TensorRef again = g.grad_to_write(x.id(), assign);
    CHECK_FALSE(assign);  // made: add to it
    CHECK(again.data == first.data);
    CHECK(g.grad_of(x.id()).data == first.data);
    CHECK(again.data[2] == 3);
    // grad_of first, then grad_to_write: zeros to add to.
    Var y = g.input(Shape{2, 2});
    TensorRef z = g.grad_of(y.id());
    CHECK(g.grad_to_write(y.id(), assign).data == z.data);
    CHECK_FALSE(assign);
    for (std::int64_t i = 0; i < 4; ++i) CHECK(z.data[i] == 0);
}

TEST_CASE("a node whose first gradient is assigned and a second added: both arrive") {
    // t feeds exp (whose backward assigns t's first gradient) and, later on the tape, a
    // matmul (whose backward runs first and writes it with beta = 0); then exp adds.
    Parameter x("x", Tensor(Shape{2, 2}, {0.5, -1, 2, 0.25}));
    Parameter w("w", Tensor(Shape{2, 2}, {1, 2, -1, 0.5}));
    Graph g;
    Var t = g.param(x) * 2.0;                 // [2,2], a tape node
    Var e = exp(t);                           // first consumer
    Var m = matmul(t, g.param(w));            // second consumer, later on the tape
    Var y = sum(e) + sum(m);
    g.backward(y);
    // dy/dt = e^t + 1·wᵀ summed over m's columns: dy/dt[i][k] = e^t[i][k] + Σ_j w[k][j].
    const double rowsum_w[2] = {1 + 2, -1 + 0.5};
    for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 2; ++k) {
            const double tv = 2.0 * x.value.at(i, k);
            CHECK(x.grad.at(i, k) == doctest::Approx(2 * (std::exp(tv) + rowsum_w[k])));
        }
}
