// GEMM: a cache-blocked, packed matrix multiply with a register-blocked micro-kernel, plus the
// triple-loop reference it is tested against.
//
// Legend: op(A) [M,K], op(B) [K,N], C [M,N]; MR x NR is the micro-tile of C held in registers,
// KC the depth of one K block, MC x KC the packed block of A, KC x NC the packed panel of B.
//
// The loop nest (after BLIS): for each NC-wide column panel, for each KC-deep K block, pack
// the B panel into NR-wide slivers; for each MC-tall row block, pack A into MR-tall slivers;
// then run the micro-kernel over every MR x NR tile. Each C element is computed by the same
// sequence of operations wherever its tile falls (edge tiles have kernels of their own height,
// or go through a zero-padded copy when narrower than a sliver), and the K blocks depend on K
// only, so any split of C across threads gives the same bits.
#include "autodiff/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <experimental/simd>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"
#include "autodiff/thread_pool.h"

namespace nfvi {
namespace {

namespace stdx = std::experimental;
using idx = std::ptrdiff_t;
using V = stdx::native_simd<real>;  // 8 floats with AVX2, 16 with AVX-512, 4 with SSE2

constexpr int kW = static_cast<int>(V::size());
constexpr int kMR = 6;       // rows of a micro-tile: 6 x 2 accumulator vectors
constexpr int kNR = 2 * kW;  // columns of a micro-tile
// Max depth of a K block: a KC x NR sliver of B (16 KiB) stays in L1 beside a sliver of A.
constexpr int kKC = std::clamp(16384 / (kNR * static_cast<int>(sizeof(real))), 128, 256);
constexpr int kMC = 24 * kMR;   // rows of a packed A block (MC x KC, in L2)
constexpr int kNC = 192 * kNR;  // columns of a packed B panel (KC x NC, in L3)

// Below this many multiply-adds per thread, splitting across threads does not pay.
constexpr double kMacsPerThread = 1 << 18;

static_assert(kMR == 6, "kernel_for dispatches on 1..6 rows");
static_assert(kMC % kMR == 0 && kNC % kNR == 0, "blocks must hold whole micro-tiles");

// A read-only strided matrix: element (i, j) at p[i * rs + j * cs].
struct View {
    const real* p;
    idx rs, cs;
    real operator()(idx i, idx j) const { return p[i * rs + j * cs]; }
    View at(idx i, idx j) const { return {p + i * rs + j * cs, rs, cs}; }
};

// Packing buffers, 64-byte aligned. They grow and never shrink.
struct PackBuffers {
    real* a = nullptr;  // [MC/MR][KC][MR] slivers of A
    real* b = nullptr;  // [NC/NR][KC][NR] slivers of B
    std::int64_t cap_a = 0, cap_b = 0;

