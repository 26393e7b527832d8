// Philox4x32 and the fills of Rng.
//
// A fill works through batches of kLanes = 16 consecutive blocks. The Philox rounds of a batch
// and the loops that turn it into uniforms or normals are plain C++ written so that the
// compiler can vectorize them.
// Box–Muller uses its own log, sin and cos built from + - * / and sqrt only, which IEEE-754
// rounds exactly, so normals are the same bits on every machine and with every C library. That
// needs the compiler not to fuse a*b+c into one FMA here (GCC does by default when the target
// has FMA, e.g. with -march=native), hence the pragmas below; the pinned-value test checks it.
#include "autodiff/rng.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "autodiff/thread_pool.h"


#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#elif defined(_MSC_VER)
#pragma fp_contract(off)
#endif

namespace nfvi {
namespace {

// Philox4x32 constants (Salmon et al. 2011): round multipliers and key increments (the
// latter are the golden ratio and sqrt(3) - 1 as 32-bit fractions).
constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;

// One round on the counter words x0..x3 with round key (k0, k1).
inline void philox_round(std::uint32_t& x0, std::uint32_t& x1, std::uint32_t& x2,
                         std::uint32_t& x3, std::uint32_t k0, std::uint32_t k1) {
    const std::uint64_t p0 = std::uint64_t{kM0} * x0;
    const std::uint64_t p1 = std::uint64_t{kM1} * x2;
    const std::uint32_t y0 = static_cast<std::uint32_t>(p1 >> 32) ^ x1 ^ k0;
    const std::uint32_t y2 = static_cast<std::uint32_t>(p0 >> 32) ^ x3 ^ k1;
    x0 = y0;
    x1 = static_cast<std::uint32_t>(p1);
    x2 = y2;
    x3 = static_cast<std::uint32_t>(p0);
}

constexpr std::uint32_t lo32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }
constexpr std::uint32_t hi32(std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); }
constexpr std::uint64_t join(std::uint32_t lo, std::uint32_t hi) {
    return std::uint64_t{lo} | (std::uint64_t{hi} << 32);
}

constexpr int kLanes = 16;  // blocks per batch

// kLanes consecutive blocks as 64-bit values: block j is x[2j] = w0 | w1 << 32 and
// x[2j+1] = w2 | w3 << 32. Every converter reads these (fill_bits splits them again).
struct Batch {
    alignas(64) std::uint64_t x[2 * kLanes];
};

// Blocks first, first+1, ..., first+kLanes-1 of (seed, stream), Philox4x32-10, block by block
// with philox_round (plain C++; the compiler vectorizes across the independent blocks). Tests
// check it against philox4x32().
void philox_batch(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, Batch& b) {
    for (int j = 0; j < kLanes; ++j) {
        const std::uint64_t c = first + static_cast<std::uint64_t>(j);
        std::uint32_t x0 = lo32(c), x1 = hi32(c), x2 = lo32(stream), x3 = hi32(stream);
        std::uint32_t k0 = lo32(seed), k1 = hi32(seed);
        for (int r = 0; r < 10; ++r) {
            if (r > 0) {
                k0 += kW0;
                k1 += kW1;
            }
            philox_round(x0, x1, x2, x3, k0, k1);
        }
        b.x[2 * j] = join(x0, x1);
        b.x[2 * j + 1] = join(x2, x3);
    }
}

// ---- words to numbers ----

// An integer below 2^52 as a double, exactly, without int-to-float instructions (which AVX2
// lacks for 64-bit integers): 2^52 + v has v as its mantissa.
inline double small_int(std::uint64_t v) {
    return std::bit_cast<double>(0x4330000000000000ull | v) - 0x1p52;
}

