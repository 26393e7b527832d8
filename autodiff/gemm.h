// General matrix multiply on row-major `real` matrices: the one kernel behind matmul and
// linear, forward and backward.
//
// Legend: op(A) [M,K], op(B) [K,N], C [M,N]. A "leading dimension" (lda, ldb, ldc) is the
// distance in elements between the starts of two consecutive stored rows.
#pragma once

#include "autodiff/config.h"

namespace nfvi {

// C[M,N] = alpha * op(A) * op(B) + beta * C, all row-major.
// op(A) is [M,K]: A is stored [M,K] with row stride lda >= K, or, when trans_a, stored [K,M]
// with lda >= M. op(B) is [K,N]: B is stored [K,N] (ldb >= N) or, when trans_b, stored [N,K]
// (ldb >= K).
// beta == 0 never reads C (C may hold NaN garbage). K == 0 or alpha == 0 gives beta * C
// without reading A or B (as BLAS does).
// Cache-blocked and packed; splits C (never K) across num_threads() threads when the work is
// large, at boundaries that depend on the shape only, so the bits of C do not depend on the
// number of threads. Makes no heap allocation once it has seen a shape (its packing buffers
// are per thread and only grow). Throws std::invalid_argument on negative sizes or too small
// leading dimensions.
void gemm(bool trans_a, bool trans_b, int M, int N, int K, real alpha, const real* A, int lda,
          const real* B, int ldb, real beta, real* C, int ldc);

// The block sizes gemm was built with (they follow the vector width of the target), so that
// tests can aim shapes just below and above them.
struct GemmBlocking {
    int mr, nr;  // micro-tile of C held in registers
    int kc;      // most depth of one K block
    int mc, nc;  // rows of a packed A block, columns of a packed B panel
};
GemmBlocking gemm_blocking();

// The slow, obvious triple loop (sum over k in increasing order, in double): the oracle for
// tests. Same conventions as gemm, including beta == 0 and alpha == 0.
void gemm_reference(bool trans_a, bool trans_b, int M, int N, int K, real alpha, const real* A,
                    int lda, const real* B, int ldb, real beta, real* C, int ldc);

}  // namespace nfvi
