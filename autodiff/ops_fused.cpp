// Fused ops with hand-written backwards: one pass instead of a chain of tape nodes.
#include "autodiff/ops_internal.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

namespace nfvi {

// log p(x | logits) for independent Bernoullis, per row: Σ_j x·l − softplus(l).
//
// Each row's sum keeps kLanes partial sums (element j goes to lane j mod kLanes), added in
// lane order at the end: the loop vectorizes, and the bits depend on the row alone.
namespace {

constexpr int kLanes = 8;

real bernoulli_row(const real* __restrict l, const real* __restrict x, int C) {
    real acc[kLanes] = {};
    int c = 0;
    for (; c + kLanes <= C; c += kLanes)
        for (int j = 0; j < kLanes; ++j) acc[j] += x[c + j] * l[c + j] - detail::stable_softplus(l[c + j]);
    for (int j = 0; c + j < C; ++j) acc[j] += x[c + j] * l[c + j] - detail::stable_softplus(l[c + j]);
    real total = 0;
    for (int j = 0; j < kLanes; ++j) total += acc[j];
    return total;
}

// gl (+)= w·(x − σ(l)) and gx (+)= w·l along one row; kAssign sets instead of adding.
template <bool kAssign>
void bernoulli_row_backward(const real* __restrict l, const real* __restrict x, real w,
                            real* __restrict gl, int C) {
    for (int c = 0; c < C; ++c) {
        const real t = w * (x[c] - detail::stable_sigmoid(l[c]));
        if constexpr (kAssign) gl[c] = t;
        else gl[c] += t;
    }
}

}  // namespace

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
                     for (std::int64_t r = lo; r < hi; ++r) yp[r] = bernoulli_row(lp + r * C, xp + r * C, C);
                 });
    return y;
}
void backward_BernoulliLogLik(Graph& g, Node& n) {
    const Node& L = detail::parent(g, n, 0);
    const Node& X = detail::parent(g, n, 1);
    const int R = L.value.rows(), C = L.value.cols();
    const real* lp = L.value.data;  // [R,C]
    const real* xp = X.value.data;  // [R,C]
    const real* gy = n.grad.data;   // [R,1]
    // Logits and x may be one node (then each gets both terms, in turn): own passes each.
    if (L.needs_grad) {
        bool assign = false;
        real* gl = g.grad_to_write(n.parent[0], assign).data;  // [R,C]
        parallel_for(R, std::max<std::int64_t>(1, detail::kParallelGrain / std::max(C, 1)),
                     [&](std::int64_t lo, std::int64_t hi) {
                         for (std::int64_t r = lo; r < hi; ++r) {
                             if (assign) bernoulli_row_backward<true>(lp + r * C, xp + r * C, gy[r], gl + r * C, C);
                             else bernoulli_row_backward<false>(lp + r * C, xp + r * C, gy[r], gl + r * C, C);
                         }
                     });
    }
    if (X.needs_grad) {  // gx += w·l
        real* gx = g.grad_of(n.parent[1]).data;  // [R,C]
        for (std::int64_t r = 0; r < R; ++r)
            for (int c = 0; c < C; ++c) gx[r * C + c] += gy[r] * lp[r * C + c];
    }
}

}  // namespace nfvi