    PackBuffers() = default;
    PackBuffers(PackBuffers&& o) noexcept
        : a(std::exchange(o.a, nullptr)),
          b(std::exchange(o.b, nullptr)),
          cap_a(std::exchange(o.cap_a, 0)),
          cap_b(std::exchange(o.cap_b, 0)) {}
    PackBuffers& operator=(PackBuffers&&) = delete;
    ~PackBuffers() {
        aligned_free_reals(a);
        aligned_free_reals(b);
    }
    void reserve(std::int64_t need_a, std::int64_t need_b) {
        grow(a, cap_a, need_a);
        grow(b, cap_b, need_b);
    }
    static void grow(real*& p, std::int64_t& cap, std::int64_t need) {
        if (need <= cap) return;
        aligned_free_reals(p);
        p = nullptr;
        cap = 0;
        p = aligned_alloc_reals(need);
        cap = need;
    }
};

// The buffers of the gemm calls made by this thread: one set per part of C that runs at once.
// The calling thread sizes them all before it splits the work, so that which thread of the
// pool runs which part does not matter, and a call allocates only when it is the first of its
// size or thread count. (A gemm called inside a parallel loop runs inline on its own sets.)
thread_local std::vector<PackBuffers> tl_pack;

// ---- packing ---------------------------------------------------------------------------------

// Packs rows [0, mc) x depth [0, kc) of A into MR-tall slivers: Ap[s][k][r] = A(s*MR + r, k),
// rows past mc are zero. Stored rows of A are read in order, so that the hardware prefetcher
// follows (walking down a column instead crosses a page per element).
void pack_a(View A, int mc, int kc, real* Ap) {
    const int mfull = mc / kMR * kMR;
    const idx sliver = static_cast<idx>(kc) * kMR;  // reals per sliver
    if (A.rs == 1) {  // A stored [K,M]: each stored row holds MR consecutive reals per sliver
        for (int k = 0; k < kc; ++k) {
            const real* row = A.p + k * A.cs;
            real* out = Ap + k * kMR;
            for (int s = 0; s < mfull; s += kMR, out += sliver)
                for (int r = 0; r < kMR; ++r) out[r] = row[s + r];
        }
    } else {  // A stored [M,K] (so A.cs == 1): MR stored rows per sliver, each read along k
        for (int s = 0; s < mfull; s += kMR) {
            const real* a = A.p + s * A.rs;
            real* out = Ap + (s / kMR) * sliver;
            for (int k = 0; k < kc; ++k)
                for (int r = 0; r < kMR; ++r) out[k * kMR + r] = a[r * A.rs + k];
        }
    }
    if (mfull < mc) {
        const View a = A.at(mfull, 0);
        real* out = Ap + (mfull / kMR) * sliver;
        for (int k = 0; k < kc; ++k)
            for (int r = 0; r < kMR; ++r) out[k * kMR + r] = r < mc - mfull ? a(r, k) : real(0);
    }
}

// dst[j * dstride + i] = src[i * sstride + j] for i, j < 8: an 8 x 8 transpose of floats in
// eight vector registers (unpack, shuffle, then swap 128-bit halves), where the compiler has
// vector shuffles and the native vector holds 8 floats (AVX, not AVX-512). Else pack_b moves
// scalars.
#if defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define NFVI_HAVE_SHUFFLEVECTOR 1
#endif
#endif
#if defined(NFVI_HAVE_SHUFFLEVECTOR) && defined(__AVX__) && !NFVI_REAL_IS_DOUBLE
constexpr bool kTranspose8 = kW == 8;
typedef float V8 __attribute__((vector_size(32)));
typedef float V8u __attribute__((vector_size(32), aligned(4), may_alias));  // unaligned access
[[gnu::always_inline]] inline void transpose8(const real* src, idx sstride, real* dst, idx dstride) {
    auto row = [&](int i) -> V8 { return *reinterpret_cast<const V8u*>(src + i * sstride); };
    const V8 r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5), r6 = row(6), r7 = row(7);
    // t: rows i and i+1 interleaved, (i,0)(i+1,0)(i,1)(i+1,1) | (i,4)(i+1,4)(i,5)(i+1,5), and the
    // same from columns 2, 3, 6, 7.
    const V8 t0 = __builtin_shufflevector(r0, r1, 0, 8, 1, 9, 4, 12, 5, 13);
    const V8 t1 = __builtin_shufflevector(r0, r1, 2, 10, 3, 11, 6, 14, 7, 15);
    const V8 t2 = __builtin_shufflevector(r2, r3, 0, 8, 1, 9, 4, 12, 5, 13);
    const V8 t3 = __builtin_shufflevector(r2, r3, 2, 10, 3, 11, 6, 14, 7, 15);
    const V8 t4 = __builtin_shufflevector(r4, r5, 0, 8, 1, 9, 4, 12, 5, 13);
    const V8 t5 = __builtin_shufflevector(r4, r5, 2, 10, 3, 11, 6, 14, 7, 15);
    const V8 t6 = __builtin_shufflevector(r6, r7, 0, 8, 1, 9, 4, 12, 5, 13);
    const V8 t7 = __builtin_shufflevector(r6, r7, 2, 10, 3, 11, 6, 14, 7, 15);
    // u: four rows' elements of column j in the low half, of column j + 4 in the high half.
    const V8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);    // columns 0, 4
    const V8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);  // 1, 5
    const V8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);    // 2, 6
    const V8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);  // 3, 7
    const V8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);
    const V8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);
    const V8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);
    const V8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);
    auto put = [&](int j, V8 v) { *reinterpret_cast<V8u*>(dst + j * dstride) = v; };
    put(0, __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11));
    put(1, __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11));
    put(2, __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11));
    put(3, __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11));
    put(4, __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15));
    put(5, __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15));
    put(6, __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15));
    put(7, __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15));
}
#else
constexpr bool kTranspose8 = false;
inline void transpose8(const real*, idx, real*, idx) {}
#endif

