// Fused ops with hand-written backwards: one pass instead of a chain of tape nodes.
#include "autodiff/ops_internal.h"

namespace nfvi {

// log p(x | logits) for independent Bernoullis, per row: Σ_j x·l − softplus(l).
Var bernoulli_logits_loglik(Var logits, Var x) {
    if (!(logits.shape() == x.shape()))
        detail::shape_error("bernoulli_logits_loglik", "logits " + logits.shape().str() +
                                                           " and x " + x.shape().str() +
                                                           " must have the same shape");
    const int R = logits.rows(), C = logits.cols();
    Var y = logits.graph().make(Op::BernoulliLogLik, Shape::matrix(R, 1), {logits, x});
    const real* lp = logits.data();
    const real* xp = x.data();
    real* yp = y.data();  // [R,1]
    parallel_for(R, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(C, 1)),
                 [&](std::int64_t lo, std::int64_t hi) {
                     for (std::int64_t r = lo; r < hi; ++r) {
                         real acc = 0;
                         for (int c = 0; c < C; ++c) {
                             real l = lp[r * C + c];
                             acc += xp[r * C + c] * l - detail::stable_softplus(l);
                         }
                         yp[r] = acc;
                     }
                 });
    return y;
}
void backward_BernoulliLogLik(Graph& g, Node& n) {
    const Node& L = detail::parent(g, n, 0);
    const Node& X = detail::parent(g, n, 1);
    const int C = L.value.cols();
    const real* lp = L.value.data;
    const real* xp = X.value.data;
    const real* gy = n.grad.data;  // [R,1]
    real* gl = L.needs_grad ? g.grad_of(n.parent[0]).data : nullptr;
    real* gx = X.needs_grad ? g.grad_of(n.parent[1]).data : nullptr;
    detail::for_range(L.value.numel(), [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) {
            real w = gy[i / C];
            if (gl) gl[i] += w * (xp[i] - detail::stable_sigmoid(lp[i]));
            if (gx) gx[i] += w * lp[i];
        }
    });
}

}  // namespace nfvi