// ---- planar flow layers ------------------------------------------------------------------
//
// Legend: N batch, D latent dimension, K layers in the node, P = 2D + 1 raw parameters of one
// layer, W samples per block, Np = N rounded up to a multiple of W.
//
// Per sample n and layer k, with raw row [u, w, b] (one shared row, or row n per sample):
//   wu = w·u, sp = softplus(wu), c = (sp − 1 − wu)/‖w‖², û = u + c·w,
//   a = w·z + b, h = tanh(a), z' = z + h·û, q = sp·(1 − h²) + h², logdet = log q.
//
// One node runs K consecutive layers (a FlowStack gives it each run of planar layers), so the
// tape holds one node, not K nodes and K slices. Two kernels:
//  - across samples (a shared row, or per-sample rows with D < kAlongD): z is held as structure
//    of arrays ([D][Np] per layer) and every step is a loop over the W lanes of a block of
//    samples, which the compiler vectorizes whatever D is. A shared row is one value for all
//    lanes; per-sample rows are gathered into lanes. The logs of the log-det are taken in a
//    pass of their own after the layers, off the chain of dependent operations.
//  - along D (per-sample rows, D >= kAlongD, as an amortized encoder emits them): dot products
//    and updates run along each sample's z and read its row in place; the per-sample scalars
//    of a block of samples (softplus, tanh, log) are vectorized across the block.
// The forward keeps each layer's input z_k, h_k (and q_k) for the backward, which runs the
// layers in reverse. Samples are split into fixed chunks that threads take whole; for a shared
// row each chunk sums its parameter gradients (over lanes, then blocks, in order), the chunks'
// sums are added in chunk order and pushed through û once per layer. So the results do not
// depend on the number of threads. In the float build tanh, log, exp and log1p are
// fast_math.h's vectorizable ones; the double build uses the standard library's.
namespace nfvi {
namespace {

constexpr int kV = 8;   // one AVX2 register of floats
constexpr int kW = 16;  // samples per block: two registers, two independent chains to overlap
// Samples per chunk, multiples of kW. Fixed constants: the sums depend on them, not on threads.
constexpr int kChunkShared = 256;
constexpr int kChunkRows = 64;
// Per-sample rows from this D on run along D (faster once z fills a register: measured 2-3x
// at D = 32..40); below it, across samples like a shared row.
constexpr int kAlongD = 8;

// Field [d] of a row's quantities: one value for a shared row (L = 1), lane j of a block (L = kW).
template <int L>
constexpr int at(int d, int j) {
    if constexpr (L == 1) return d;
    else return d * kW + j;
}

// softplus and sigmoid in forms whose loops over lanes vectorize in the float build.
inline real softplus_lanes(real v) {
    return std::max(v, real(0)) + detail::log1p_r(detail::exp_r(-std::abs(v)));
}
inline real sigmoid_lanes(real v) {
    const real e = detail::exp_r(-std::abs(v));
    return (v >= 0 ? real(1) : e) / (real(1) + e);
}

// The quantities of one layer's raw row: L = 1 for a shared row, L = kW for the rows of a
// block of samples. Points into a buffer of row_values(D, L) reals.
template <int L>
struct Rows {
    real* u;   // [D][L]
    real* w;   // [D][L]
    real* uh;  // [D][L]  û
    real* b;   // [L]
    real* wu;  // [L]
    real* ww;  // [L]  ‖w‖²
    real* sp;  // [L]  softplus(wu)
    real* c;   // [L]  (sp − 1 − wu)/ww
};

constexpr std::int64_t row_values(int D, int L) { return static_cast<std::int64_t>(3 * D + 5) * L; }

template <int L>
Rows<L> carve_rows(real* buf, int D) {
    const std::int64_t dl = static_cast<std::int64_t>(D) * L;
    real* s = buf + 3 * dl;
    return {buf, buf + dl, buf + 2 * dl, s, s + L, s + 2 * L, s + 3 * L, s + 4 * L};
}

// Fills u, w, b of a shared row from the raw row p [P].
void load_row(const Rows<1>& r, const real* p, int D) {
    std::copy(p, p + D, r.u);
    std::copy(p + D, p + 2 * D, r.w);
    r.b[0] = p[2 * D];
}

// Fills u, w, b of the lanes of the block at sample n0 from rows pp[n, col..col+P) (row
// stride rs). Lanes past the last sample repeat its row: they compute harmless values that
// are never written out.
template <class Dim>
void gather_rows(const Rows<kW>& r, const real* pp, std::int64_t rs, std::int64_t col, std::int64_t n0, int N, Dim D) {
    for (int j = 0; j < kW; ++j) {
        const real* p = pp + std::min<std::int64_t>(n0 + j, N - 1) * rs + col;
        for (int d = 0; d < D; ++d) {
            r.u[at<kW>(d, j)] = p[d];
            r.w[at<kW>(d, j)] = p[D + d];
        }
        r.b[j] = p[2 * D];
    }
}

// From u and w: wu, ww, sp, c and û.
template <int L, class Dim>
void derive_rows(const Rows<L>& r, Dim D) {
    real wu[L] = {}, ww[L] = {};
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < L; ++j) {
            const real wd = r.w[at<L>(d, j)];
            wu[j] += wd * r.u[at<L>(d, j)];
            ww[j] += wd * wd;
        }
    for (int j = 0; j < L; ++j) {
        r.wu[j] = wu[j];
        r.ww[j] = ww[j];
        r.sp[j] = softplus_lanes(wu[j]);
        r.c[j] = (r.sp[j] - real(1) - wu[j]) / ww[j];
    }
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < L; ++j) r.uh[at<L>(d, j)] = r.u[at<L>(d, j)] + r.c[j] * r.w[at<L>(d, j)];
}

