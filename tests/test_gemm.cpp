// Tests of nfvi::gemm against the triple-loop gemm_reference: ragged shapes around the block
// sizes, all four transpose layouts, padded leading dimensions, alpha/beta, beta = 0 over NaN,
// argument checks, and bit-identical results for 1 to 4 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "autodiff/gemm.h"
#include "autodiff/thread_pool.h"

using nfvi::real;

namespace {

// A small deterministic generator (64-bit LCG), values in [-1, 1).
struct Rng {
    std::uint64_t s;
    explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
    std::uint64_t next() {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        return s >> 33;
    }
    real uniform() { return static_cast<real>(static_cast<double>(next()) / 2147483648.0 * 2 - 1); }
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

// One gemm call's operands, with padded leading dimensions; C's padding holds a sentinel.
struct Problem {
    bool ta, tb;
    int M, N, K, lda, ldb, ldc;
    real alpha, beta;
    std::vector<real> A, B, C0;  // A, B stored as the layout says; C0: C before the call

    Problem(bool ta_, bool tb_, int M_, int N_, int K_, int pad, real alpha_, real beta_, Rng& rng)
        : ta(ta_), tb(tb_), M(M_), N(N_), K(K_), alpha(alpha_), beta(beta_) {
        const int a_rows = ta ? K : M, a_cols = ta ? M : K;  // A stored [a_rows, a_cols]
        const int b_rows = tb ? N : K, b_cols = tb ? K : N;  // B stored [b_rows, b_cols]
        lda = a_cols + pad;
        ldb = b_cols + 2 * pad;
        ldc = N + pad;
        A.resize(static_cast<std::size_t>(std::max(1, a_rows * lda)));
        B.resize(static_cast<std::size_t>(std::max(1, b_rows * ldb)));
        C0.resize(static_cast<std::size_t>(std::max(1, M * ldc)));
        for (auto& v : A) v = rng.uniform();
        for (auto& v : B) v = rng.uniform();
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < ldc; ++j)
                C0[static_cast<std::size_t>(i * ldc + j)] = j < N ? rng.uniform() : kSentinel;
    }
    static constexpr real kSentinel = real(777);

    std::vector<real> run_gemm(const std::vector<real>& c_in) const {
        std::vector<real> C = c_in;
        nfvi::gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
        return C;
    }
    std::vector<real> run_gemm() const { return run_gemm(C0); }
    std::vector<real> run_reference() const {
        std::vector<real> C = C0;
        nfvi::gemm_reference(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(),
                             ldc);
        return C;
    }
    real a(int i, int k) const {
        return ta ? A[static_cast<std::size_t>(k * lda + i)]
                  : A[static_cast<std::size_t>(i * lda + k)];
    }
    real b(int k, int j) const {
        return tb ? B[static_cast<std::size_t>(j * ldb + k)]
                  : B[static_cast<std::size_t>(k * ldb + j)];
    }

    // Checks C against the reference within the rounding bound of a K-term sum:
    // |err| <= (K + 4) eps (|alpha| sum_k |a||b| + |beta c0|). Also checks C's padding.
    void check(const std::vector<real>& C, const std::vector<real>& R) const {
        const double eps = std::numeric_limits<real>::epsilon();
        int bad = 0;
        for (int i = 0; i < M && bad < 5; ++i) {
            for (int j = 0; j < ldc && bad < 5; ++j) {
                const auto at = static_cast<std::size_t>(i * ldc + j);
                if (j >= N) {
                    if (C[at] != kSentinel) {
                        ++bad;
                        FAIL_CHECK("gemm wrote C's padding at (", i, ",", j, ")");
                    }
                    continue;
                }
                double mag = 0;
                for (int k = 0; k < K; ++k)
                    mag += std::fabs(static_cast<double>(a(i, k)) * b(k, j));
                mag = std::fabs(static_cast<double>(alpha)) * mag +
                      (beta == real(0) ? 0.0 : std::fabs(static_cast<double>(beta) * C0[at]));
                const double err = std::fabs(static_cast<double>(C[at]) - R[at]);
                if (!(err <= (K + 4) * eps * mag + 1e-30)) {
                    ++bad;
                    FAIL_CHECK("C(", i, ",", j, ") = ", C[at], " but the reference gives ", R[at],
                               " (error ", err, ", allowed ", (K + 4) * eps * mag, ")");
                }
            }
        }
    }
};

std::string describe(bool ta, bool tb, int M, int N, int K) {
    return std::string(ta ? "T" : "N") + (tb ? "T" : "N") + " M=" + std::to_string(M) +
           " N=" + std::to_string(N) + " K=" + std::to_string(K);
}

void check_against_reference(bool ta, bool tb, int M, int N, int K, int pad, real alpha, real beta,
                             Rng& rng) {
    CAPTURE(describe(ta, tb, M, N, K));
    CAPTURE(pad);
    CAPTURE(alpha);
    CAPTURE(beta);
    const Problem p(ta, tb, M, N, K, pad, alpha, beta, rng);
    p.check(p.run_gemm(), p.run_reference());
}

// Sizes just below, at and above each block size, plus small primes.
std::vector<int> edge_sizes(std::initializer_list<int> blocks, int limit) {
    std::set<int> s{1, 2, 3, 5, 7, 11, 13, 29, 37, 61, 97};
    for (int b : blocks)
        for (int d : {-1, 0, 1})
            for (int m : {1, 2})
                if (b * m + d >= 1) s.insert(b * m + d);
    std::vector<int> v;
    for (int x : s)
        if (x <= limit) v.push_back(x);
    return v;
}

}  // namespace

