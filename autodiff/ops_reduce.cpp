// Reductions: sum, mean, max and logsumexp over everything or along an axis.
//
// Whole-tensor sums add fixed chunks in double and then the chunk partials in order, so the
// result has the same bits for any thread count. Axis reductions give each output element to
// one thread, which adds its inputs in index order.
#include <cmath>
#include <limits>

#include "autodiff/ops_internal.h"

namespace nfvi {
namespace {

constexpr std::int64_t kChunk = 4096;
constexpr int kAll = -1;

double sum_all(const real* x, std::int64_t n) {
    auto chunk_sum = [&](std::int64_t c) {
        double s = 0;
        std::int64_t e = std::min(n, (c + 1) * kChunk);
        for (std::int64_t i = c * kChunk; i < e; ++i) s += x[i];
        return s;
    };
    std::int64_t chunks = (n + kChunk - 1) / kChunk;
    constexpr std::int64_t kMaxPartials = 256;
    if (chunks <= 8 || chunks > kMaxPartials || num_threads() == 1) {
        double total = 0;
        for (std::int64_t c = 0; c < chunks; ++c) total += chunk_sum(c);
        return total;
    }
    double partial[kMaxPartials];
    parallel_chunks(chunks, [&](std::int64_t c) { partial[c] = chunk_sum(c); });
    double total = 0;
    for (std::int64_t c = 0; c < chunks; ++c) total += partial[c];
    return total;
}

int check_axis(const char* op, int axis) {
    if (axis != 0 && axis != 1)
        detail::shape_error(op, "axis must be 0 (over rows) or 1 (over columns), got " +
                                    std::to_string(axis));
    return axis;
}

Shape reduced(const Shape& s, int axis) {
    if (axis == kAll) return Shape{1, 1};
    return axis == 0 ? Shape::matrix(1, s.cols()) : Shape::matrix(s.rows(), 1);
}

// y = scale · Σ x over `axis`.
Var sum_scaled(Op op, Var x, int axis, bool mean) {
    const Shape& s = x.shape();
    const int R = s.rows(), C = s.cols();
    std::int64_t count = axis == kAll ? s.numel() : axis == 0 ? R : C;
    double scale = mean ? 1.0 / static_cast<double>(std::max<std::int64_t>(count, 1)) : 1.0;
    Var y = x.graph().make(op, reduced(s, axis), {x});
    Node& n = y.graph().node(y.id());
    n.iattr[0] = axis;
    n.fattr[0] = scale;
    const real* xp = x.data();
    real* yp = y.data();
    if (axis == kAll) {
        yp[0] = static_cast<real>(sum_all(xp, s.numel()) * scale);
    } else if (axis == 1) {
        parallel_for(R, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(C, 1)),
                     [&](std::int64_t lo, std::int64_t hi) {
                         for (std::int64_t r = lo; r < hi; ++r) {
                             real acc = 0;
                             for (int c = 0; c < C; ++c) acc += xp[r * C + c];
                             yp[r] = static_cast<real>(acc * scale);
                         }
                     });
    } else {
        std::fill(yp, yp + C, real(0));
        for (std::int64_t r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) yp[c] += xp[r * C + c];
        for (int c = 0; c < C; ++c) yp[c] = static_cast<real>(yp[c] * scale);
    }
    return y;
}

// gx (+)= scale · gy along one row of C: gy[c] when kRow, else the one value gy[0].
template <bool kAssign, bool kRow>
void sum_backward_row(const real* __restrict gy, real scale, real* __restrict gx, int C) {
    for (int c = 0; c < C; ++c) {
        const real t = scale * gy[kRow ? c : 0];
        if constexpr (kAssign) gx[c] = t;
        else gx[c] += t;
    }
}

// gx += scale · gy, broadcast back over the reduced axis (the first gradient is assigned).
void sum_backward(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    bool assign = false;
    TensorRef gx = g.grad_to_write(n.parent[0], assign);
    const real* gy = n.grad.data;
    const real scale = static_cast<real>(n.fattr[0]);
    const int R = gx.rows(), C = gx.cols();
    const int axis = n.iattr[0];
    parallel_for(R, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(C, 1)),
                 [&](std::int64_t lo, std::int64_t hi) {
                     for (std::int64_t r = lo; r < hi; ++r) {
                         real* row = gx.data + r * C;
                         if (axis == 0) {  // row r gets gy [1,C]
                             if (assign) sum_backward_row<true, true>(gy, scale, row, C);
                             else sum_backward_row<false, true>(gy, scale, row, C);
                         } else {  // row r gets gy[r] (axis 1) or gy[0] (all)
                             const real* v = axis == 1 ? gy + r : gy;
                             if (assign) sum_backward_row<true, false>(v, scale, row, C);
                             else sum_backward_row<false, false>(v, scale, row, C);
                         }
                     }
                 });
}

}  // namespace