// One layer on one block. z, zo: [D] rows of stride Np at the block (input, output); hk, qk
// [W] receive h and q (the log-det is log q; its logs are taken in a later pass, off this
// chain of dependent operations). Each step fills local lanes, then stores them, so that no
// store can alias a later load and every loop vectorizes.
template <int L, class Dim>
void forward_block(const Rows<L>& r, Dim D, std::int64_t Np, const real* z, real* zo, real* hk, real* qk) {
    real a[kW], h[kW], q[kW], uh[kW], t[kW];
    for (int j = 0; j < kW; ++j) a[j] = r.b[at<L>(0, j)];
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < kW; ++j) a[j] += r.w[at<L>(d, j)] * z[d * Np + j];
    for (int j = 0; j < kW; ++j) h[j] = detail::tanh_r(a[j]);
    for (int j = 0; j < kW; ++j) {
        const real h2 = h[j] * h[j];
        q[j] = r.sp[at<L>(0, j)] * (real(1) - h2) + h2;
    }
    for (int d = 0; d < D; ++d) {
        for (int j = 0; j < kW; ++j) uh[j] = r.uh[at<L>(d, j)];
        for (int j = 0; j < kW; ++j) t[j] = z[d * Np + j] + h[j] * uh[j];
        for (int j = 0; j < kW; ++j) zo[d * Np + j] = t[j];
    }
    for (int j = 0; j < kW; ++j) hk[j] = h[j];
    for (int j = 0; j < kW; ++j) qk[j] = q[j];
}

// The accumulators of one row's gradients, [2D + 2][L]: ∂/∂û [D], ∂/∂w through a [D], ∂/∂b,
// ∂/∂sp through q.
constexpr std::int64_t acc_values(int D, int L) { return static_cast<std::int64_t>(2 * D + 2) * L; }

// The backward of one layer on one block. g: [D] rows of stride Np at the block, holding
// ∂/∂z_{k+1} on entry and ∂/∂z_k on return; gl [W]: ∂/∂logdet; z, hk, qk: what the forward
// kept. With acc (lanes, [2D + 2][W]), adds the parameter gradients of each lane.
template <int L, class Dim>
void backward_block(const Rows<L>& r, Dim D, std::int64_t Np, const real* z, const real* hk,
                    const real* qk, const real* gl, real* g, real* acc) {
    real h[kW], omh[kW], gq[kW], dh[kW], da[kW], t[kW], v[kW];
    for (int j = 0; j < kW; ++j) {
        const real sp = r.sp[at<L>(0, j)];
        h[j] = hk[j];
        omh[j] = real(1) - h[j] * h[j];
        gq[j] = gl[j] / qk[j];  // ∂/∂q
        dh[j] = gq[j] * real(2) * h[j] * (real(1) - sp);
    }
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < kW; ++j) dh[j] += g[d * Np + j] * r.uh[at<L>(d, j)];
    for (int j = 0; j < kW; ++j) da[j] = dh[j] * omh[j];
    if (acc) {
        for (int d = 0; d < D; ++d) {
            for (int j = 0; j < kW; ++j) t[j] = g[d * Np + j] * h[j];
            for (int j = 0; j < kW; ++j) v[j] = da[j] * z[d * Np + j];
            for (int j = 0; j < kW; ++j) acc[d * kW + j] += t[j];
            for (int j = 0; j < kW; ++j) acc[(D + d) * kW + j] += v[j];
        }
        for (int j = 0; j < kW; ++j) t[j] = gq[j] * omh[j];
        for (int j = 0; j < kW; ++j) acc[2 * D * kW + j] += da[j];
        for (int j = 0; j < kW; ++j) acc[(2 * D + 1) * kW + j] += t[j];
    }
    for (int d = 0; d < D; ++d) {
        for (int j = 0; j < kW; ++j) t[j] = g[d * Np + j] + da[j] * r.w[at<L>(d, j)];
        for (int j = 0; j < kW; ++j) g[d * Np + j] = t[j];
    }
}