TEST_CASE("gemm matches the reference on ragged shapes, all layouts") {
    const nfvi::GemmBlocking bk = nfvi::gemm_blocking();
    nfvi::set_num_threads(1);
    Rng rng(1);
    const std::vector<int> mn = edge_sizes({bk.mr, bk.nr, bk.mc}, 150);
    const std::vector<int> ks = edge_sizes({bk.kc}, 300);
    int cases = 0;
    for (int layout = 0; layout < 4; ++layout) {
        const bool ta = layout & 1, tb = layout & 2;
        // Every size in each dimension at least once, the others drawn at random.
        for (std::size_t i = 0; i < std::max({mn.size(), ks.size()}); ++i) {
            const int M = mn[i % mn.size()],
                      N = mn[static_cast<std::size_t>(rng.below(static_cast<int>(mn.size())))];
            const int K = ks[i % ks.size()];
            check_against_reference(ta, tb, M, N, K, rng.below(3) * 5, real(0.75), real(-1.5), rng);
            check_against_reference(
                ta, tb, N, M, ks[static_cast<std::size_t>(rng.below(static_cast<int>(ks.size())))],
                1, real(-1.25), real(0), rng);
            cases += 2;
        }
    }
    CHECK(cases > 100);
}

TEST_CASE("gemm matches the reference on larger shapes and the NF-VAE layouts") {
    nfvi::set_num_threads(1);
    Rng rng(2);
    for (int layout = 0; layout < 4; ++layout) {
        const bool ta = layout & 1, tb = layout & 2;
        check_against_reference(ta, tb, 129, 257, 300, 3, real(1), real(1), rng);
        check_against_reference(ta, tb, 150, 61, 513, 0, real(0.5), real(0), rng);
    }
    check_against_reference(false, true, 128, 512, 40, 0, real(1), real(0), rng);   // x W^T
    check_against_reference(false, false, 128, 40, 512, 0, real(1), real(1), rng);  // dX = dY W
    check_against_reference(true, false, 512, 40, 128, 0, real(1), real(1), rng);   // dW += dY^T X
    check_against_reference(false, false, 1000, 1, 2, 0, real(1), real(0), rng);    // 2-D flows
    check_against_reference(false, true, 1000, 2, 2, 0, real(1), real(1), rng);
    const nfvi::GemmBlocking bk = nfvi::gemm_blocking();
    check_against_reference(false, false, 7, bk.nc + 5, 20, 2, real(1), real(0.5),
                            rng);  // > 1 panel
    // Several row blocks with a ragged last tile, A read in place (few columns: edge rows go
    // to kernels of their own height) and packed (many columns).
    check_against_reference(false, false, 2 * bk.mc + 5, 20, 30, 1, real(1), real(0.5), rng);
    check_against_reference(true, true, 2 * bk.mc + 5, 70, 20, 0, real(1), real(1), rng);
    // Deep and wide: many K blocks over two column panels, through the transposing B packer.
    check_against_reference(false, true, 1, bk.nc + 5, 1300, 0, real(1), real(1), rng);
}

TEST_CASE("gemm with beta = 0 ignores NaN in C; K = 0 and alpha = 0 give beta * C") {
    nfvi::set_num_threads(1);
    Rng rng(3);
    const real nan = std::numeric_limits<real>::quiet_NaN();
    for (int shape = 0; shape < 3; ++shape) {
        const int M = shape == 0 ? 3 : 67, N = shape == 0 ? 4 : 45, K = shape == 2 ? 300 : 9;
        Problem p(false, true, M, N, K, 2, real(1.5), real(0), rng);
        std::vector<real> c_nan = p.C0;
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j) c_nan[static_cast<std::size_t>(i * p.ldc + j)] = nan;
        CAPTURE(describe(false, true, M, N, K));
        p.check(p.run_gemm(c_nan), p.run_reference());
    }
    // K = 0: C = beta * C; with beta = 0, C = 0 even over NaN.
    std::vector<real> C = {1, 2, 3, 4, 5, 6};
    const real dummy = 0;
    nfvi::gemm(false, false, 2, 3, 0, real(2), &dummy, 1, &dummy, 3, real(-0.5), C.data(), 3);
    CHECK(C == std::vector<real>{-0.5, -1, -1.5, -2, -2.5, -3});
    std::fill(C.begin(), C.end(), nan);
    nfvi::gemm(true, true, 2, 3, 0, real(2), &dummy, 2, &dummy, 1, real(0), C.data(), 3);
    CHECK(C == std::vector<real>(6, real(0)));
    // alpha = 0 reads neither A nor B (here full of NaN).
    const std::vector<real> nans(64, nan);
    C = {1, 2, 3, 4, 5, 6};
    nfvi::gemm(false, false, 2, 3, 4, real(0), nans.data(), 4, nans.data(), 3, real(2), C.data(),
               3);
    CHECK(C == std::vector<real>{2, 4, 6, 8, 10, 12});
    // M = 0 or N = 0 touch nothing.
    nfvi::gemm(false, false, 0, 3, 4, real(1), nans.data(), 4, nans.data(), 3, real(0), C.data(),
               3);
    nfvi::gemm(false, false, 2, 0, 4, real(1), nans.data(), 4, nans.data(), 1, real(0), C.data(),
               1);
    CHECK(C == std::vector<real>{2, 4, 6, 8, 10, 12});
}

