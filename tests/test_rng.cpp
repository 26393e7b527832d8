// Tests of the counter-based generator (autodiff/rng.h): Philox known answers, the documented
// mapping from (seed, stream, counter) to values, reproducibility across calls, thread counts
// and checkpoints, and the distributions (with fixed seeds and tolerances of about 5 standard
// errors, or p = 0.001 critical values for the goodness-of-fit tests).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "autodiff/rng.h"
#include "autodiff/thread_pool.h"

using nfvi::real;
using nfvi::Rng;
using u32 = std::uint32_t;
using u64 = std::uint64_t;

namespace {

using Words = std::array<u32, 4>;

// Block c of (seed, stream) as the header documents it, from the bare bijection.
Words doc_block(u64 seed, u64 stream, u64 c) {
    return nfvi::philox4x32_10({u32(c), u32(c >> 32), u32(stream), u32(stream >> 32)},
                               {u32(seed), u32(seed >> 32)});
}

Rng at(u64 seed, u64 stream, u64 counter) {
    Rng r(seed, stream);
    r.set_state({seed, stream, counter});
    return r;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

std::vector<real> uniforms(Rng& r, std::int64_t n) {
    std::vector<real> v(static_cast<std::size_t>(n));
    r.uniform(v.data(), n);
    return v;
}

std::vector<real> normals(Rng& r, std::int64_t n) {
    std::vector<real> v(static_cast<std::size_t>(n));
    r.normal(v.data(), n);
    return v;
}

// Kolmogorov–Smirnov statistic of a sample against a continuous CDF.
template <class Cdf>
double ks_statistic(std::vector<double> x, Cdf cdf) {
    std::sort(x.begin(), x.end());
    const double n = static_cast<double>(x.size());
    double d = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double f = cdf(x[i]);
        d = std::max({d, (static_cast<double>(i) + 1) / n - f, f - static_cast<double>(i) / n});
    }
    return d;
}

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("philox4x32: Random123 known-answer vectors") {
    // Random123, tests/kat_vectors (D. E. Shaw Research): counter words, key words, output.
    struct Kat {
        Words ctr;
        std::array<u32, 2> key;
        int rounds;
        Words out;
    };
    const Kat kats[] = {
        {{0, 0, 0, 0}, {0, 0}, 10, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         10,
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         10,
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
        {{0, 0, 0, 0}, {0, 0}, 7, {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         7,
         {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         7,
         {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
    };
    for (const Kat& k : kats) {
        CAPTURE(k.rounds);
        CHECK(nfvi::philox4x32(k.ctr, k.key, k.rounds) == k.out);
        if (k.rounds == 10) CHECK(nfvi::philox4x32_10(k.ctr, k.key) == k.out);
    }
    CHECK_THROWS_AS(nfvi::philox4x32({0, 0, 0, 0}, {0, 0}, 0), std::invalid_argument);
    CHECK_THROWS_AS(nfvi::philox4x32({0, 0, 0, 0}, {0, 0}, 17), std::invalid_argument);
}

TEST_CASE("fill_bits follows the documented (seed, stream, counter) layout") {
    // Counters that carry into the high word inside a fill, seeds and streams with both halves
    // set, and lengths with ragged tails (a batch is 16 blocks, a parallel part much more).
    struct Case {
        u64 seed, stream, counter;
        std::int64_t n;
    };
    const Case cases[] = {
        {0, 0, 0, 1},
        {0x0123456789abcdefull, 0xfedcba9876543210ull, 0xfffffff0ull, 4 * 40 + 3},
        {42, 7, 0, 4 * 16},
        {~0ull, ~0ull, ~0ull - 5, 4 * 5},  // the counter wraps after 2^64 blocks
        {3, 1ull << 40, 123456789, 4 * 17000 + 1},  // > 2^16 words: the parallel path
    };
    for (const Case& c : cases) {
        CAPTURE(c.seed);
        CAPTURE(c.counter);
        Rng r = at(c.seed, c.stream, c.counter);
        std::vector<u32> w(static_cast<std::size_t>(c.n));
        r.fill_bits(w.data(), c.n);
        std::int64_t bad = 0;
        for (std::int64_t i = 0; i < c.n; ++i) {
            const Words b = doc_block(c.seed, c.stream, c.counter + static_cast<u64>(i / 4));
            bad += w[static_cast<std::size_t>(i)] != b[static_cast<std::size_t>(i % 4)];
        }
        CHECK(bad == 0);
        CHECK(r.state().counter == c.counter + static_cast<u64>((c.n + 3) / 4));
    }
}

TEST_CASE("uniform, uniform1 and next_u64 map block words as documented") {
    const u64 seed = 99, stream = 5, counter = 1000;
    const std::int64_t n = 1000 + 3;  // ragged
    Rng r = at(seed, stream, counter);
    const std::vector<real> u = uniforms(r, n);
    std::int64_t bad = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        real want;
        if (sizeof(real) == 4) {
            want = static_cast<real>(nfvi::unit_float(
                doc_block(seed, stream, counter + static_cast<u64>(i / 4))[static_cast<std::size_t>(i % 4)]));
        } else {
            const Words b = doc_block(seed, stream, counter + static_cast<u64>(i / 2));
            const std::size_t q = 2 * static_cast<std::size_t>(i % 2);
            want = static_cast<real>(nfvi::unit_double(b[q] | u64{b[q + 1]} << 32));
        }
        bad += u[static_cast<std::size_t>(i)] != want;
    }
    CHECK(bad == 0);
    CHECK(Rng::kUniformPerBlock == (sizeof(real) == 4 ? 4 : 2));
    CHECK(r.state().counter == counter + static_cast<u64>((n + Rng::kUniformPerBlock - 1) / Rng::kUniformPerBlock));

    // One-value calls take one whole block each.
    const Words b0 = doc_block(seed, stream, r.state().counter);
    const Words b1 = doc_block(seed, stream, r.state().counter + 1);
    CHECK(r.next_u64() == (b0[0] | u64{b0[1]} << 32));
    CHECK(r.uniform1() == nfvi::unit_double(b1[0] | u64{b1[1]} << 32));
}

TEST_CASE("the bit-to-uniform maps stay strictly inside (0, 1)") {
    CHECK(nfvi::unit_float(0) == 0x1p-24f);
    CHECK(nfvi::unit_float(0xffffffffu) == 1.0f - 0x1p-24f);
    CHECK(nfvi::unit_float(0x80000000u) + nfvi::unit_float(0x7fffffffu) == 1.0f);  // symmetric
    CHECK(nfvi::unit_double(0) == 0x1p-53);
    CHECK(nfvi::unit_double(~0ull) == 1.0 - 0x1p-53);
    CHECK(nfvi::unit_double(1ull << 63) + nfvi::unit_double((1ull << 63) - 1) == 1.0);

    Rng r(1);
    const std::vector<real> u = uniforms(r, 1 << 18);
    const auto [lo, hi] = std::minmax_element(u.begin(), u.end());
    CHECK(*lo > real(0));
    CHECK(*hi < real(1));
    int outside = 0;
    for (int i = 0; i < 1000; ++i) {
        const double v = r.uniform1();
        outside += !(v > 0.0 && v < 1.0);
    }
    CHECK(outside == 0);
}

TEST_CASE("same seed, same numbers; other seeds and streams differ") {
    Rng a(2024), b(2024), c(2025), d(2024, 1);
    const auto ua = uniforms(a, 4096), ub = uniforms(b, 4096), uc = uniforms(c, 4096), ud = uniforms(d, 4096);
    CHECK(same_bits(ua, ub));
    std::int64_t equal_c = 0, equal_d = 0;
    for (std::size_t i = 0; i < ua.size(); ++i) {
        equal_c += ua[i] == uc[i];
        equal_d += ua[i] == ud[i];
    }
    // Independent 23-bit (or 52-bit) uniforms coincide with probability 2^-23 per value.
    CHECK(equal_c <= 2);
    CHECK(equal_d <= 2);

    // Seeds that differ only in the high half of the key, and streams only in their high half.
    Rng e(1ull << 32), f(0), g(0, 1ull << 32);
    CHECK(e.next_u64() != f.next_u64());
    Rng f2(0);
    CHECK(g.next_u64() != f2.next_u64());

    // split() is the same seed on another stream, from counter 0.
    Rng parent(77);
    parent.skip(1000);
    Rng child = parent.split(3);
    CHECK(child.state() == Rng::State{77, 3, 0});
    Rng direct(77, 3);
    CHECK(same_bits(normals(child, 100), normals(direct, 100)));
}

TEST_CASE("fills concatenate exactly when the first length is a multiple of its block size") {
    constexpr int kU = Rng::kUniformPerBlock;
    SUBCASE("uniform") {
        Rng one(5), two(5);
        const auto whole = uniforms(one, 4 * kU + 64 * kU + 7);
        auto first = uniforms(two, 4 * kU);
        const auto second = uniforms(two, 64 * kU + 7);
        first.insert(first.end(), second.begin(), second.end());
        CHECK(same_bits(whole, first));
        CHECK(one.state() == two.state());
    }
    SUBCASE("normal") {
        Rng one(6), two(6);
        const auto whole = normals(one, 2 * 17 + 33);
        auto first = normals(two, 2 * 17);
        const auto second = normals(two, 33);
        first.insert(first.end(), second.begin(), second.end());
        CHECK(same_bits(whole, first));
    }
    SUBCASE("a ragged first fill drops the rest of its last block") {
        Rng one(7), two(7);
        const auto whole = uniforms(one, 2 * kU);
        const auto first = uniforms(two, 1);  // uses block 0
        const auto second = uniforms(two, kU);  // starts at block 1
        CHECK(first[0] == whole[0]);
        CHECK(std::equal(second.begin(), second.end(), whole.begin() + kU));
        Rng three(7);
        normals(three, 3);  // two blocks
        CHECK(three.state().counter == 2);
    }
    SUBCASE("an empty fill uses nothing") {
        Rng r(8);
        r.normal(nullptr, 0);
        r.uniform(nullptr, 0);
        CHECK(r.state().counter == 0);
    }
}

TEST_CASE("large fills give the same bits with 1, 2 and 4 threads") {
    const std::int64_t n = (1 << 18) + 37;  // several parallel parts and a ragged tail
    std::vector<std::vector<real>> z, u, bern;
    std::vector<std::vector<u32>> bits;
    std::vector<real> p(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<real>(static_cast<double>(i % 101) / 100.0);
    for (int threads : {1, 2, 4}) {
        nfvi::set_num_threads(threads);
        Rng r(31337, 2);
        z.push_back(normals(r, n));
        u.push_back(uniforms(r, n));
        bern.emplace_back(static_cast<std::size_t>(n));
        r.bernoulli(bern.back().data(), p.data(), n);
        bits.emplace_back(static_cast<std::size_t>(n));
        r.fill_bits(bits.back().data(), n);
    }
    nfvi::set_num_threads(1);
    for (std::size_t t = 1; t < 3; ++t) {
        CAPTURE(t);
        CHECK(same_bits(z[0], z[t]));
        CHECK(same_bits(u[0], u[t]));
        CHECK(same_bits(bern[0], bern[t]));
        CHECK(same_bits(bits[0], bits[t]));
    }
}

TEST_CASE("state() and set_state() continue the same sequence") {
    Rng r(11, 4);
    normals(r, 1000);
    r.below(10);
    const Rng::State saved = r.state();
    const auto z1 = normals(r, 257);
    const auto u1 = uniforms(r, 100);
    const u64 x1 = r.next_u64();

    Rng restored;  // another seed and stream entirely
    restored.set_state(saved);
    CHECK(restored.state() == saved);
    CHECK(same_bits(normals(restored, 257), z1));
    CHECK(same_bits(uniforms(restored, 100), u1));
    CHECK(restored.next_u64() == x1);
    CHECK(restored.state() == r.state());

    Rng skipped(11, 4);
    skipped.set_state(saved);
    skipped.skip(129);  // the 257 normals used 129 blocks
    CHECK(same_bits(uniforms(skipped, 100), u1));
}

TEST_CASE("uniform: moments, Kolmogorov-Smirnov and chi-square") {
    Rng r(123);
    const std::int64_t n = 200000;
    const auto u = uniforms(r, n);
    double sum = 0, sq = 0, lag = 0;
    std::vector<std::int64_t> bins(100, 0);
    for (std::size_t i = 0; i < u.size(); ++i) {
        const double v = u[i];
        sum += v;
        sq += (v - 0.5) * (v - 0.5);
        if (i > 0) lag += (v - 0.5) * (u[i - 1] - 0.5);
        ++bins[static_cast<std::size_t>(v * 100)];
    }
    const double dn = static_cast<double>(n);
    CHECK(std::abs(sum / dn - 0.5) < 5 * std::sqrt(1.0 / 12 / dn));
    CHECK(std::abs(sq / dn - 1.0 / 12) < 5 * std::sqrt(1.0 / 180 / dn));  // Var((U-1/2)^2) = 1/180
    CHECK(std::abs(lag / dn / (1.0 / 12)) < 5 / std::sqrt(dn));           // lag-1 correlation

    std::vector<double> x(u.begin(), u.end());
    CHECK(ks_statistic(x, [](double v) { return v; }) < 1.95 / std::sqrt(dn));  // p = 0.001

    double chi2 = 0;
    const double expected = dn / 100;
    for (std::int64_t b : bins) chi2 += (static_cast<double>(b) - expected) * (static_cast<double>(b) - expected) / expected;
    CHECK(chi2 < 148.2);  // chi-square, 99 degrees of freedom, p = 0.001
}

TEST_CASE("normal: moments, tails, pair correlation and Kolmogorov-Smirnov") {
    Rng r(456);
    const std::int64_t n = 200000;
    const auto z = normals(r, n);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, pair = 0, maxabs = 0;
    std::int64_t beyond3 = 0;
    for (std::size_t i = 0; i < z.size(); ++i) {
        const double v = z[i];
        m1 += v;
        m2 += v * v;
        m3 += v * v * v;
        m4 += v * v * v * v;
        beyond3 += std::abs(v) > 3;
        maxabs = std::max(maxabs, std::abs(v));
        if (i % 2 == 1) pair += v * z[i - 1];
    }
    const double dn = static_cast<double>(n);
    CHECK(std::abs(m1 / dn) < 5 / std::sqrt(dn));
    CHECK(std::abs(m2 / dn - 1) < 5 * std::sqrt(2 / dn));
    CHECK(std::abs(m3 / dn) < 5 * std::sqrt(15 / dn));
    CHECK(std::abs(m4 / dn - 3) < 5 * std::sqrt(96 / dn));
    CHECK(std::abs(pair / (dn / 2)) < 5 / std::sqrt(dn / 2));  // the two values of a pair
    const double p3 = std::erfc(3 / std::sqrt(2.0));          // P(|Z| > 3) = 0.0026998
    CHECK(std::abs(static_cast<double>(beyond3) - p3 * dn) < 5 * std::sqrt(p3 * dn));
    CHECK(maxabs < 8.58);

    std::vector<double> x(z.begin(), z.end());
    CHECK(ks_statistic(x, normal_cdf) < 1.95 / std::sqrt(dn));  // p = 0.001
}

TEST_CASE("normal: Box-Muller of the block words, to double accuracy") {
    // The oracle: the documented formula with the C library's log, sqrt, cos and sin in long
    // double, from the raw words of the same blocks.
    const std::int64_t pairs = 5000;
    Rng r(2718, 3), w(2718, 3);
    const auto z = normals(r, 2 * pairs);
    std::vector<u32> bits(static_cast<std::size_t>(4 * pairs));
    w.fill_bits(bits.data(), 4 * pairs);
    const long double two_pi = 6.283185307179586476925286766559005768L;
    double worst = 0;  // error in units of 1e-16·r
    for (std::size_t j = 0; j < static_cast<std::size_t>(pairs); ++j) {
        const long double u = nfvi::unit_double(bits[4 * j] | u64{bits[4 * j + 1]} << 32);
        const long double t = nfvi::unit_double(bits[4 * j + 2] | u64{bits[4 * j + 3]} << 32);
        const long double rad = std::sqrt(-2 * std::log(u));
        const long double ref[2] = {rad * std::cos(two_pi * t), rad * std::sin(two_pi * t)};
        for (std::size_t q = 0; q < 2; ++q) {
            const long double got = z[2 * j + q];
            // The float build rounds the double result once more.
            const long double round = sizeof(real) == 4 ? std::abs(ref[q]) * 0x1p-24L : 0.0L;
            const long double err = std::abs(got - ref[q]) - round;
            worst = std::max(worst, static_cast<double>(err / (rad * 1e-16L)));
        }
    }
    CHECK(worst < 10);  // i.e. error below 1e-15·r beyond the final rounding
}

TEST_CASE("normal: pinned values, the same bits in every build") {
    // Values of this implementation for seed 2024, stream 0, computed in double. Every build
    // (float or double real, with or without FMA or AVX, any compiler, any thread count) must
    // give exactly these, rounded to real; the hash covers 4096 values, because a compiler that
    // fuses a*b+c changes about 3% of the double results.
    const double pinned[8] = {0x1.672715d7e8c6ep+0,  0x1.a04bcc939dff5p-1, -0x1.41774f55eb259p+0,
                              0x1.2889d37991fa8p-2,  0x1.19b274ea5c3c2p+1, 0x1.15b24afe6cd28p+0,
                              -0x1.9ec94d676f14cp-8, 0x1.354580d42f77p+0};
    Rng r(2024);
    const auto z = normals(r, 4096);
    for (std::size_t i = 0; i < 8; ++i) {
        CAPTURE(i);
        CHECK(z[i] == static_cast<real>(pinned[i]));
    }
    u64 h = 1469598103934665603ull;  // FNV-1a over the bytes of the values
    for (const real v : z) {
        unsigned char bytes[sizeof v];
        std::memcpy(bytes, &v, sizeof v);
        for (const unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    }
    CHECK(h == (sizeof(real) == 4 ? 0x3edcef6aa7c5ef1cull : 0xf1a8fd2f74851c6full));
}

TEST_CASE("bernoulli uses the uniforms that uniform() would") {
    const std::int64_t n = 10007;
    std::vector<real> p(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<real>(static_cast<double>(i * 37 % 1000) / 999.0);
    Rng a(9), b(9);
    std::vector<real> out(p.size());
    a.bernoulli(out.data(), p.data(), n);
    const auto u = uniforms(b, n);
    std::int64_t bad = 0;
    for (std::size_t i = 0; i < p.size(); ++i) bad += out[i] != (u[i] < p[i] ? real(1) : real(0));
    CHECK(bad == 0);
    CHECK(a.state() == b.state());

    // p = 0 never fires, p = 1 always does (the uniforms are never 0 or 1), p = 0.3 on average.
    std::vector<real> zeros(p.size(), real(0)), ones(p.size(), real(1)), third(p.size(), real(0.3));
    a.bernoulli(out.data(), zeros.data(), n);
    CHECK(std::count(out.begin(), out.end(), real(1)) == 0);
    a.bernoulli(out.data(), ones.data(), n);
    CHECK(std::count(out.begin(), out.end(), real(1)) == n);
    a.bernoulli(out.data(), third.data(), n);
    const double hits = static_cast<double>(std::count(out.begin(), out.end(), real(1)));
    CHECK(std::abs(hits - 0.3 * n) < 5 * std::sqrt(0.21 * n));
}

TEST_CASE("below(n): in range, unbiased, and one block per call almost always") {
    Rng r(17);
    for (u32 n : {1u, 2u, 3u, 7u, 1000u, (1u << 31) + 1, 0xffffffffu}) {
        CAPTURE(n);
        int out_of_range = 0;
        u32 largest = 0;
        for (int i = 0; i < 2000; ++i) {
            const u32 v = r.below(n);
            out_of_range += v >= n;
            largest = std::max(largest, v);
        }
        CHECK(out_of_range == 0);
        CHECK(largest >= n - 1 - n / 100);  // reaches the top of the range
    }

    // Chi-square over 10 values.
    std::array<std::int64_t, 10> count{};
    const int draws = 100000;
    for (int i = 0; i < draws; ++i) ++count[r.below(10)];
    double chi2 = 0;
    for (std::int64_t c : count) chi2 += (static_cast<double>(c) - draws / 10.0) * (static_cast<double>(c) - draws / 10.0) / (draws / 10.0);
    CHECK(chi2 < 27.88);  // 9 degrees of freedom, p = 0.001

    // n = 3·2^30 exposes the two classic biases: x % n makes v < 2^30 twice as likely (1/2),
    // and x·n >> 32 without rejection makes v % 3 == 0 twice as likely (1/2). Unbiased: 1/3.
    const u32 big = 3u << 30;
    const int m = 20000;
    int low = 0, mult3 = 0;
    const u64 before = r.state().counter;
    for (int i = 0; i < m; ++i) {
        const u32 v = r.below(big);
        low += v < (1u << 30);
        mult3 += v % 3 == 0;
    }
    CHECK(std::abs(low / double(m) - 1.0 / 3) < 0.03);
    CHECK(std::abs(mult3 / double(m) - 1.0 / 3) < 0.03);
    // Each word is rejected with probability 1/4 here, a whole block with 1/256.
    CHECK(r.state().counter - before < static_cast<u64>(m + m / 64));

    CHECK_THROWS_AS(r.below(0), std::invalid_argument);
}

TEST_CASE("shuffle: a permutation, reproducible, all orders equally likely") {
    std::vector<int> idx(1000);
    std::iota(idx.begin(), idx.end(), 0);
    Rng a(21), b(21);
    std::vector<int> x = idx, y = idx;
    a.shuffle(x.data(), 1000);
    b.shuffle(y.data(), 1000);
    CHECK(x == y);
    CHECK(x != idx);
    std::vector<int> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    CHECK(sorted == idx);

    a.shuffle(nullptr, 0);
    int one = 5;
    a.shuffle(&one, 1);
    CHECK(one == 5);

    // The 6 orders of 3 items over 12000 shuffles: chi-square, 5 degrees of freedom.
    std::array<std::int64_t, 6> count{};
    for (int t = 0; t < 12000; ++t) {
        int v[3] = {0, 1, 2};
        a.shuffle(v, 3);
        const int code = v[0] * 2 + (v[1] > v[2] ? 1 : 0);  // 0..5, one per order
        ++count[static_cast<std::size_t>(code)];
    }
    double chi2 = 0;
    for (std::int64_t c : count) chi2 += (static_cast<double>(c) - 2000.0) * (static_cast<double>(c) - 2000.0) / 2000.0;
    CHECK(chi2 < 20.52);  // p = 0.001
}

TEST_CASE("bad arguments are rejected with a message") {
    Rng r(1);
    real x = 0;
    u32 w = 0;
    CHECK_THROWS_WITH_AS(r.uniform(&x, -1), doctest::Contains("negative"), std::invalid_argument);
    CHECK_THROWS_AS(r.normal(&x, -2), std::invalid_argument);
    CHECK_THROWS_AS(r.bernoulli(&x, &x, -3), std::invalid_argument);
    CHECK_THROWS_AS(r.fill_bits(&w, -4), std::invalid_argument);
    CHECK_THROWS_AS(r.shuffle(nullptr, -1), std::invalid_argument);
    CHECK_THROWS_AS(r.shuffle(nullptr, std::int64_t{1} << 32), std::invalid_argument);
    CHECK(r.state().counter == 0);
}