// Pushes a row's summed gradients acc [2D + 2][L] through û = u + c·w, c = (sp − 1 − wu)/ww,
// sp = softplus(wu), and writes the raw row's gradients [u, w, b] into out [P][L].
template <int L, class Dim>
void row_backward(const Rows<L>& r, Dim D, const real* acc, real* out) {
    real dc[L] = {}, dwu[L], dww[L];
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < L; ++j) dc[j] += acc[d * L + j] * r.w[at<L>(d, j)];
    for (int j = 0; j < L; ++j) {
        const real dsp = acc[(2 * D + 1) * L + j] + dc[j] / r.ww[j];
        dwu[j] = dsp * sigmoid_lanes(r.wu[j]) - dc[j] / r.ww[j];
        dww[j] = -dc[j] * r.c[j] / r.ww[j];
    }
    for (int d = 0; d < D; ++d)
        for (int j = 0; j < L; ++j) {
            const real duh = acc[d * L + j], w = r.w[at<L>(d, j)];
            out[d * L + j] = duh + dwu[j] * w;
            out[(D + d) * L + j] = acc[(D + d) * L + j] + r.c[j] * duh + dwu[j] * r.u[at<L>(d, j)] +
                                   real(2) * dww[j] * w;
        }
    for (int j = 0; j < L; ++j) out[2 * D * L + j] = acc[2 * D * L + j];
}

// The shape of a planar node, and the buffers its forward and backward share out to chunks.
struct PlanarRun {
    int N, D, K, P;
    std::int64_t begin;  // column of layer 0's row
    bool shared;
    bool along;  // per-sample rows with a long z: the kernel that runs along D (below)
    std::int64_t rs, Np, chunk, chunks;  // row stride of params; padded N; samples per chunk
    const real* pp;  // params [R, rs]
    real* table;     // shared row: K derived rows of row_values(D, 1)
    real* zs;        // [K][D][Np] each layer's input
    real* hs;        // [K][Np] each layer's h
    real* qs;        // [K][Np] each layer's q (log-det = log q)
    real* scratch;   // per chunk: per_chunk reals
    std::int64_t per_chunk;
    std::int64_t col(std::int64_t k) const { return begin + k * P; }
    Rows<1> row(std::int64_t k) const { return carve_rows<1>(table + k * row_values(D, 1), D); }
};

PlanarRun planar_run(int N, int D, int K, int begin, const Node& params) {
    PlanarRun s{};
    s.N = N, s.D = D, s.K = K, s.P = 2 * D + 1, s.begin = begin;
    s.shared = params.value.rows() == 1;
    s.along = !s.shared && D >= kAlongD;
    s.rs = params.value.cols();
    s.Np = (static_cast<std::int64_t>(N) + kW - 1) / kW * kW;
    s.chunk = s.shared ? kChunkShared : kChunkRows;
    s.chunks = (s.Np + s.chunk - 1) / s.chunk;
    s.pp = params.value.data;
    return s;
}

// The shared rows of all K layers, derived.
real* shared_rows(Graph& g, const PlanarRun& s) {
    real* t = g.alloc(Shape::matrix(s.K, static_cast<int>(row_values(s.D, 1)))).data;
    for (int k = 0; k < s.K; ++k) {
        Rows<1> r = carve_rows<1>(t + k * row_values(s.D, 1), s.D);
        load_row(r, s.pp + s.col(k), s.D);
        derive_rows(r, s.D);
    }
    return t;
}