// Width of the packed sliver that holds columns [s, s + nr) of a panel: NR, or one vector for
// a last sliver that fits in one.
constexpr int sliver_width(int nr) { return nr <= kW ? kW : kNR; }

// Packs depth [0, kc) x columns [0, nc) of B into slivers: Bp[s][k][c] = B(k, s*NR + c) with
// NR columns each, except a last sliver of <= W columns, which is W wide; columns past nc are
// zero. Sliver s starts at Bp + s * kc * NR. Stored rows of B are read in order.
void pack_b(View B, int kc, int nc, real* Bp) {
    const int nfull = nc / kNR * kNR;
    const idx sliver = static_cast<idx>(kc) * kNR;  // reals per sliver
    if (B.cs == 1) {  // B stored [K,N]: each stored row is cut into NR-wide pieces
        for (int k = 0; k < kc; ++k) {
            const real* row = B.p + k * B.rs;
            real* out = Bp + k * kNR;
            for (int s = 0; s < nfull; s += kNR, out += sliver)
                for (int c = 0; c < kNR; c += kW)  // explicit vectors: -O2 copies scalars
                    V(row + s + c, stdx::element_aligned).copy_to(out + c, stdx::vector_aligned);
        }
    } else {  // B stored [N,K] (so B.rs == 1): a transpose, in 8 x NR blocks
        for (int s = 0; s < nfull; s += kNR) {
            const real* b = B.p + s * B.cs;
            real* out = Bp + (s / kNR) * sliver;
            int k = 0;
            if constexpr (kTranspose8)
                for (; k + 8 <= kc; k += 8)
                    for (int c = 0; c < kNR; c += 8) transpose8(b + c * B.cs + k, B.cs, out + k * kNR + c, kNR);
            for (; k + 8 <= kc; k += 8)
                for (int c = 0; c < kNR; ++c)
                    for (int kk = 0; kk < 8; ++kk) out[(k + kk) * kNR + c] = b[c * B.cs + k + kk];
            for (; k < kc; ++k)
                for (int c = 0; c < kNR; ++c) out[k * kNR + c] = b[c * B.cs + k];
        }
    }
    if (nfull < nc) {
        const View b = B.at(0, nfull);
        const int nr = nc - nfull, w = sliver_width(nr);
        real* out = Bp + (nfull / kNR) * sliver;
        for (int k = 0; k < kc; ++k)
            for (int c = 0; c < w; ++c) out[k * w + c] = c < nr ? b(k, c) : real(0);
    }
}

// ---- micro-kernel ----------------------------------------------------------------------------

// One kRows x (NV * W) tile, kRows <= MR: C = alpha * A * Bp + beta * C. A(i, k) is at
// a[i * rsa + k * csa] (a packed sliver, or A itself); Bp is a [kc][NV * W] sliver of B,
// 64-byte aligned; C has row stride ldc. With kBetaZero, C is only written. Every element
// goes through the same operations (a chain of multiply-adds over k, then alpha * acc +
// beta * c) whatever kRows and NV are.
template <int kRows, int kNV, bool kBetaZero>
void kernel(int kc, const real* __restrict a, idx rsa, idx csa, const real* __restrict Bp,
            real alpha, real beta, real* __restrict C, idx ldc) {
    // Ask for the tile of C now, so that it has arrived when the sums are done (C is often
    // far larger than the caches: the gradient of a weight matrix).
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i) {
        __builtin_prefetch(C + i * ldc, kBetaZero ? 1 : 0);
        __builtin_prefetch(C + i * ldc + kNV * kW - 1, kBetaZero ? 1 : 0);
    }
    V acc[kRows][kNV];
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 2
        for (int v = 0; v < kNV; ++v) acc[i][v] = V(real(0));
    for (int k = 0; k < kc; ++k) {
        V b[kNV];
#pragma GCC unroll 2
        for (int v = 0; v < kNV; ++v) b[v].copy_from(Bp + v * kW, stdx::vector_aligned);
#pragma GCC unroll 6
        for (int i = 0; i < kRows; ++i) {
            const V ai(a[i * rsa]);
#pragma GCC unroll 2
            for (int v = 0; v < kNV; ++v) acc[i][v] += ai * b[v];
        }
        a += csa;
        Bp += kNV * kW;
    }
    const V va(alpha), vb(beta);
