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

// ---- planar flow layer -------------------------------------------------------------------
//
// Per sample n with parameter row r (r = 0 when shared, r = n when per sample):
//   wu = w·u, sp = softplus(wu), c = (sp − 1 − wu)/‖w‖², û = u + c·w,
//   a = w·z + b, h = tanh(a), z' = z + h·û, q = sp·(1 − h²) + h², logdet = log q.
// The backward runs the same chain in reverse; for a shared row the parameter gradients are
// summed over the batch first (in sample order), then pushed through û once.
namespace nfvi {
namespace {

struct PlanarRow {
    const real* u;
    const real* w;
    real b, wu, sp, ww, c;
};

PlanarRow planar_row(const real* p, int D) {
    PlanarRow r{p, p + D, p[2 * D], 0, 0, 0, 0};
    for (int d = 0; d < D; ++d) {
        r.wu += r.w[d] * r.u[d];
        r.ww += r.w[d] * r.w[d];
    }
    r.sp = detail::stable_softplus(r.wu);
    r.c = (r.sp - real(1) - r.wu) / r.ww;
    return r;
}

}  // namespace

Var planar_layer(Var z, Var params) {
    const int N = z.rows(), D = z.cols(), P = 2 * D + 1;
    if (params.cols() != P || (params.rows() != 1 && params.rows() != N))
        detail::shape_error("planar_layer", "z " + z.shape().str() + " needs params [1," +
                                                std::to_string(P) + "] or [" + std::to_string(N) +
                                                "," + std::to_string(P) + "], got " + params.shape().str());
    Graph& g = z.graph();
    Var y = g.make(Op::Planar, Shape::matrix(N, D + 1), {z, params});
    Node& node = g.node(y.id());
    node.aux = g.alloc(Shape::matrix(N, 1));  // h per sample
    const bool shared = params.rows() == 1;
    const real* zp = z.data();
    const real* pp = params.data();
    real* yp = y.data();
    real* hp = node.aux.data;
    PlanarRow row = planar_row(pp, D);
    real u_hat[64];
    real* uh = D <= 64 ? u_hat : g.alloc(Shape::matrix(1, D)).data;
    for (int n = 0; n < N; ++n) {
        if (!shared || n == 0) {
            if (!shared) row = planar_row(pp + static_cast<std::int64_t>(n) * P, D);
            for (int d = 0; d < D; ++d) uh[d] = row.u[d] + row.c * row.w[d];
        }
        const real* zn = zp + static_cast<std::int64_t>(n) * D;
        real a = row.b;
        for (int d = 0; d < D; ++d) a += row.w[d] * zn[d];
        const real h = detail::tanh_r(a), h2 = h * h;
        real* yn = yp + static_cast<std::int64_t>(n) * (D + 1);
        for (int d = 0; d < D; ++d) yn[d] = zn[d] + h * uh[d];
        yn[D] = std::log(row.sp * (real(1) - h2) + h2);
        hp[n] = h;
    }
    return y;
}

void backward_Planar(Graph& g, Node& n) {
    const Node& Z = detail::parent(g, n, 0);
    const Node& Pn = detail::parent(g, n, 1);
    const int N = Z.value.rows(), D = Z.value.cols(), P = 2 * D + 1;
    const bool shared = Pn.value.rows() == 1;
    const real* zp = Z.value.data;
    const real* pp = Pn.value.data;
    const real* gy = n.grad.data;  // [N,D+1]
    const real* hp = n.aux.data;
    real* gz = Z.needs_grad ? g.grad_of(n.parent[0]).data : nullptr;
    real* gp = Pn.needs_grad ? g.grad_of(n.parent[1]).data : nullptr;
    // Per-row accumulators of ∂/∂û, ∂/∂w (direct), ∂/∂b and ∂/∂sp (through q).
    real buf[4 * 64 + 2];
    real* acc = D <= 64 ? buf : g.alloc(Shape::matrix(1, 2 * D + 2)).data;
    real* d_uh = acc;
    real* d_w = acc + D;
    real& d_b = acc[2 * D];
    real& d_sp = acc[2 * D + 1];
    auto clear = [&] { std::fill(acc, acc + 2 * D + 2, real(0)); };
    // Pushes the accumulated gradients of one row through û = u + c·w, c = (sp − 1 − wu)/ww.
    auto finish_row = [&](const real* p, real* gprow) {
        PlanarRow r = planar_row(p, D);
        real dc = 0;
        for (int d = 0; d < D; ++d) dc += d_uh[d] * r.w[d];
        const real dsp = d_sp + dc / r.ww;
        const real dwu = dsp * detail::stable_sigmoid(r.wu) - dc / r.ww;
        const real dww = -dc * r.c / r.ww;
        for (int d = 0; d < D; ++d) {
            gprow[d] += d_uh[d] + dwu * r.w[d];                                            // u
            gprow[D + d] += d_w[d] + r.c * d_uh[d] + dwu * r.u[d] + real(2) * dww * r.w[d];  // w
        }
        gprow[2 * D] += d_b;
    };
    real u_hat[64];
    real* uh = D <= 64 ? u_hat : g.alloc(Shape::matrix(1, D)).data;
    PlanarRow row = planar_row(pp, D);
    clear();
    for (int s = 0; s < N; ++s) {
        const real* p = shared ? pp : pp + static_cast<std::int64_t>(s) * P;
        if (!shared || s == 0) {
            if (!shared) row = planar_row(p, D);
            for (int d = 0; d < D; ++d) uh[d] = row.u[d] + row.c * row.w[d];
        }
        const real* zn = zp + static_cast<std::int64_t>(s) * D;
        const real* gn = gy + static_cast<std::int64_t>(s) * (D + 1);
        const real h = hp[s], h2 = h * h;
        const real q = row.sp * (real(1) - h2) + h2;
        const real gl = gn[D] / q;  // ∂/∂q
        real dh = gl * real(2) * h * (real(1) - row.sp);
        for (int d = 0; d < D; ++d) dh += gn[d] * uh[d];
        const real da = dh * (real(1) - h2);
        if (gz) {
            real* gzn = gz + static_cast<std::int64_t>(s) * D;
            for (int d = 0; d < D; ++d) gzn[d] += gn[d] + da * row.w[d];
        }
        if (gp) {
            for (int d = 0; d < D; ++d) {
                d_uh[d] += gn[d] * h;
                d_w[d] += da * zn[d];
            }
            d_b += da;
            d_sp += gl * (real(1) - h2);
            if (!shared) {
                finish_row(p, gp + static_cast<std::int64_t>(s) * P);
                clear();
            }
        }
    }
    if (gp && shared) finish_row(pp, gp);
}

}  // namespace nfvi