// The forward of chunk c: z [N,D] in, y [N,D+1] out; z_out [D][Np] is work space.
template <class Dim>
void planar_forward_chunk(const PlanarRun& s, std::int64_t c, Dim D, const real* zp, real* yp, real* z_out) {
    const std::int64_t Np = s.Np, K = s.K, N = s.N;
    const std::int64_t n0 = c * s.chunk, n1 = std::min(n0 + s.chunk, Np);
    for (std::int64_t n = n0; n < n1; ++n)
        for (int d = 0; d < D; ++d) s.zs[d * Np + n] = n < N ? zp[n * D + d] : real(0);
    auto zin = [&](std::int64_t k) { return s.zs + k * D * Np; };
    auto zout = [&](std::int64_t k) { return k + 1 < K ? s.zs + (k + 1) * D * Np : z_out; };
    if (s.shared) {  // layer by layer
        for (std::int64_t k = 0; k < K; ++k) {
            const Rows<1> r = s.row(k);
            for (std::int64_t n = n0; n < n1; n += kW)
                forward_block(r, D, Np, zin(k) + n, zout(k) + n, s.hs + k * Np + n, s.qs + k * Np + n);
        }
    } else {  // block by block through all layers, so that each row is read front to back
        const Rows<kW> lanes = carve_rows<kW>(s.scratch + c * s.per_chunk, D);
        for (std::int64_t n = n0; n < n1; n += kW)
            for (std::int64_t k = 0; k < K; ++k) {
                gather_rows(lanes, s.pp, s.rs, s.col(k), n, s.N, D);
                derive_rows(lanes, D);
                forward_block(lanes, D, Np, zin(k) + n, zout(k) + n, s.hs + k * Np + n, s.qs + k * Np + n);
            }
    }
    for (std::int64_t n = n0; n < std::min(n1, N); ++n)
        for (int d = 0; d < D; ++d) yp[n * (D + 1) + d] = z_out[d * Np + n];
    // The log-dets: Σ_k log q_k, layer after layer (independent across samples).
    for (std::int64_t n = n0; n < n1; n += kW) {
        real ld[kW] = {};
        for (std::int64_t k = 0; k < K; ++k)
            for (int j = 0; j < kW; ++j) ld[j] += detail::log_r(s.qs[k * Np + n + j]);
        for (int j = 0; j < kW && n + j < N; ++j) yp[(n + j) * (D + 1) + D] = ld[j];
    }
}

// The backward of chunk c: gy [N,D+1] in; adds into gz [N,D] and, for per-sample rows, gp.
// For a shared row, leaves the chunk's sums of each layer's row gradients [K][2D+2] in its
// scratch (after the lane accumulators). gs [D][Np] and gl [Np] are work space.
template <class Dim>
void planar_backward_chunk(const PlanarRun& s, std::int64_t c, Dim D, const real* gy, real* gz,
                           real* gp, real* gs, real* gl) {
    const std::int64_t Np = s.Np, K = s.K, N = s.N, A = acc_values(D, 1);
    const std::int64_t n0 = c * s.chunk, n1 = std::min(n0 + s.chunk, Np);
    for (std::int64_t i = n0; i < n1; ++i) {
        for (int d = 0; d < D; ++d) gs[d * Np + i] = i < N ? gy[i * (D + 1) + d] : real(0);
        gl[i] = i < N ? gy[i * (D + 1) + D] : real(0);
    }
    real* acc = gp ? s.scratch + c * s.per_chunk : nullptr;  // [2D+2][W]
    real* rest = s.scratch + c * s.per_chunk + acc_values(D, kW);
    for (std::int64_t k = K - 1; s.shared && k >= 0; --k) {  // a shared row: layer by layer
        const real* zk = s.zs + k * D * Np;
        const real* hk = s.hs + k * Np;
        const Rows<1> r = s.row(k);
        if (acc) std::fill(acc, acc + acc_values(D, kW), real(0));
        for (std::int64_t i = n0; i < n1; i += kW)
            backward_block(r, D, Np, zk + i, hk + i, s.qs + k * Np + i, gl + i, gs + i, acc);
        if (acc)  // the chunk's sums over its lanes, in lane order
            for (std::int64_t f = 0; f < A; ++f) {
                real t = 0;
                for (int j = 0; j < kW; ++j) t += acc[f * kW + j];
                rest[k * A + f] = t;
            }
    }
    if (!s.shared) {  // per-sample rows: block by block, each through all layers in reverse
        const Rows<kW> lanes = carve_rows<kW>(rest, D);
        real* out = rest + row_values(D, kW);  // [P][W]
        for (std::int64_t i = n0; i < n1; i += kW)
            for (std::int64_t k = K - 1; k >= 0; --k) {
                gather_rows(lanes, s.pp, s.rs, s.col(k), i, s.N, D);
                derive_rows(lanes, D);
                if (acc) std::fill(acc, acc + acc_values(D, kW), real(0));
                backward_block(lanes, D, Np, s.zs + k * D * Np + i, s.hs + k * Np + i, s.qs + k * Np + i, gl + i, gs + i, acc);
                if (!acc) continue;
                row_backward(lanes, D, acc, out);
                for (int j = 0; j < kW && i + j < N; ++j) {
                    real* gprow = gp + (i + j) * s.rs + s.col(k);
                    for (int f = 0; f < s.P; ++f) gprow[f] += out[f * kW + j];
                }
            }
    }
    if (gz)
        for (std::int64_t i = n0; i < std::min(n1, N); ++i)
            for (int d = 0; d < D; ++d) gz[i * D + d] += gs[d * Np + i];
}