#pragma GCC unroll 6
    for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 2
        for (int v = 0; v < kNV; ++v) {
            real* c = C + i * ldc + v * kW;
            V r = va * acc[i][v];
            if constexpr (!kBetaZero) r += vb * V(c, stdx::element_aligned);
            r.copy_to(c, stdx::element_aligned);
        }
}

using KernelFn = void (*)(int, const real*, idx, idx, const real*, real, real, real*, idx);

template <int kRows>
KernelFn kernel_rows(int nv, bool beta_zero) {
    if (nv == 1) return beta_zero ? &kernel<kRows, 1, true> : &kernel<kRows, 1, false>;
    return beta_zero ? &kernel<kRows, 2, true> : &kernel<kRows, 2, false>;
}

// The kernel for `rows` (1..MR) rows of C and `nv` (1 or 2) vectors of columns.
KernelFn kernel_for(int rows, int nv, bool beta_zero) {
    switch (rows) {
    case 1: return kernel_rows<1>(nv, beta_zero);
    case 2: return kernel_rows<2>(nv, beta_zero);
    case 3: return kernel_rows<3>(nv, beta_zero);
    case 4: return kernel_rows<4>(nv, beta_zero);
    case 5: return kernel_rows<5>(nv, beta_zero);
    default: return kernel_rows<6>(nv, beta_zero);
    }
}

// Runs the kernel on an mr x nr tile of C (row stride ldc). A tile as wide as its sliver goes
// straight to the kernel of its height; a narrower one (the ragged last columns) goes through
// a zero-padded copy, so that every element sees the same arithmetic.
void tile(int kc, const real* a, idx rsa, idx csa, const real* Bp, real alpha, real beta,
          bool beta_zero, real* C, idx ldc, int mr, int nr) {
    const int w = sliver_width(nr);
    const KernelFn f = kernel_for(mr, w / kW, beta_zero);
    if (nr == w) {
        f(kc, a, rsa, csa, Bp, alpha, beta, C, ldc);
        return;
    }
    alignas(64) real t[kMR * kNR];  // [mr][w]
    if (!beta_zero)
        for (int i = 0; i < mr; ++i)
            for (int j = 0; j < w; ++j) t[i * w + j] = j < nr ? C[i * ldc + j] : real(0);
    f(kc, a, rsa, csa, Bp, alpha, beta, t, w);
    for (int i = 0; i < mr; ++i)
        for (int j = 0; j < nr; ++j) C[i * ldc + j] = t[i * w + j];
}

// ---- drivers ---------------------------------------------------------------------------------

// Reals of packing buffer that gemm_packed needs for C [M,N] (or any block of it) and depth K.
std::int64_t need_a(int M, int K) {
    const int kblocks = (K + kKC - 1) / kKC;
    return static_cast<std::int64_t>(std::min(kMC, (M + kMR - 1) / kMR * kMR)) *
           ((K + kblocks - 1) / kblocks);
}
std::int64_t need_b(int N, int K) {
    const int kblocks = (K + kKC - 1) / kKC;
    return static_cast<std::int64_t>(std::min(kNC, (N + kNR - 1) / kNR * kNR)) *
           ((K + kblocks - 1) / kblocks);
}