// ln(u) for u in (0, 1] a normal double; a few ulp. u = 2^e·m with m in [sqrt(1/2), sqrt(2)),
// ln m = 2 atanh(f) = 2(f + f^3/3 + f^5/5 + ...) with f = (m-1)/(m+1), |f| <= 0.1716.
// The series is cut after f^23 (the next term is below 1e-19 of the sum).
inline double log_unit(double u) {
    const std::uint64_t bits = std::bit_cast<std::uint64_t>(u);
    // Adding bits(1.0) - bits(sqrt(1/2)) carries into the exponent exactly when m >= sqrt(2).
    const std::uint64_t biased = (bits + (0x3FF0000000000000ull - 0x3FE6A09E667F3BCDull)) >> 52;
    const double m = std::bit_cast<double>(bits - (biased << 52) + (1023ull << 52));
    const double e = small_int(biased) - 1023.0;
    const double f = (m - 1.0) / (m + 1.0);  // m - 1 is exact
    const double s = f * f;
    double p = 1.0 / 23;
    p = 1.0 / 21 + s * p;
    p = 1.0 / 19 + s * p;
    p = 1.0 / 17 + s * p;
    p = 1.0 / 15 + s * p;
    p = 1.0 / 13 + s * p;
    p = 1.0 / 11 + s * p;
    p = 1.0 / 9 + s * p;
    p = 1.0 / 7 + s * p;
    p = 1.0 / 5 + s * p;
    p = 1.0 / 3 + s * p;
    const double log_m = 2.0 * (f + f * (s * p));
    // ln 2 split so that e·kLn2Hi is exact (kLn2Hi has 21 trailing zero bits; |e| <= 1074).
    constexpr double kLn2Hi = 0x1.62e42feep-1;
    constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;  // ln 2 - kLn2Hi, rounded
    return e * kLn2Hi + (e * kLn2Lo + log_m);
}

// Taylor coefficients (2π)^k / k! with signs, for sin(2πy) = y·S(y²) and cos(2πy) = C(y²)
// on |y| <= 1/8 (truncation error below 1e-17).
constexpr double kS1 = 6.2831853071795864769253e+0, kS3 = -4.1341702240399760233968e+1,
                 kS5 = 8.1605249276075054203398e+1, kS7 = -7.6705859753061385841631e+1,
                 kS9 = 4.2058693944897653144987e+1, kS11 = -1.5094642576822990391827e+1,
                 kS13 = 3.8199525848482821277338e+0, kS15 = -7.1812230177850051223174e-1,
                 kS17 = 1.0422916220813984117271e-1;
constexpr double kC2 = -1.9739208802178717237669e+1, kC4 = 6.4939394022668291490960e+1,
                 kC6 = -8.5456817206693727736020e+1, kC8 = 6.0244641371876660362721e+1,
                 kC10 = -2.6426256783374397452901e+1, kC12 = 7.9035363713184688042121e+0,
                 kC14 = -1.7143907110886720654216e+0, kC16 = 2.8200596845579121507027e-1,
                 kC18 = -3.6382841142545670771751e-2;

// (cos 2πt, sin 2πt) for t = (k + 1/2)·2^-52, k the top 52 bits of x. The angle is reduced
// exactly in integers: t = n/4 + y with n = round(4t) in 0..4 and |y| < 1/8; then
// sin(2πt) = sin(2πy + nπ/2): odd n swaps sin and cos, and by n mod 4 = 0,1,2,3 the sine
// takes signs +,+,-,- and the cosine +,-,-,+. Written without branches, so that it vectorizes.
inline void cos_sin_turn(std::uint64_t x, double& cos_out, double& sin_out) {
    const std::uint64_t k = (x >> 12) + (1ull << 49);
    const std::uint64_t n = k >> 50;
    const double d = small_int(k & ((1ull << 50) - 1));  // k - n·2^50
    const double y = (d - (0x1p49 - 0.5)) * 0x1p-52;     // exact: t - n/4
    const double y2 = y * y;
    double s = kS17;
    s = kS15 + y2 * s;
    s = kS13 + y2 * s;
    s = kS11 + y2 * s;
    s = kS9 + y2 * s;
    s = kS7 + y2 * s;
    s = kS5 + y2 * s;
    s = kS3 + y2 * s;
    s = kS1 + y2 * s;
    s = y * s;
    double c = kC18;
    c = kC16 + y2 * c;
    c = kC14 + y2 * c;
    c = kC12 + y2 * c;
    c = kC10 + y2 * c;
    c = kC8 + y2 * c;
    c = kC6 + y2 * c;
    c = kC4 + y2 * c;
    c = kC2 + y2 * c;
    c = 1.0 + y2 * c;
    const std::uint64_t odd = 0 - (n & 1);  // all ones when n is odd
    const std::uint64_t sb = std::bit_cast<std::uint64_t>(s), cb = std::bit_cast<std::uint64_t>(c);
    const std::uint64_t sin_bits = ((sb & ~odd) | (cb & odd)) ^ ((n & 2) << 62);
    const std::uint64_t cos_bits = ((cb & ~odd) | (sb & odd)) ^ (((n + 1) & 2) << 62);
    cos_out = std::bit_cast<double>(cos_bits);
    sin_out = std::bit_cast<double>(sin_bits);
}