// Per-sample rows with a long z (D ≥ kAlongD). The forward takes a block of up to kV samples
// at a time: each sample's dot products and updates vectorized along D (reading its row
// [u, w, b] in place), the per-sample scalars (softplus, tanh, log) vectorized across the
// block, whose samples' chains of dependent operations then overlap. The backward takes one
// sample at a time (see there). Kept: z_k as [N][K][D], h as [N][K]. Dot products along D
// keep kV partial sums, added in order, then the tail.

// The forward of samples [n0, n0 + m), m ≤ kV: zs [N][K][D] (layer 0 filled), hs [N][K];
// z_K and the log-det sum into the output rows y [N,D+1].
void along_forward_block(const PlanarRun& s, std::int64_t n0, int m, real* zs, real* hs, real* y) {
    const int D = s.D, K = s.K;
    real wu[kV], ww[kV], a[kV], sp[kV], c[kV], h[kV], ld[kV] = {};
    for (int j = m; j < kV; ++j) wu[j] = 0, ww[j] = 1, a[j] = 0;  // idle lanes stay finite
    auto row = [&](int j, int k) { return s.pp + (n0 + j) * s.rs + s.col(k); };
    auto zrow = [&](int j, int k) { return zs + ((n0 + j) * K + k) * D; };
    for (int k = 0; k < K; ++k) {
        for (int j = 0; j < m; ++j) {
            const real* u = row(j, k);
            const real* w = u + D;
            const real* zk = zrow(j, k);
            real pu[kV] = {}, pw[kV] = {}, pz[kV] = {};
            int d = 0;
            for (; d + kV <= D; d += kV)
                for (int l = 0; l < kV; ++l) {
                    const real wd = w[d + l];
                    pu[l] += wd * u[d + l];
                    pw[l] += wd * wd;
                    pz[l] += wd * zk[d + l];
                }
            real tu = 0, tw = 0, tz = 0;
            for (int l = 0; l < kV; ++l) tu += pu[l], tw += pw[l], tz += pz[l];
            for (; d < D; ++d) tu += w[d] * u[d], tw += w[d] * w[d], tz += w[d] * zk[d];
            wu[j] = tu, ww[j] = tw, a[j] = u[2 * D] + tz;  // u[2D] is b
        }
        for (int j = 0; j < kV; ++j) {
            sp[j] = softplus_lanes(wu[j]);
            c[j] = (sp[j] - real(1) - wu[j]) / ww[j];
            h[j] = detail::tanh_r(a[j]);
            const real h2 = h[j] * h[j];
            ld[j] += detail::log_r(sp[j] * (real(1) - h2) + h2);
        }
        for (int j = 0; j < m; ++j) {
            const real* u = row(j, k);
            const real* w = u + D;
            const real* zk = zrow(j, k);
            real* zn = k + 1 < K ? zrow(j, k + 1) : y + (n0 + j) * (D + 1);
            for (int d = 0; d < D; ++d) zn[d] = zk[d] + h[j] * (u[d] + c[j] * w[d]);
            hs[(n0 + j) * K + k] = h[j];
        }
    }
    for (int j = 0; j < m; ++j) y[(n0 + j) * (D + 1) + D] = ld[j];
}