// The packed loop nest on one thread, over all of C [M,N] (row stride ldc). `buf` holds at
// least need_a(M, K) and need_b(N, K) reals.
void gemm_packed(int M, int N, int K, real alpha, View A, View B, real beta, real* C, idx ldc,
                 const PackBuffers& buf) {
    const int kblocks = (K + kKC - 1) / kKC;
    // A is packed only when each packed sliver is reused enough to pay for the copy (measured);
    // else the kernel reads A in place (a ragged last sliver too: it has a kernel of its height).
    const bool pack_all_a = N > (A.cs == 1 ? 16 : 4) * kNR;

    for (int jc = 0; jc < N; jc += kNC) {
        const int nc = std::min(kNC, N - jc);
        for (int p = 0; p < kblocks; ++p) {
            // K blocks of near-equal depth, fixed by K alone.
            const int k0 = static_cast<int>(static_cast<std::int64_t>(K) * p / kblocks);
            const int k1 = static_cast<int>(static_cast<std::int64_t>(K) * (p + 1) / kblocks);
            const int kc = k1 - k0;
            const bool first = p == 0;
            const real b_eff = first ? beta : real(1);
            const bool bz = first && beta == real(0);
            pack_b(B.at(k0, jc), kc, nc, buf.b);
            for (int ic = 0; ic < M; ic += kMC) {
                const int mc = std::min(kMC, M - ic);
                if (pack_all_a) pack_a(A.at(ic, k0), mc, kc, buf.a);
                for (int jr = 0; jr < nc; jr += kNR) {
                    const real* bp = buf.b + static_cast<idx>(jr) * kc;
                    const int nr = std::min(kNR, nc - jr);
                    for (int ir = 0; ir < mc; ir += kMR) {
                        const int mr = std::min(kMR, mc - ir);
                        real* c = C + (ic + ir) * ldc + jc + jr;
                        if (pack_all_a) {
                            tile(kc, buf.a + static_cast<idx>(ir) * kc, 1, kMR, bp, alpha, b_eff, bz, c, ldc, mr, nr);
                        } else {
                            const View a = A.at(ic + ir, k0);
                            tile(kc, a.p, a.rs, a.cs, bp, alpha, b_eff, bz, c, ldc, mr, nr);
                        }
                    }
                }
            }
        }
    }
}

// Splits C into blocks of whole micro-tiles across threads (rows when M > N, else columns:
// the operand packed by every thread is then the smaller one).
void gemm_parallel(int M, int N, int K, real alpha, View A, View B, real beta, real* C, idx ldc) {
    const double macs = static_cast<double>(M) * N * K;
    const bool split_rows = M > N;
    const int tiles = split_rows ? (M + kMR - 1) / kMR : (N + kNR - 1) / kNR;
    const auto grain = static_cast<std::int64_t>(std::max(1.0, kMacsPerThread / (macs / tiles)));
    const int threads = num_threads();
    const int sets = tiles < 2 * grain ? 1 : threads;
    std::vector<PackBuffers>& bufs = tl_pack;
    if (static_cast<int>(bufs.size()) < sets) bufs.resize(static_cast<std::size_t>(sets));
    for (int s = 0; s < sets; ++s)
        bufs[static_cast<std::size_t>(s)].reserve(need_a(M, K), need_b(N, K));
    if (sets == 1) {
        gemm_packed(M, N, K, alpha, A, B, beta, C, ldc, bufs[0]);
        return;
    }
    std::atomic<int> next_set{0};  // each part takes its own buffer set
    parallel_for(tiles, grain, [&](std::int64_t t0, std::int64_t t1) {
        const int s = next_set.fetch_add(1, std::memory_order_relaxed);
        PackBuffers spare;  // only if the thread count changed under us
        if (s >= sets) spare.reserve(need_a(M, K), need_b(N, K));
        const PackBuffers& buf = s < sets ? bufs[static_cast<std::size_t>(s)] : spare;
        if (split_rows) {
            const int r0 = static_cast<int>(t0) * kMR;
            const int r1 = std::min(M, static_cast<int>(t1) * kMR);
            gemm_packed(r1 - r0, N, K, alpha, A.at(r0, 0), B, beta, C + r0 * ldc, ldc, buf);
        } else {
            const int c0 = static_cast<int>(t0) * kNR;
            const int c1 = std::min(N, static_cast<int>(t1) * kNR);
            gemm_packed(M, c1 - c0, K, alpha, A, B.at(0, c0), beta, C + c0, ldc, buf);
        }
    });
}

