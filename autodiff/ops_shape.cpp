// Ops that move values without arithmetic: column slice and concat, reshape, repeat rows.
#include <algorithm>

#include "autodiff/ops_internal.h"

namespace nfvi {

Var slice_cols(Var x, int begin, int end) {
    const int R = x.rows(), C = x.cols();
    if (begin < 0 || end > C || begin > end)
        detail::shape_error("slice_cols", "columns [" + std::to_string(begin) + "," +
                                              std::to_string(end) + ") are outside " +
                                              x.shape().str());
    const int W = end - begin;
    Var y = x.graph().make(Op::SliceCols, Shape::matrix(R, W), {x});
    Node& n = y.graph().node(y.id());
    n.iattr[0] = begin;
    n.iattr[1] = end;
    for (std::int64_t r = 0; r < R; ++r)
        std::copy_n(x.data() + r * C + begin, W, y.data() + r * W);
    return y;
}
void backward_SliceCols(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    TensorRef gx = g.grad_of(n.parent[0]);
    const int C = gx.cols(), begin = n.iattr[0], W = n.iattr[1] - n.iattr[0];
    for (std::int64_t r = 0; r < gx.rows(); ++r)
        for (int c = 0; c < W; ++c) gx.data[r * C + begin + c] += n.grad.data[r * W + c];
}

Var concat_cols(Var a, Var b) {
    const int R = a.rows(), P = a.cols(), Q = b.cols();
    if (b.rows() != R)
        detail::shape_error("concat_cols", "row counts differ: " + a.shape().str() + " and " +
                                               b.shape().str());
    Var y = a.graph().make(Op::ConcatCols, Shape::matrix(R, P + Q), {a, b});
    for (std::int64_t r = 0; r < R; ++r) {
        std::copy_n(a.data() + r * P, P, y.data() + r * (P + Q));
        std::copy_n(b.data() + r * Q, Q, y.data() + r * (P + Q) + P);
    }
    return y;
}
void backward_ConcatCols(Graph& g, Node& n) {
    const int P = detail::parent(g, n, 0).value.cols();
    const int Q = detail::parent(g, n, 1).value.cols();
    const int R = n.value.rows();
    for (int side = 0; side < 2; ++side) {
        if (!detail::wants_grad(g, n, side)) continue;
        bool assign = false;  // a side is written whole: its first gradient is assigned
        real* gp = g.grad_to_write(n.parent[side], assign).data;
        const int W = side == 0 ? P : Q, off = side == 0 ? 0 : P;
        for (std::int64_t r = 0; r < R; ++r) {
            const real* gy = n.grad.data + r * (P + Q) + off;
            if (assign) std::copy_n(gy, W, gp + r * W);
            else
                for (int c = 0; c < W; ++c) gp[r * W + c] += gy[c];
        }
    }
}

Var reshape(Var x, Shape s) {
    if (s.numel() != x.value().numel())
        detail::shape_error("reshape", "cannot reshape " + x.shape().str() + " to " + s.str());
    Var y = x.graph().make(Op::Reshape, s, {x});
    std::copy_n(x.data(), s.numel(), y.data());
    return y;
}
void backward_Reshape(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    bool assign = false;
    real* gx = g.grad_to_write(n.parent[0], assign).data;
    if (assign) std::copy_n(n.grad.data, n.value.numel(), gx);
    else
        for (std::int64_t i = 0; i < n.value.numel(); ++i) gx[i] += n.grad.data[i];
}

Var repeat_rows(Var x, int times) {
    if (times < 1)
        detail::shape_error("repeat_rows", "times must be >= 1, got " + std::to_string(times));
    const int R = x.rows(), C = x.cols();
    Var y = x.graph().make(Op::RepeatRows, Shape::matrix(R * times, C), {x});
    y.graph().node(y.id()).iattr[0] = times;
    for (std::int64_t r = 0; r < R; ++r)
        for (int s = 0; s < times; ++s)
            std::copy_n(x.data() + r * C, C, y.data() + (r * times + s) * C);
    return y;
}
void backward_RepeatRows(Graph& g, Node& n) {
    if (!detail::wants_grad(g, n, 0)) return;
    TensorRef gx = g.grad_of(n.parent[0]);
    const int C = gx.cols(), times = n.iattr[0];
    for (std::int64_t r = 0; r < gx.rows(); ++r)
        for (int s = 0; s < times; ++s) {
            const real* gy = n.grad.data + (r * times + s) * C;
            for (int c = 0; c < C; ++c) gx.data[r * C + c] += gy[c];
        }
}

}  // namespace nfvi