// The backward of sample n, one sample at a time (each reads its rows and writes its
// gradient row front to back: as a block, the many concurrent streams of these long rows were
// slower). g [D] holds ∂/∂z_K on entry and ∂/∂z_0 on return; gl is ∂/∂logdet; gp (or null)
// the sample's gradient row.
void along_backward_sample(const PlanarRun& s, std::int64_t n, const real* zs, const real* hs,
                           real* g, real gl, real* gp) {
    const int D = s.D, K = s.K;
    for (int k = K - 1; k >= 0; --k) {
        const real* u = s.pp + n * s.rs + s.col(k);
        const real* w = u + D;
        const real* zk = zs + (n * K + k) * D;
        real pu[kV] = {}, pw[kV] = {}, pgu[kV] = {}, pgw[kV] = {};
        int d = 0;
        for (; d + kV <= D; d += kV)
            for (int l = 0; l < kV; ++l) {
                const real wd = w[d + l], ud = u[d + l], gd = g[d + l];
                pu[l] += wd * ud;
                pw[l] += wd * wd;
                pgu[l] += gd * ud;
                pgw[l] += gd * wd;
            }
        real wu = 0, ww = 0, gu = 0, gw = 0;
        for (int l = 0; l < kV; ++l) wu += pu[l], ww += pw[l], gu += pgu[l], gw += pgw[l];
        for (; d < D; ++d) wu += w[d] * u[d], ww += w[d] * w[d], gu += g[d] * u[d], gw += g[d] * w[d];
        const real sp = softplus_lanes(wu), c = (sp - real(1) - wu) / ww;
        const real h = hs[n * K + k], h2 = h * h, omh = real(1) - h2;
        const real gq = gl / (sp * omh + h2);                                      // ∂/∂q
        const real da = (gq * real(2) * h * (real(1) - sp) + gu + c * gw) * omh;  // Σ g·û = gu + c·gw
        if (gp) {
            real* gr = gp + s.col(k);
            const real dc = h * gw;  // Σ_d ∂/∂û_d · w_d
            const real dsp = gq * omh + dc / ww;
            const real dwu = dsp * sigmoid_lanes(wu) - dc / ww, dww = -dc * c / ww;
            for (d = 0; d < D; ++d) {
                const real duh = g[d] * h;
                gr[d] += duh + dwu * w[d];
                gr[D + d] += da * zk[d] + c * duh + dwu * u[d] + real(2) * dww * w[d];
            }
            gr[2 * D] += da;
        }
        for (d = 0; d < D; ++d) g[d] += da * w[d];
    }
}

// Calls f(D) with D as a compile-time constant for the common D = 2 (the potentials), so that
// its loops over D unroll; as a plain int otherwise.
template <class F>
void with_dim(int D, F&& f) {
    if (D == 2) f(std::integral_constant<int, 2>{});
    else f(D);
}

}  // namespace

Var planar_layers(Var z, Var params, int begin, int layers) {
    const int N = z.rows(), D = z.cols(), P = 2 * D + 1;
    if (layers < 1 || begin < 0 ||
        static_cast<std::int64_t>(begin) + static_cast<std::int64_t>(layers) * P > params.cols() ||
        (params.rows() != 1 && params.rows() != N))
        detail::shape_error("planar_layers", "z " + z.shape().str() + " and " + std::to_string(layers) +
                                                 " layers from column " + std::to_string(begin) +
                                                 " need params [1, >= " + std::to_string(begin + layers * P) +
                                                 "] or [" + std::to_string(N) + ", >= " +
                                                 std::to_string(begin + layers * P) + "], got " +
                                                 params.shape().str());
    Graph& g = z.graph();
    Var y = g.make(Op::Planar, Shape::matrix(N, D + 1), {z, params});
    PlanarRun s = planar_run(N, D, layers, begin, g.node(params.id()));
    // Kept for the backward: z_k [K][D][Np], then h and q [K][Np] each.
    TensorRef kept = g.alloc(Shape::matrix(layers * (D + 2), static_cast<int>(s.Np)));
    {
        Node& node = g.node(y.id());
        node.aux = kept;
        node.iattr[0] = begin;
        node.iattr[1] = layers;
    }
    s.zs = kept.data;
    s.hs = kept.data + s.K * D * s.Np;
    s.qs = s.hs + s.K * s.Np;
    if (s.shared) s.table = shared_rows(g, s);
    s.per_chunk = s.shared || s.along ? 0 : row_values(D, kW);
    if (s.per_chunk) s.scratch = g.alloc(Shape::matrix(static_cast<int>(s.chunks), static_cast<int>(s.per_chunk))).data;
    real* z_out = g.alloc(Shape::matrix(D, static_cast<int>(s.Np))).data;  // [D][Np]
    const real* zp = z.data();
    real* yp = y.data();  // [N,D+1]
    if (s.along) {
        parallel_chunks((N + kV - 1) / kV, [&](std::int64_t b) {
            const std::int64_t n0 = b * kV;
            const int m = static_cast<int>(std::min<std::int64_t>(kV, N - n0));
            for (std::int64_t n = n0; n < n0 + m; ++n) std::copy(zp + n * D, zp + (n + 1) * D, s.zs + n * s.K * D);
            along_forward_block(s, n0, m, s.zs, s.hs, yp);
        });
        return y;
    }
    with_dim(D, [&](auto dim) {
        parallel_chunks(s.chunks, [&](std::int64_t c) { planar_forward_chunk(s, c, dim, zp, yp, z_out); });
    });
    return y;
}