// Tiny products: a dot product per element, no packing.
void gemm_small(int M, int N, int K, real alpha, View A, View B, real beta, real* C, idx ldc) {
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            real s = 0;
            for (int k = 0; k < K; ++k) s += A(i, k) * B(k, j);
            real& c = C[i * ldc + j];
            c = beta == real(0) ? alpha * s : alpha * s + beta * c;
        }
}

void check_args(const char* who, bool trans_a, bool trans_b, int M, int N, int K, int lda, int ldb,
                int ldc) {
    auto fail = [&](const std::string& what) {
        throw std::invalid_argument(std::string("nfvi::") + who + ": " + what);
    };
    if (M < 0 || N < 0 || K < 0)
        fail("negative size M=" + std::to_string(M) + " N=" + std::to_string(N) +
             " K=" + std::to_string(K));
    const int a_row = trans_a ? M : K, b_row = trans_b ? K : N;
    if (lda < std::max(1, a_row))
        fail("lda=" + std::to_string(lda) + " is less than the stored row length " +
             std::to_string(a_row) + " of A; pass the row stride of A");
    if (ldb < std::max(1, b_row))
        fail("ldb=" + std::to_string(ldb) + " is less than the stored row length " +
             std::to_string(b_row) + " of B; pass the row stride of B");
    if (ldc < std::max(1, N))
        fail("ldc=" + std::to_string(ldc) + " is less than N=" + std::to_string(N) +
             "; pass the row stride of C");
}

// C = beta * C, never reading C when beta == 0.
void scale_c(int M, int N, real beta, real* C, int ldc) {
    for (int i = 0; i < M; ++i) {
        real* c = C + static_cast<idx>(i) * ldc;
        if (beta == real(0))
            std::fill(c, c + N, real(0));
        else
            for (int j = 0; j < N; ++j) c[j] *= beta;
    }
}

}  // namespace

void gemm(bool trans_a, bool trans_b, int M, int N, int K, real alpha, const real* A, int lda,
          const real* B, int ldb, real beta, real* C, int ldc) {
    check_args("gemm", trans_a, trans_b, M, N, K, lda, ldb, ldc);
    if (M == 0 || N == 0) return;
    if (K == 0 || alpha == real(0)) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    const View a = trans_a ? View{A, 1, lda} : View{A, lda, 1};  // op(A) [M,K]
    const View b = trans_b ? View{B, 1, ldb} : View{B, ldb, 1};  // op(B) [K,N]
    // Tiny products (e.g. [1000,2] x [2,1]): packing and padding to whole tiles would cost more
    // than the arithmetic (measured: the packed path wins from about 8 x 8 x 8, or N * K > 8).
    if (static_cast<std::int64_t>(N) * K <= 8 || static_cast<std::int64_t>(M) * N * K <= 256) {
        gemm_small(M, N, K, alpha, a, b, beta, C, ldc);
        return;
    }
    gemm_parallel(M, N, K, alpha, a, b, beta, C, ldc);
}

GemmBlocking gemm_blocking() { return {kMR, kNR, kKC, kMC, kNC}; }

void gemm_reference(bool trans_a, bool trans_b, int M, int N, int K, real alpha, const real* A,
                    int lda, const real* B, int ldb, real beta, real* C, int ldc) {
    check_args("gemm_reference", trans_a, trans_b, M, N, K, lda, ldb, ldc);
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            double s = 0;
            if (alpha != real(0))
                for (int k = 0; k < K; ++k) {
                    const real a = trans_a ? A[static_cast<idx>(k) * lda + i]
                                           : A[static_cast<idx>(i) * lda + k];
                    const real b = trans_b ? B[static_cast<idx>(j) * ldb + k]
                                           : B[static_cast<idx>(k) * ldb + j];
                    s += static_cast<double>(a) * static_cast<double>(b);
                }
            real& c = C[static_cast<idx>(i) * ldc + j];
            const double r = static_cast<double>(alpha) * s;
            c = static_cast<real>(beta == real(0) ? r : r + static_cast<double>(beta) * c);
        }
}

}  // namespace nfvi