Var sum(Var x) { return sum_scaled(Op::Sum, x, kAll, false); }
Var sum(Var x, int axis) { return sum_scaled(Op::Sum, x, check_axis("sum", axis), false); }
void backward_Sum(Graph& g, Node& n) { sum_backward(g, n); }

Var mean(Var x) { return sum_scaled(Op::Mean, x, kAll, true); }
Var mean(Var x, int axis) { return sum_scaled(Op::Mean, x, check_axis("mean", axis), true); }
void backward_Mean(Graph& g, Node& n) { sum_backward(g, n); }

// Max along an axis; the index of the (first) maximum is saved for the backward.
Var max(Var x, int axis) {
    check_axis("max", axis);
    const Shape& s = x.shape();
    const int R = s.rows(), C = s.cols();
    if (R == 0 || C == 0) detail::shape_error("max", "cannot take the max of an empty tensor");
    Graph& g = x.graph();
    Var y = g.make(Op::Max, reduced(s, axis), {x});
    Node& n = g.node(y.id());
    n.iattr[0] = axis;
    n.aux = g.alloc(y.shape());  // flat index into x of each maximum, stored as real
    const real* xp = x.data();
    real* yp = y.data();
    const std::int64_t outer = axis == 1 ? R : C, inner = axis == 1 ? C : R;
    const std::int64_t stride = axis == 1 ? 1 : C;
    for (std::int64_t o = 0; o < outer; ++o) {
        std::int64_t base = axis == 1 ? o * C : o;
        std::int64_t best = base;
        for (std::int64_t k = 1; k < inner; ++k) {
            std::int64_t i = base + k * stride;
            if (xp[i] > xp[best]) best = i;
        }
        yp[o] = xp[best];
        n.aux.data[o] = static_cast<real>(best);
    }
    return y;
}
void backward_Max(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    real* gx = g.grad_of(n.parent[0]).data;
    for (std::int64_t o = 0; o < n.value.numel(); ++o)
        gx[static_cast<std::int64_t>(n.aux.data[o])] += n.grad.data[o];
}

// y = m + log Σ exp(x − m), m the max along the axis; −inf when every input is −inf.
Var logsumexp(Var x, int axis) {
    check_axis("logsumexp", axis);
    const Shape& s = x.shape();
    const int R = s.rows(), C = s.cols();
    Graph& g = x.graph();
    Var y = g.make(Op::LogSumExp, reduced(s, axis), {x});
    g.node(y.id()).iattr[0] = axis;
    const real* xp = x.data();
    real* yp = y.data();
    const std::int64_t outer = axis == 1 ? R : C, inner = axis == 1 ? C : R;
    const std::int64_t stride = axis == 1 ? 1 : C;
    for (std::int64_t o = 0; o < outer; ++o) {
        std::int64_t base = axis == 1 ? o * C : o;
        real m = -std::numeric_limits<real>::infinity();
        for (std::int64_t k = 0; k < inner; ++k) m = std::max(m, xp[base + k * stride]);
        if (!std::isfinite(m)) {
            yp[o] = m;
            continue;
        }
        real acc = 0;
        for (std::int64_t k = 0; k < inner; ++k) acc += detail::exp_r(xp[base + k * stride] - m);
        yp[o] = m + detail::log_r(acc);
    }
    return y;
}
void backward_LogSumExp(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    const Node& X = detail::parent(g, n, 0);
    real* gx = g.grad_of(n.parent[0]).data;
    const int C = X.value.cols();
    const int axis = n.iattr[0];
    for (std::int64_t i = 0; i < X.value.numel(); ++i) {
        std::int64_t o = axis == 1 ? i / C : i % C;
        if (std::isfinite(n.value.data[o]))
            gx[i] += n.grad.data[o] * detail::exp_r(X.value.data[i] - n.value.data[o]);
    }
}

}  // namespace nfvi