Var planar_layer(Var z, Var params) {
    const int N = z.rows(), D = z.cols(), P = 2 * D + 1;
    if (params.cols() != P || (params.rows() != 1 && params.rows() != N))
        detail::shape_error("planar_layer", "z " + z.shape().str() + " needs params [1," +
                                                std::to_string(P) + "] or [" + std::to_string(N) +
                                                "," + std::to_string(P) + "], got " + params.shape().str());
    return planar_layers(z, params, 0, 1);
}

void backward_Planar(Graph& g, Node& n) {
    const Node& Z = detail::parent(g, n, 0);
    const Node& Pn = detail::parent(g, n, 1);
    const int D = Z.value.cols();
    PlanarRun s = planar_run(Z.value.rows(), D, n.iattr[1], n.iattr[0], Pn);
    s.zs = n.aux.data;
    s.hs = s.zs + s.K * D * s.Np;
    s.qs = s.hs + s.K * s.Np;
    real* gz = Z.needs_grad ? g.grad_of(n.parent[0]).data : nullptr;
    real* gp = Pn.needs_grad ? g.grad_of(n.parent[1]).data : nullptr;
    const std::int64_t A = acc_values(D, 1);  // the gradient sums of one row
    if (s.shared) s.table = shared_rows(g, s);
    // Per chunk: lane accumulators [2D+2][W]; then for a shared row the chunk's sums
    // [K][2D+2], for per-sample rows a block's rows and raw gradients [P][W].
    s.per_chunk = acc_values(D, kW) + (s.shared ? s.K * A : row_values(D, kW) + s.P * kW);
    if (!s.along) s.scratch = g.alloc(Shape::matrix(static_cast<int>(s.chunks), static_cast<int>(s.per_chunk))).data;
    real* gs = g.alloc(Shape::matrix(D, static_cast<int>(s.Np))).data;  // [D][Np] ∂/∂z_k
    real* gl = g.alloc(Shape::matrix(1, static_cast<int>(s.Np))).data;  // [Np] ∂/∂logdet
    const real* gy = n.grad.data;  // [N,D+1]
    if (s.along) {
        parallel_for(s.N, kChunkRows, [&](std::int64_t lo, std::int64_t hi) {
            for (std::int64_t i = lo; i < hi; ++i) {
                real* g1 = gs + i * D;  // gs as [N][D]
                std::copy(gy + i * (D + 1), gy + i * (D + 1) + D, g1);
                along_backward_sample(s, i, s.zs, s.hs, g1, gy[i * (D + 1) + D], gp ? gp + i * s.rs : nullptr);
                if (gz)
                    for (int d = 0; d < D; ++d) gz[i * D + d] += g1[d];
            }
        });
        return;
    }
    with_dim(D, [&](auto dim) {
        parallel_chunks(s.chunks, [&](std::int64_t c) { planar_backward_chunk(s, c, dim, gy, gz, gp, gs, gl); });
    });
    if (!gp || !s.shared) return;
    // A shared row: add the chunks' sums in chunk order, then push each layer's through û.
    real* total = g.alloc(Shape::matrix(1, static_cast<int>(A + s.P))).data;  // sums [2D+2], raw gradients [P]
    real* out = total + A;
    for (std::int64_t k = 0; k < s.K; ++k) {
        std::fill(total, total + A, real(0));
        for (std::int64_t c = 0; c < s.chunks; ++c) {
            const real* part = s.scratch + c * s.per_chunk + acc_values(D, kW) + k * A;
            for (std::int64_t f = 0; f < A; ++f) total[f] += part[f];
        }
        row_backward(s.row(k), D, total, out);
        real* gprow = gp + s.col(k);
        for (int f = 0; f < s.P; ++f) gprow[f] += out[f];
    }
}

}  // namespace nfvi