// ---- batch converters: each writes all kLanes * kPer values of a batch to dst ----

struct BitsConv {
    static constexpr int kPer = 4;
    void operator()(const Batch& b, std::uint32_t* dst) const {
        for (int i = 0; i < 2 * kLanes; ++i) {
            dst[2 * i] = lo32(b.x[i]);
            dst[2 * i + 1] = hi32(b.x[i]);
        }
    }
};

struct UniformConv {
    static constexpr int kPer = Rng::kUniformPerBlock;
    void operator()(const Batch& b, real* dst) const {
        if constexpr (sizeof(real) == 4) {
            for (int i = 0; i < 2 * kLanes; ++i) {
                dst[2 * i] = static_cast<real>(unit_float(lo32(b.x[i])));
                dst[2 * i + 1] = static_cast<real>(unit_float(hi32(b.x[i])));
            }
        } else {
            for (int i = 0; i < 2 * kLanes; ++i) dst[i] = static_cast<real>(unit_double(b.x[i]));
        }
    }
};

// r[j] = sqrt(r[j]): correctly rounded everywhere (IEEE), and vectorized since nfvi builds
// with -fno-math-errno.
inline void sqrt_lanes(double (&r)[kLanes]) {
    for (int j = 0; j < kLanes; ++j) r[j] = std::sqrt(r[j]);
}

// Box–Muller, in stages that each vectorize. Block j gives (r·cos 2πt, r·sin 2πt) with r
// from x[2j] and t from x[2j+1].
struct NormalConv {
    static constexpr int kPer = Rng::kNormalPerBlock;
    void operator()(const Batch& b, real* dst) const {
        alignas(64) double r[kLanes], c[kLanes], s[kLanes];
        for (int j = 0; j < kLanes; ++j) r[j] = -2.0 * log_unit(unit_double(b.x[2 * j]));
        sqrt_lanes(r);
        for (int j = 0; j < kLanes; ++j) cos_sin_turn(b.x[2 * j + 1], c[j], s[j]);
        for (int j = 0; j < kLanes; ++j) {
            dst[2 * j] = static_cast<real>(r[j] * c[j]);
            dst[2 * j + 1] = static_cast<real>(r[j] * s[j]);
        }
    }
};

constexpr std::int64_t kParallelMin = std::int64_t{1} << 16;  // values; below this, one thread
constexpr std::int64_t kValuesPerPart = std::int64_t{1} << 14;

void check_count(const char* fn, std::int64_t n) {
    if (n < 0)
        throw std::invalid_argument(std::string("nfvi::Rng::") + fn + ": count " +
                                    std::to_string(n) + " is negative; pass n >= 0");
}

// Value v of the fill comes from block first + v / Per. Calls sink(batch_values, v0, count)
// for consecutive runs of values; a run is one batch (or its part inside [0, n)). Parts of a
// parallel fill own disjoint block ranges, so the output is the same for any thread count.
template <int Per, class Sink>
std::uint64_t for_blocks(std::uint64_t seed, std::uint64_t stream, std::uint64_t first,
                         std::int64_t n, const Sink& sink) {
    const std::int64_t blocks = (n + Per - 1) / Per;
    auto part = [&](std::int64_t b, std::int64_t e) {
        Batch batch;
        for (std::int64_t j = b; j < e; j += kLanes) {
            philox_batch(seed, stream, first + static_cast<std::uint64_t>(j), batch);
            const std::int64_t v0 = j * Per;
            const std::int64_t count = std::min((std::min<std::int64_t>(e - j, kLanes)) * Per, n - v0);
            sink(batch, v0, count);
        }
    };
    if (n > kParallelMin)
        parallel_for(blocks, kValuesPerPart / Per, part);
    else if (blocks > 0)
        part(0, blocks);
    return static_cast<std::uint64_t>(blocks);
}

