// Binary elementwise ops with broadcasting, and their backwards.
//
// out [R,C] = f(a, b), where each of a, b is [R,C], a row [1,C], a column [R,1] or a scalar
// [1,1]. The backward of a broadcast operand sums over the broadcast axis, serially and in a
// fixed order, so the result does not depend on the thread count.
#include "autodiff/ops_internal.h"

namespace nfvi {
namespace {

struct Bcast {
    int rows, cols;            // of the output
    bool a_row, a_col;         // a varies along rows / along cols
    bool b_row, b_col;
};

Bcast broadcast(const char* op, const Shape& a, const Shape& b) {
    int ra = a.rows(), ca = a.cols(), rb = b.rows(), cb = b.cols();
    Bcast s{std::max(ra, rb), std::max(ca, cb), ra != 1, ca != 1, rb != 1, cb != 1};
    bool ok = (ra == rb || ra == 1 || rb == 1) && (ca == cb || ca == 1 || cb == 1);
    if (!ok)
        detail::shape_error(op, "cannot broadcast " + a.str() + " against " + b.str() +
                                    " (a side must match, or be a row [1,n], a column [m,1] "
                                    "or a scalar [1,1])");
    return s;
}

// Index of element (r, c) of an operand that varies along rows/cols as given.
inline std::int64_t at(int r, int c, bool vr, bool vc, int cols) {
    return static_cast<std::int64_t>(vr ? r : 0) * (vc ? cols : 1) + (vc ? c : 0);
}

template <class F>
Var binary(Op op, const char* name, Var a, Var b, F f) {
    Bcast s = broadcast(name, a.shape(), b.shape());
    Shape out = a.shape() == b.shape() ? a.shape() : Shape::matrix(s.rows, s.cols);
    Var y = a.graph().make(op, out, {a, b});
    const real* ap = a.data();
    const real* bp = b.data();
    real* yp = y.data();
    if (a.shape() == b.shape()) {
        detail::for_range(out.numel(), [&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i) yp[i] = f(ap[i], bp[i]);
        });
        return y;
    }
    const int C = s.cols;
    for (int r = 0; r < s.rows; ++r) {
        const real* ar = ap + at(r, 0, s.a_row, s.a_col, C);
        const real* br = bp + at(r, 0, s.b_row, s.b_col, C);
        real* yr = yp + static_cast<std::int64_t>(r) * C;
        if (s.a_col && s.b_col)
            for (int c = 0; c < C; ++c) yr[c] = f(ar[c], br[c]);
        else if (s.a_col)
            for (int c = 0; c < C; ++c) yr[c] = f(ar[c], br[0]);
        else if (s.b_col)
            for (int c = 0; c < C; ++c) yr[c] = f(ar[0], br[c]);
        else
            for (int c = 0; c < C; ++c) yr[c] = f(ar[0], br[0]);
    }
    return y;
}

// gx (+)= gy · d(a, b, y) over n elements; kAssign sets instead of adding. Restrict: a and b
// may be one buffer (both are only read), gx is a gradient and never shares memory with them.
template <bool kAssign, class D>
void grad_range(const real* __restrict a, const real* __restrict b, const real* __restrict y,
                const real* __restrict gy, real* __restrict gx, std::int64_t n, D d) {
    for (std::int64_t i = 0; i < n; ++i) {
        const real t = gy[i] * d(a[i], b[i], y[i]);
        if constexpr (kAssign) gx[i] = t;
        else gx[i] += t;
    }
}

// da(a, b, y) = ∂y/∂a and db(a, b, y) = ∂y/∂b at one element.
template <class DA, class DB>
void binary_backward(Graph& g, Node& n, DA da, DB db) {
    const Node& A = detail::parent(g, n, 0);
    const Node& B = detail::parent(g, n, 1);
    const real* ap = A.value.data;
    const real* bp = B.value.data;
    const real* yp = n.value.data;
    const real* gy = n.grad.data;
    if (A.value.shape == B.value.shape) {
        // Each side in its own pass: when a and b are one node, b's pass adds to a's.
        auto side = [&](int i, auto d) {
            bool assign = false;
            real* gx = g.grad_to_write(n.parent[i], assign).data;
            detail::for_range(n.value.numel(), [&](std::int64_t lo, std::int64_t hi) {
                if (assign) grad_range<true>(ap + lo, bp + lo, yp + lo, gy + lo, gx + lo, hi - lo, d);
                else grad_range<false>(ap + lo, bp + lo, yp + lo, gy + lo, gx + lo, hi - lo, d);
            });
        };
        if (A.needs_grad) side(0, da);
        if (B.needs_grad) side(1, db);
        return;
    }
    real* ga = A.needs_grad ? g.grad_of(n.parent[0]).data : nullptr;
    real* gb = B.needs_grad ? g.grad_of(n.parent[1]).data : nullptr;
    Bcast s = broadcast("backward", A.value.shape, B.value.shape);
    const int C = s.cols;
    for (int r = 0; r < s.rows; ++r) {
        for (int c = 0; c < C; ++c) {
            std::int64_t i = static_cast<std::int64_t>(r) * C + c;
            std::int64_t ia = at(r, c, s.a_row, s.a_col, C);
            std::int64_t ib = at(r, c, s.b_row, s.b_col, C);
            if (ga) ga[ia] += gy[i] * da(ap[ia], bp[ib], yp[i]);
            if (gb) gb[ib] += gy[i] * db(ap[ia], bp[ib], yp[i]);
        }
    }
}

}  // namespace

Var add(Var a, Var b) { return binary(Op::Add, "add", a, b, [](real x, real y) { return x + y; }); }
void backward_Add(Graph& g, Node& n) {
    binary_backward(g, n, [](real, real, real) { return real(1); },
                    [](real, real, real) { return real(1); });
}

Var sub(Var a, Var b) { return binary(Op::Sub, "sub", a, b, [](real x, real y) { return x - y; }); }
void backward_Sub(Graph& g, Node& n) {
    binary_backward(g, n, [](real, real, real) { return real(1); },
                    [](real, real, real) { return real(-1); });
}

Var mul(Var a, Var b) { return binary(Op::Mul, "mul", a, b, [](real x, real y) { return x * y; }); }
void backward_Mul(Graph& g, Node& n) {
    binary_backward(g, n, [](real, real b, real) { return b; },
                    [](real a, real, real) { return a; });
}

Var div(Var a, Var b) { return binary(Op::Div, "div", a, b, [](real x, real y) { return x / y; }); }
void backward_Div(Graph& g, Node& n) {
    binary_backward(g, n, [](real, real b, real) { return real(1) / b; },
                    [](real, real b, real y) { return -y / b; });
}

}  // namespace nfvi
