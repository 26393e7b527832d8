// Elementwise ops: y = f(x), and their backwards gx += gy · f'(x), written with each forward.
// Derivatives use the output where that is cheaper (exp' = y, tanh' = 1 − y²). In the float
// build exp, expm1, log, log1p and tanh are fast_math.h's, so that the loops vectorize.
#include <cmath>

#include "autodiff/fast_math.h"
#include "autodiff/ops_internal.h"

namespace nfvi {
namespace {

using detail::for_range;
using detail::stable_sigmoid;
using detail::stable_softplus;

// The loops, on restrict pointers (a node's value and gradient never share memory with its
// input's), so that they vectorize; f and d are taken by value, so that their constants stay
// in registers.
template <class F>
void map_range(const real* __restrict x, real* __restrict y, std::int64_t n, F f) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <bool kAssign, class D>
void grad_range(const real* __restrict x, const real* __restrict y, const real* __restrict gy,
                real* __restrict gx, std::int64_t n, D d) {
    for (std::int64_t i = 0; i < n; ++i) {
        const real t = gy[i] * d(x[i], y[i]);
        if constexpr (kAssign) gx[i] = t;
        else gx[i] += t;
    }
}

template <class F>
Var unary(Op op, Var x, F f) {
    Var y = x.graph().make(op, x.shape(), {x});
    const real* xp = x.data();
    real* yp = y.data();
    for_range(x.value().numel(), [&](std::int64_t b, std::int64_t e) { map_range(xp + b, yp + b, e - b, f); });
    return y;
}

// d(x, y) is dy/dx at x, where y = f(x). The first gradient to reach x is assigned, not added
// to zeros.
template <class D>
void unary_backward(Graph& g, Node& n, D d) {
    if (!detail::wants_grad(g, n, 0)) return;
    const real* xp = detail::parent(g, n, 0).value.data;
    const real* yp = n.value.data;
    const real* gy = n.grad.data;
    bool assign = false;
    real* gx = g.grad_to_write(n.parent[0], assign).data;
    for_range(n.value.numel(), [&](std::int64_t b, std::int64_t e) {
        if (assign) grad_range<true>(xp + b, yp + b, gy + b, gx + b, e - b, d);
        else grad_range<false>(xp + b, yp + b, gy + b, gx + b, e - b, d);
    });
}

}  // namespace

Var neg(Var x) { return unary(Op::Neg, x, [](real v) { return -v; }); }
void backward_Neg(Graph& g, Node& n) {
    unary_backward(g, n, [](real, real) { return real(-1); });
}

Var affine(Var x, real scale, real shift) {
    Var y = unary(Op::Affine, x, [=](real v) { return scale * v + shift; });
    y.graph().node(y.id()).fattr[0] = scale;
    return y;
}
void backward_Affine(Graph& g, Node& n) {
    real scale = static_cast<real>(n.fattr[0]);
    unary_backward(g, n, [=](real, real) { return scale; });
}

Var exp(Var x) { return unary(Op::Exp, x, [](real v) { return detail::exp_r(v); }); }
void backward_Exp(Graph& g, Node& n) {
    unary_backward(g, n, [](real, real y) { return y; });
}

Var log(Var x) { return unary(Op::Log, x, [](real v) { return detail::log_r(v); }); }
void backward_Log(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return real(1) / x; });
}

Var log1p(Var x) { return unary(Op::Log1p, x, [](real v) { return detail::log1p_r(v); }); }
void backward_Log1p(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return real(1) / (real(1) + x); });
}

Var tanh(Var x) { return unary(Op::Tanh, x, [](real v) { return detail::tanh_r(v); }); }
void backward_Tanh(Graph& g, Node& n) {
    unary_backward(g, n, [](real, real y) { return real(1) - y * y; });
}

Var sigmoid(Var x) { return unary(Op::Sigmoid, x, stable_sigmoid); }
void backward_Sigmoid(Graph& g, Node& n) {
    unary_backward(g, n, [](real, real y) { return y * (real(1) - y); });
}

Var softplus(Var x) { return unary(Op::Softplus, x, stable_softplus); }
void backward_Softplus(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return stable_sigmoid(x); });
}

Var elu(Var x, real alpha) {
    Var y = unary(Op::Elu, x, [=](real v) { return v > 0 ? v : alpha * detail::expm1_r(v); });
    y.graph().node(y.id()).fattr[0] = alpha;
    return y;
}
void backward_Elu(Graph& g, Node& n) {
    real alpha = static_cast<real>(n.fattr[0]);
    unary_backward(g, n, [=](real x, real y) { return x > 0 ? real(1) : y + alpha; });
}

Var relu(Var x) { return unary(Op::Relu, x, [](real v) { return v > 0 ? v : real(0); }); }
void backward_Relu(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return x > 0 ? real(1) : real(0); });
}

Var sqrt(Var x) { return unary(Op::Sqrt, x, [](real v) { return std::sqrt(v); }); }
void backward_Sqrt(Graph& g, Node& n) {
    unary_backward(g, n, [](real, real y) { return real(0.5) / y; });
}

Var square(Var x) { return unary(Op::Square, x, [](real v) { return v * v; }); }
void backward_Square(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return real(2) * x; });
}

Var abs(Var x) { return unary(Op::Abs, x, [](real v) { return std::abs(v); }); }
void backward_Abs(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return x > 0 ? real(1) : x < 0 ? real(-1) : real(0); });
}

// x^p for the common constant powers without calling std::pow.
inline real pow_c(real v, real p) {
    if (p == real(-1)) return real(1) / v;
    if (p == real(2)) return v * v;
    if (p == real(0.5)) return std::sqrt(v);
    if (p == real(1)) return v;
    return std::pow(v, p);
}

Var pow(Var x, real p) {
    Var y = unary(Op::Pow, x, [=](real v) { return pow_c(v, p); });
    y.graph().node(y.id()).fattr[0] = p;
    return y;
}
void backward_Pow(Graph& g, Node& n) {
    real p = static_cast<real>(n.fattr[0]);
    if (p == real(-1)) return unary_backward(g, n, [](real, real y) { return -y * y; });
    unary_backward(g, n, [=](real x, real) { return p * pow_c(x, p - real(1)); });
}

Var sin(Var x) { return unary(Op::Sin, x, [](real v) { return std::sin(v); }); }
void backward_Sin(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return std::cos(x); });
}

Var cos(Var x) { return unary(Op::Cos, x, [](real v) { return std::cos(v); }); }
void backward_Cos(Graph& g, Node& n) {
    unary_backward(g, n, [](real x, real) { return -std::sin(x); });
}

}  // namespace nfvi