// Converts each batch straight into out, or through a scratch batch for a partial run.
template <class Conv, class T>
std::uint64_t fill_with(std::uint64_t seed, std::uint64_t stream, std::uint64_t first, T* out,
                        std::int64_t n) {
    constexpr int kPer = Conv::kPer;
    return for_blocks<kPer>(seed, stream, first, n,
                            [out](const Batch& b, std::int64_t v0, std::int64_t count) {
                                if (count == kLanes * kPer) {
                                    Conv{}(b, out + v0);
                                } else {
                                    T tmp[std::size_t{kLanes} * kPer];
                                    Conv{}(b, tmp);
                                    std::copy_n(tmp, count, out + v0);
                                }
                            });
}

}  // namespace

std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key, int rounds) {
    if (rounds < 1 || rounds > 16)
        throw std::invalid_argument("nfvi::philox4x32: " + std::to_string(rounds) +
                                    " rounds asked; use 1 to 16 (10 is the standard)");
    std::uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < rounds; ++r) {
        if (r > 0) {
            k0 += kW0;
            k1 += kW1;
        }
        philox_round(counter[0], counter[1], counter[2], counter[3], k0, k1);
    }
    return counter;
}

std::array<std::uint32_t, 4> Rng::block(std::uint64_t c) const {
    return philox4x32_10({lo32(c), hi32(c), lo32(stream_), hi32(stream_)}, {lo32(seed_), hi32(seed_)});
}

void Rng::uniform(real* out, std::int64_t n) {
    check_count("uniform", n);
    counter_ += fill_with<UniformConv>(seed_, stream_, counter_, out, n);
}

void Rng::normal(real* out, std::int64_t n) {
    check_count("normal", n);
    counter_ += fill_with<NormalConv>(seed_, stream_, counter_, out, n);
}

void Rng::fill_bits(std::uint32_t* out, std::int64_t n) {
    check_count("fill_bits", n);
    counter_ += fill_with<BitsConv>(seed_, stream_, counter_, out, n);
}

void Rng::bernoulli(real* out, const real* p, std::int64_t n) {
    check_count("bernoulli", n);
    constexpr int kPer = UniformConv::kPer;
    counter_ += for_blocks<kPer>(seed_, stream_, counter_, n,
                                 [out, p](const Batch& b, std::int64_t v0, std::int64_t count) {
                                     real u[kLanes * kPer];
                                     UniformConv{}(b, u);
                                     for (std::int64_t i = 0; i < count; ++i)
                                         out[v0 + i] = u[i] < p[v0 + i] ? real(1) : real(0);
                                 });
}

double Rng::uniform1() {
    const auto w = block(counter_++);
    return unit_double(join(w[0], w[1]));
}

std::uint64_t Rng::next_u64() {
    const auto w = block(counter_++);
    return join(w[0], w[1]);
}

std::uint32_t Rng::below(std::uint32_t n) {
    if (n == 0) throw std::invalid_argument("nfvi::Rng::below: n is 0; the range [0, n) must not be empty");
    // Lemire (2019): x·n / 2^32 is uniform on [0, n) once the low half of x·n is at least
    // 2^32 mod n; the remainder is only computed in the rare case that it may matter.
    for (;;) {
        const auto w = block(counter_++);
        for (const std::uint32_t x : w) {
            const std::uint64_t m = std::uint64_t{x} * n;
            const auto low = static_cast<std::uint32_t>(m);
            if (low >= n || low >= (0u - n) % n) return static_cast<std::uint32_t>(m >> 32);
        }
    }
}

void Rng::shuffle(int* idx, std::int64_t n) {
    check_count("shuffle", n);
    if (n > std::int64_t{0xFFFFFFFF})
        throw std::invalid_argument("nfvi::Rng::shuffle: " + std::to_string(n) +
                                    " items; at most 2^32 - 1 can be shuffled");
    for (std::int64_t i = n - 1; i > 0; --i) {
        const std::int64_t j = below(static_cast<std::uint32_t>(i + 1));
        std::swap(idx[i], idx[j]);
    }
}

}  // namespace nfvi
