// Matrix products on the tape: matmul with either side transposed, and the fused
// linear = x·wᵀ + b. Both call the packed GEMM (gemm.h), forward and backward.
//
// Legend: M, N, K the product's dims (op(a) [M,K], op(b) [K,N]); n batch, in/out features.
#include "autodiff/gemm.h"
#include "autodiff/ops_internal.h"

namespace nfvi {

Var matmul(Var a, Var b, bool trans_a, bool trans_b) {
    const int M = trans_a ? a.cols() : a.rows(), Ka = trans_a ? a.rows() : a.cols();
    const int Kb = trans_b ? b.cols() : b.rows(), N = trans_b ? b.rows() : b.cols();
    if (Ka != Kb)
        detail::shape_error("matmul", "inner dims differ: " + a.shape().str() +
                                          (trans_a ? "ᵀ" : "") + " · " + b.shape().str() +
                                          (trans_b ? "ᵀ" : ""));
    Var y = a.graph().make(Op::MatMul, Shape::matrix(M, N), {a, b});
    Node& n = y.graph().node(y.id());
    n.iattr[0] = trans_a;
    n.iattr[1] = trans_b;
    gemm(trans_a, trans_b, M, N, Ka, 1, a.data(), a.cols(), b.data(), b.cols(), 0, y.data(), N);
    return y;
}
void backward_MatMul(Graph& g, Node& n) {
    const Node& A = detail::parent(g, n, 0);
    const Node& B = detail::parent(g, n, 1);
    const bool ta = n.iattr[0] != 0, tb = n.iattr[1] != 0;
    const int M = n.value.rows(), N = n.value.cols();
    const int K = ta ? A.value.rows() : A.value.cols();
    const int lda = A.value.cols(), ldb = B.value.cols();
    const real* dy = n.grad.data;  // [M,N]
    // A first gradient is written with beta = 0 (grad_to_write), later ones added (beta = 1).
    // When a and b are one node, dA is written first and dB then adds to it.
    if (A.needs_grad) {
        bool assign = false;
        real* da = g.grad_to_write(n.parent[0], assign).data;
        const real beta = assign ? 0 : 1;
        if (!ta)  // dA [M,K] += dy · op(b)ᵀ
            gemm(false, !tb, M, K, N, 1, dy, N, B.value.data, ldb, beta, da, K);
        else      // A is stored [K,M]: dA += op(b) · dyᵀ
            gemm(tb, true, K, M, N, 1, B.value.data, ldb, dy, N, beta, da, M);
    }
    if (B.needs_grad) {
        bool assign = false;
        real* db = g.grad_to_write(n.parent[1], assign).data;
        const real beta = assign ? 0 : 1;
        if (!tb)  // dB [K,N] += op(a)ᵀ · dy
            gemm(!ta, false, K, N, M, 1, A.value.data, lda, dy, N, beta, db, N);
        else      // B is stored [N,K]: dB += dyᵀ · op(a)
            gemm(true, ta, N, K, M, 1, dy, N, A.value.data, lda, beta, db, K);
    }
}

Var linear(Var x, Var w, Var b) {
    const int n = x.rows(), in = x.cols(), out = w.rows();
    if (w.cols() != in)
        detail::shape_error("linear", "x " + x.shape().str() + " needs w [out," +
                                          std::to_string(in) + "], got " + w.shape().str());
    if (b.value().numel() != out || b.rows() != 1)
        detail::shape_error("linear", "bias must be [1," + std::to_string(out) + "], got " +
                                          b.shape().str());
    Var y = x.graph().make(Op::Linear, Shape::matrix(n, out), {x, w, b});
    real* yp = y.data();  // [n,out]
    const real* bp = b.data();
    parallel_for(n, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(out, 1)),
                 [&](std::int64_t r0, std::int64_t r1) {
                     for (std::int64_t r = r0; r < r1; ++r) std::copy_n(bp, out, yp + r * out);
                 });
    gemm(false, true, n, out, in, 1, x.data(), in, w.data(), in, 1, yp, out);
    return y;
}
void backward_Linear(Graph& g, Node& nd) {
    const Node& X = detail::parent(g, nd, 0);
    const Node& W = detail::parent(g, nd, 1);
    const Node& B = detail::parent(g, nd, 2);
    const int n = X.value.rows(), in = X.value.cols(), out = W.value.rows();
    const real* dy = nd.grad.data;  // [n,out]
    // A first gradient is written with beta = 0 (grad_to_write), later ones added (beta = 1).
    if (X.needs_grad) {  // dx [n,in] += dy · w
        bool assign = false;
        real* dx = g.grad_to_write(nd.parent[0], assign).data;
        gemm(false, false, n, in, out, 1, dy, out, W.value.data, in, assign ? 0 : 1, dx, in);
    }
    if (W.needs_grad) {  // dw [out,in] += dyᵀ · x
        bool assign = false;
        real* dw = g.grad_to_write(nd.parent[1], assign).data;
        gemm(true, false, out, in, n, 1, dy, out, X.value.data, in, assign ? 0 : 1, dw, in);
    }
    if (B.needs_grad) {  // db [1,out] += Σ_rows dy, rows in order; threads own columns
        real* db = g.grad_of(nd.parent[2]).data;
        parallel_for(out, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(n, 1)),
                     [&](std::int64_t c0, std::int64_t c1) {
                         for (std::int64_t r = 0; r < n; ++r)
                             for (std::int64_t c = c0; c < c1; ++c) db[c] += dy[r * out + c];
                     });
    }
}

}  // namespace nfvi
