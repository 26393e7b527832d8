// A counter-based random number generator: Philox4x32-10 (Salmon, Moraes, Dror & Shaw,
// "Parallel random numbers: as easy as 1, 2, 3", SC 2011).
//
// A generator is (seed, stream, counter). Block number c of a generator is
//     philox4x32_10({lo(c), hi(c), lo(stream), hi(stream)}, {lo(seed), hi(seed)})
// i.e. four 32-bit words; lo/hi are the low and high 32 bits. Every fill maps its output i to
// a fixed word range of block (counter + i / per_block), so the output depends only on
// (seed, stream, counter at the call, i): not on the number of threads, not on the machine.
//
// What holds, exactly:
//   - Same (seed, stream, counter) gives the same bits, with any thread count, in any build
//     that rounds IEEE-754 double arithmetic (SSE2 / AArch64; not x87). Box–Muller uses this
//     file's own log / sin / cos, not the C library's, so normals are reproducible too.
//   - A fill of n values uses ceil(n / per_block) blocks and then advances the counter by that
//     many; the unused words of a last, partial block are dropped. Hence fill(n) followed by
//     fill(m) equals one fill(n + m) exactly when n is a multiple of that fill's per_block
//     (kUniformPerBlock, kNormalPerBlock, 4 for bits). Any multiple of 4 works for all fills.
//   - One-value calls (uniform1, next_u64, below) each use one whole block (below: rarely more).
//   - bernoulli(p) uses the same uniforms that uniform() would: out[i] = (u_i < p[i]).
//   - In the float build, normal() returns exactly the double build's values rounded to float.
//   - Streams: generators with the same seed and different streams never share a block; with
//     different seeds they use different Philox keys. Counters wrap after 2^64 blocks.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "autodiff/config.h"

namespace nfvi {

// The Philox4x32 bijection with `rounds` rounds (Random123 uses 7 or 10); exposed for the
// known-answer tests. Words are listed low index first, as in Random123's kat_vectors.
std::array<std::uint32_t, 4> philox4x32(std::array<std::uint32_t, 4> counter,
                                        std::array<std::uint32_t, 2> key, int rounds);
inline std::array<std::uint32_t, 4> philox4x32_10(std::array<std::uint32_t, 4> counter,
                                                  std::array<std::uint32_t, 2> key) {
    return philox4x32(counter, key, 10);
}

// The maps from raw bits to the open interval (0, 1) that the fills use; both grids are
// symmetric about 1/2 and every value is exact. A float in [1, 2) is built from the bits,
// then 1 is subtracted (exact) and half a grid step added (exact).
//   unit_float(w)  = (k + 1/2)·2^-23, k = w >> 9 (the top 23 bits): from 2^-24 to 1 - 2^-24
//   unit_double(x) = (k + 1/2)·2^-52, k = x >> 12 (the top 52 bits): from 2^-53 to 1 - 2^-53
inline float unit_float(std::uint32_t w) {
    return (std::bit_cast<float>(0x3F800000u | (w >> 9)) - 1.0f) + 0x1p-24f;
}
inline double unit_double(std::uint64_t x) {
    return (std::bit_cast<double>(0x3FF0000000000000ull | (x >> 12)) - 1.0) + 0x1p-53;
}

class Rng {
public:
    // Values produced per Philox block (of four 32-bit words).
    // uniform / bernoulli: float uses one word per value (23 random bits), double two (52 bits).
    static constexpr int kUniformPerBlock = sizeof(real) == 4 ? 4 : 2;
    // normal: one pair per block (a 52-bit uniform for the radius, 52 bits for the angle).
    static constexpr int kNormalPerBlock = 2;

    explicit Rng(std::uint64_t seed = 0, std::uint64_t stream = 0) : seed_(seed), stream_(stream) {}

    // Fills out[0..n) and advances the counter past the blocks used. n < 0 throws.
    // Fills of more than 65536 values are split across nfvi::parallel_for.
    //
    // uniform: in the open interval (0, 1), never 0 or 1. Float: unit_float of each word;
    // double: unit_double of (w0 | w1 << 32) and of (w2 | w3 << 32).
    void uniform(real* out, std::int64_t n);
    // Standard normal by Box–Muller on pairs, computed in double (also in the float build):
    // from block j, u = unit_double(w0 | w1 << 32), t = unit_double(w2 | w3 << 32),
    // out[2j] = r·cos(2πt), out[2j+1] = r·sin(2πt), r = sqrt(-2 ln u); so |out| < 8.58.
    // Error below 1e-15·r (a few ulp of double); allocates nothing.
    void normal(real* out, std::int64_t n);
    // out[i] = 1 if u_i < p[i] else 0, with u_i what uniform() would give. p is read only.
    void bernoulli(real* out, const real* p, std::int64_t n);
    // The raw words: out[i] = word i % 4 of block (counter + i / 4).
    void fill_bits(std::uint32_t* out, std::int64_t n);

    double uniform1();         // one uniform double in (0, 1): unit_double(w0 | w1 << 32)
    std::uint64_t next_u64();  // w0 | w1 << 32 of one block
    // A uniform integer in [0, n), unbiased (Lemire's multiply-and-reject on the block's words,
    // moving to the next block if all four are rejected). n == 0 throws.
    std::uint32_t below(std::uint32_t n);
    // A uniformly random permutation of idx[0..n) (Fisher–Yates with below(), one block per
    // item). n must be in [0, 2^32), else it throws.
    void shuffle(int* idx, std::int64_t n);
    // A generator with the same seed on another stream, its counter at zero. Streams chosen
    // by the caller (e.g. one per data loader, one per chain) never overlap; split() with the
    // generator's own stream restarts its sequence.
    Rng split(std::uint64_t stream) const { return Rng(seed_, stream); }
    // Moves the counter forward by `blocks` without producing anything.
    void skip(std::uint64_t blocks) { counter_ += blocks; }

    // State, for checkpoints: exactly what is needed to continue the same sequence.
    struct State {
        std::uint64_t seed, stream, counter;
        bool operator==(const State&) const = default;
    };
    State state() const { return {seed_, stream_, counter_}; }
    void set_state(const State& s) {
        seed_ = s.seed;
        stream_ = s.stream;
        counter_ = s.counter;
    }

private:
    std::array<std::uint32_t, 4> block(std::uint64_t c) const;

    std::uint64_t seed_ = 0, stream_ = 0, counter_ = 0;
};

}  // namespace nfvi