TEST_CASE("gemm computes a known product exactly") {
    // [2,3] x [3,2] with small integers: every partial sum is exact in float.
    const std::vector<real> A = {1, 2, 3, 4, 5, 6};     // [2,3]
    const std::vector<real> B = {7, 8, 9, 10, 11, 12};  // [3,2]
    std::vector<real> C = {1, 1, 1, 1};
    nfvi::gemm(false, false, 2, 2, 3, real(1), A.data(), 3, B.data(), 2, real(10), C.data(), 2);
    CHECK(C == std::vector<real>{68, 74, 149, 164});
    // The same product from the transposed layouts: A^T stored [3,2], B^T stored [2,3].
    const std::vector<real> At = {1, 4, 2, 5, 3, 6}, Bt = {7, 9, 11, 8, 10, 12};
    nfvi::gemm(true, true, 2, 2, 3, real(2), At.data(), 2, Bt.data(), 3, real(0), C.data(), 2);
    CHECK(C == std::vector<real>{116, 128, 278, 308});
}

TEST_CASE("gemm gives the same bits with 1, 2, 3 and 4 threads") {
    Rng rng(4);
    struct Shape {
        bool ta, tb;
        int M, N, K;
        real beta;
    };
    // Wide and tall shapes, with ragged edges and K blocks, and the NF-VAE's products at batch
    // 128 (forward x·Wᵀ, dX = dY·W, dW += dYᵀ·X), scaled down, where a split lands inside a
    // column of tiles or a block of rows.
    const Shape shapes[] = {{false, true, 128, 517, 300, 0},
                            {false, false, 131, 200, 513, 1},
                            {true, false, 509, 43, 128, real(0.5)},
                            {true, true, 301, 97, 260, 0},
                            {false, true, 128, 400, 200, 1},
                            {false, false, 128, 40, 512, 0},
                            {true, false, 300, 200, 64, 1},
                            {true, false, 512, 40, 128, 1}};
    for (const Shape& s : shapes) {
        CAPTURE(describe(s.ta, s.tb, s.M, s.N, s.K));
        const Problem p(s.ta, s.tb, s.M, s.N, s.K, 1, real(0.9), s.beta, rng);
        nfvi::set_num_threads(1);
        const std::vector<real> c1 = p.run_gemm();
        p.check(c1, p.run_reference());
        for (int t : {2, 3, 4}) {
            CAPTURE(t);
            nfvi::set_num_threads(t);
            const std::vector<real> ct = p.run_gemm();
            CHECK(std::memcmp(ct.data(), c1.data(), c1.size() * sizeof(real)) == 0);
        }
    }
    nfvi::set_num_threads(1);
}

TEST_CASE("gemm rejects negative sizes and short leading dimensions") {
    std::vector<real> A(100), B(100), C(100);
    CHECK_THROWS_AS(nfvi::gemm(false, false, -1, 2, 2, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
                    std::invalid_argument);
    CHECK_THROWS_AS(nfvi::gemm(false, false, 2, 2, 3, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
                    std::invalid_argument);  // lda < K
    CHECK_THROWS_AS(nfvi::gemm(true, false, 4, 2, 3, 1, A.data(), 3, B.data(), 2, 0, C.data(), 2),
                    std::invalid_argument);  // trans_a: lda < M
    CHECK_THROWS_AS(nfvi::gemm(false, true, 2, 2, 3, 1, A.data(), 3, B.data(), 2, 0, C.data(), 2),
                    std::invalid_argument);  // trans_b: ldb < K
    CHECK_THROWS_AS(nfvi::gemm(false, false, 2, 5, 3, 1, A.data(), 3, B.data(), 5, 0, C.data(), 4),
                    std::invalid_argument);  // ldc < N
    CHECK_THROWS_AS(
        nfvi::gemm_reference(false, false, 2, 2, 3, 1, A.data(), 2, B.data(), 2, 0, C.data(), 2),
        std::invalid_argument);
}
