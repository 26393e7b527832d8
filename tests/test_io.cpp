// Tests of nfvi's file formats (src/io): checksums against published values, deflate/inflate
// round trips at every level, streams built bit by bit from RFC 1951 and streams made by zlib
// itself (independent oracles), rejection of truncated, corrupted and hostile streams, gzip
// members and headers, PNG round trips and rejections, atomic file writes, JSON and CSV.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "src/io/checksum.h"
#include "src/io/deflate.h"
#include "src/io/files.h"
#include "src/io/inflate.h"
#include "src/io/json.h"
#include "src/io/png.h"

using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;

namespace {

constexpr std::size_t kBig = std::size_t{1} << 30;  // max_out when the limit is not under test

// splitmix64: deterministic test data, independent of the library.
struct Rand {
    std::uint64_t s;
    explicit Rand(std::uint64_t seed) : s(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
};

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
std::string text_of(const Bytes& b) { return std::string(b.begin(), b.end()); }

Bytes random_bytes(std::size_t n, std::uint64_t seed) {
    Rand r(seed);
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(r.next());
    return b;
}

// Pseudo-English: words drawn from a small vocabulary with a skewed distribution.
Bytes words(std::size_t n, std::uint64_t seed) {
    static const char* vocab[] = {"the", "flow", "of", "density", "planar", "radial", "layer",
                                  "and", "a", "posterior", "is", "variational", "inference",
                                  "with", "normalizing", "gradient", "energy", "free", "sample"};
    Rand r(seed);
    std::string s;
    while (s.size() < n) {
        const std::size_t k = std::min(r.below(19), r.below(19));
        s += vocab[k];
        s += r.below(12) == 0 ? ".\n" : " ";
    }
    s.resize(n);
    return bytes(s);
}

// Runs of text, random bytes, zeros and repeats of earlier data at far distances.
Bytes mixed(std::size_t n, std::uint64_t seed) {
    Rand r(seed);
    Bytes b;
    while (b.size() < n) {
        const std::size_t len = 1 + r.below(3000);
        switch (r.below(4)) {
            case 0: {
                Bytes w = words(len, r.next());
                b.insert(b.end(), w.begin(), w.end());
                break;
            }
            case 1: {
                Bytes w = random_bytes(len, r.next());
                b.insert(b.end(), w.begin(), w.end());
                break;
            }
            case 2: b.insert(b.end(), len, static_cast<std::uint8_t>(r.next())); break;
            default:
                if (b.size() > len) {
                    const std::size_t from = b.size() - len - r.below(std::min<std::size_t>(b.size() - len, 40000));
                    for (std::size_t i = 0; i < len; ++i) b.push_back(b[from + i]);
                }
        }
    }
    b.resize(n);
    return b;
}

// Writes DEFLATE bits: put() for values sent LSB first (header fields, extra bits),
// code() for Huffman codes, which are sent most significant bit first.
struct Bits {
    Bytes out;
    unsigned n = 0;  // bits used in out.back()
    void bit(unsigned b) {
        if (n == 0) out.push_back(0);
        out.back() = static_cast<std::uint8_t>(out.back() | (b & 1) << n);
        n = (n + 1) % 8;
    }
    void put(std::uint32_t v, unsigned k) {  // whole runs of bits at once: the bomb test is long
        while (k > 0) {
            if (n == 0) out.push_back(0);
            const unsigned t = std::min(k, 8 - n);
            out.back() = static_cast<std::uint8_t>(out.back() | (v & ((1u << t) - 1)) << n);
            v >>= t;
            k -= t;
            n = (n + t) % 8;
        }
    }
    void code(std::uint32_t c, unsigned len) {
        for (unsigned i = len; i-- > 0;) bit(c >> i);
    }
    // The fixed literal/length code of RFC 1951 3.2.6.
    void fixed_lit(unsigned sym) {
        if (sym < 144) code(0x30 + sym, 8);
        else if (sym < 256) code(0x190 + sym - 144, 9);
        else if (sym < 280) code(sym - 256, 7);
        else code(0xC0 + sym - 280, 8);
    }
    void fixed_dist(unsigned sym) { code(sym, 5); }
};

// Canonical codes from code lengths (RFC 1951 3.2.2), MSB-first values.
std::vector<std::uint32_t> canonical(const std::vector<unsigned>& lens) {
    unsigned count[16] = {}, next[16] = {};
    for (unsigned l : lens) ++count[l];
    count[0] = 0;
    for (unsigned len = 1, c = 0; len < 16; ++len) {
        c = (c + count[len - 1]) << 1;
        next[len] = c;
    }
    std::vector<std::uint32_t> codes(lens.size());
    for (std::size_t s = 0; s < lens.size(); ++s)
        if (lens[s]) codes[s] = next[lens[s]]++;
    return codes;
}

// A dynamic block header for the given lengths. The code-length code gives symbols 0..15
// four bits each (a complete code), so each length is sent as its own 4-bit code.
void dynamic_header(Bits& b, bool final, const std::vector<unsigned>& lit, const std::vector<unsigned>& dist) {
    b.put(final, 1);
    b.put(2, 2);
    b.put(static_cast<std::uint32_t>(lit.size() - 257), 5);
    b.put(static_cast<std::uint32_t>(dist.size() - 1), 5);
    b.put(19 - 4, 4);
    const unsigned order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    for (unsigned s : order) b.put(s < 16 ? 4 : 0, 3);
    for (unsigned l : lit) b.code(l, 4);
    for (unsigned l : dist) b.code(l, 4);
}

// Compresses, checks that inflate gives the data back, returns the compressed size.
std::size_t check_round_trip(const Bytes& data, int level) {
    CAPTURE(level);
    CAPTURE(data.size());
    const Bytes raw = deflate_raw(data, level);
    CHECK(inflate_raw(raw, data.size()) == data);
    if (level == 0) {  // stored blocks only: 5 bytes of header per 65535 bytes
        const std::size_t blocks = data.empty() ? 1 : (data.size() + 65534) / 65535;
        CHECK(raw.size() == data.size() + 5 * blocks);
    }
    return raw.size();
}

// Checks that every chunk's CRC is right and returns the concatenated IDAT data.
Bytes png_chunks(const Bytes& png, int* idat_count = nullptr, Bytes* first_type = nullptr) {
    REQUIRE(png.size() >= 8);
    Bytes idat;
    int idats = 0;
    std::size_t pos = 8;
    while (pos < png.size()) {
        REQUIRE(png.size() - pos >= 12);
        const std::uint32_t len = std::uint32_t{png[pos]} << 24 | std::uint32_t{png[pos + 1]} << 16 |
                                  std::uint32_t{png[pos + 2]} << 8 | png[pos + 3];
        const std::string type(png.begin() + static_cast<std::ptrdiff_t>(pos + 4),
                               png.begin() + static_cast<std::ptrdiff_t>(pos + 8));
        if (first_type && pos == 8) *first_type = bytes(type);
        const std::size_t end = pos + 8 + len;
        const std::uint32_t crc = std::uint32_t{png[end]} << 24 | std::uint32_t{png[end + 1]} << 16 |
                                  std::uint32_t{png[end + 2]} << 8 | png[end + 3];
        CHECK(crc == crc32(std::span(png).subspan(pos + 4, len + 4)));
        if (type == "IDAT") {
            idat.insert(idat.end(), png.begin() + static_cast<std::ptrdiff_t>(pos + 8),
                        png.begin() + static_cast<std::ptrdiff_t>(end));
            ++idats;
        }
        pos = end + 4;
    }
    if (idat_count) *idat_count = idats;
    return idat;
}

void put_be32(Bytes& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void put_chunk(Bytes& out, const char* type, const Bytes& data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    Bytes td(type, type + 4);
    td.insert(td.end(), data.begin(), data.end());
    out.insert(out.end(), td.begin(), td.end());
    put_be32(out, crc32(td));
}

// A PNG assembled by hand from an IHDR and already filtered rows.
Bytes make_png(std::uint32_t w, std::uint32_t h, std::uint8_t depth, std::uint8_t color,
               std::uint8_t interlace, const Bytes& filtered) {
    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes ihdr;
    put_be32(ihdr, w);
    put_be32(ihdr, h);
    ihdr.insert(ihdr.end(), {depth, color, 0, 0, interlace});
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", zlib_compress(filtered));
    put_chunk(png, "IEND", {});
    return png;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// A zlib stream made by zlib 1.2.13 (level 9; one dynamic-Huffman block) of kZlibText.
const char* kZlibText =
    "Variational inference with normalizing flows: a simple distribution is pushed through a "
    "chain of invertible maps, and the density of the result follows from the change of "
    "variables formula. Each planar flow adds one hidden unit; each radial flow contracts or "
    "expands around a point. The free energy is minimized with stochastic gradients, and the "
    "flows make the posterior approximation richer and richer as layers are added. Flows flow; "
    "layers layer; densities densify.";
const Bytes kZlibStream = {
    0x78, 0xda, 0x4d, 0x50, 0x41, 0x6e, 0xc3, 0x30, 0x0c, 0xfb, 0x0a, 0x1f, 0x30, 0xe4, 0x01, 0xeb,
    0x79, 0x7b, 0xc1, 0xb0, 0xbb, 0x9a, 0x28, 0xb1, 0x30, 0x47, 0x36, 0x64, 0xa5, 0x5d, 0xfa, 0xfa,
    0xc9, 0xde, 0x0a, 0xec, 0x62, 0x5b, 0x16, 0x45, 0x91, 0xfc, 0x24, 0x13, 0x72, 0x29, 0x4a, 0x19,
    0xa2, 0x2b, 0x1b, 0xeb, 0xcc, 0xb8, 0x8b, 0x27, 0x68, 0xb1, 0x9d, 0xb2, 0x3c, 0x44, 0x37, 0xac,
    0xb9, 0xdc, 0xdb, 0x2b, 0x08, 0x4d, 0xf6, 0x9a, 0x19, 0x8b, 0x34, 0x37, 0xb9, 0x1e, 0x7d, 0x12,
    0xd2, 0x50, 0x8f, 0x96, 0x78, 0x81, 0x27, 0x2b, 0xc7, 0x96, 0x02, 0x37, 0x27, 0x12, 0x45, 0x59,
    0x83, 0xf4, 0xc6, 0xe6, 0x72, 0x8d, 0xa1, 0x9d, 0x6a, 0x7b, 0x01, 0x69, 0xc7, 0x05, 0x05, 0x6b,
    0x13, 0x3f, 0x3b, 0xa6, 0x97, 0xc6, 0xed, 0xc8, 0x8e, 0xb5, 0xe4, 0xbe, 0x0a, 0xab, 0x95, 0x7d,
    0xfc, 0x07, 0x91, 0x6e, 0xdc, 0x51, 0xb7, 0x2e, 0x35, 0x78, 0xa2, 0x19, 0xca, 0x8e, 0x4c, 0x13,
    0xde, 0x68, 0x4e, 0xa8, 0x99, 0x94, 0x6c, 0x48, 0x04, 0x2d, 0x4b, 0x43, 0x51, 0x46, 0x92, 0x25,
    0x16, 0xe0, 0x50, 0xf1, 0x0b, 0xb8, 0xc3, 0x8c, 0x16, 0x09, 0x93, 0x03, 0x36, 0x17, 0x75, 0xa3,
    0xd9, 0x03, 0x6b, 0xe0, 0xef, 0x1a, 0x9a, 0x1a, 0x28, 0xb4, 0x87, 0x36, 0x42, 0x2d, 0xa2, 0x3e,
    0xe1, 0x23, 0xb6, 0xaf, 0xc6, 0x0c, 0x56, 0xb6, 0xed, 0xec, 0x36, 0x77, 0x51, 0xd9, 0xe5, 0x11,
    0x4e, 0x47, 0x42, 0xcd, 0x4b, 0xc8, 0x6b, 0x2e, 0x33, 0xb6, 0x4e, 0xcf, 0xea, 0xff, 0x0c, 0x8e,
    0xcc, 0xc2, 0xf4, 0x17, 0x8f, 0xb2, 0x96, 0xe6, 0x6c, 0x12, 0x0b, 0xa9, 0x56, 0x2b, 0xdf, 0xb2,
    0x8f, 0xdc, 0x61, 0x32, 0x27, 0xb6, 0x31, 0xf5, 0x7c, 0x36, 0x64, 0x3a, 0xd9, 0xba, 0x24, 0xee,
    0x96, 0x78, 0x99, 0xf0, 0xfe, 0x1b, 0x4b, 0x9c, 0x97, 0x67, 0x77, 0x5c, 0x97, 0xbf, 0x20, 0x25,
    0x72, 0x19, 0xaf, 0xf5, 0x9c, 0x7e, 0x00, 0x4a, 0xaa, 0xac, 0xe9,
};
// A gzip file made by Python's gzip module (zlib 1.2.13) with FNAME "hello.txt".
const Bytes kGzipHello = {
    0x1f, 0x8b, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2e,
    0x74, 0x78, 0x74, 0x00, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0xc8, 0x40, 0xa2, 0x14, 0xd2,
    0xab, 0x32, 0x0b, 0xb8, 0x00, 0x2a, 0x08, 0x44, 0xa6, 0x19, 0x00, 0x00, 0x00,
};

}  // namespace

// ---------------------------------------------------------------- checksums

TEST_CASE("crc32 and adler32 match published values") {
    CHECK(crc32(std::string_view("123456789")) == 0xCBF43926u);
    CHECK(crc32(std::string_view("")) == 0u);
    CHECK(crc32(std::string_view("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
    CHECK(adler32(std::string_view("Wikipedia")) == 0x11E60398u);
    CHECK(adler32(std::string_view("")) == 1u);
}

TEST_CASE("crc32 and adler32 agree with bitwise references, whole and in pieces") {
    auto crc_ref = [](const Bytes& b) {
        std::uint32_t c = 0xFFFFFFFFu;
        for (std::uint8_t x : b) {
            c ^= x;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        }
        return ~c;
    };
    auto adler_ref = [](const Bytes& b) {
        std::uint32_t a = 1, s = 0;
        for (std::uint8_t x : b) {
            a = (a + x) % 65521;
            s = (s + a) % 65521;
        }
        return s << 16 | a;
    };
    for (std::size_t n : {1, 7, 8, 9, 63, 1000, 5552, 5553, 20000}) {
        CAPTURE(n);
        const Bytes b = random_bytes(n, n);
        CHECK(crc32(b) == crc_ref(b));
        CHECK(adler32(b) == adler_ref(b));
        for (std::size_t cut : {std::size_t{0}, n / 3, n - 1}) {
            const auto head = std::span(b).first(cut), tail = std::span(b).subspan(cut);
            CHECK(crc32(tail, crc32(head)) == crc32(b));
            CHECK(adler32(tail, adler32(head)) == adler32(b));
        }
    }
    const Bytes ones(100000, 0xFF);  // the largest sums: exercises the deferred modulo
    CHECK(adler32(ones) == adler_ref(ones));
}

// ---------------------------------------------------------------- deflate / inflate

TEST_CASE("deflate round trips at levels 0, 1, 6 and 9") {
    const Bytes zeros(std::size_t{1} << 20, 0);
    const Bytes rnd = random_bytes(200000, 7);
    const Bytes text = words(100000, 3);
    const Bytes mix = mixed(300 * 1024, 11);
    std::size_t mix_size[10] = {};
    for (int level : {0, 1, 6, 9}) {
        CAPTURE(level);
        CHECK(check_round_trip({}, level) <= 5);
        CHECK(check_round_trip({42}, level) <= 6);
        const std::size_t z = check_round_trip(zeros, level);
        const std::size_t r = check_round_trip(rnd, level);
        const std::size_t t = check_round_trip(text, level);
        mix_size[level] = check_round_trip(mix, level);
        if (level > 0) {
            CHECK(z < 2048);
            CHECK(t < text.size() / 3);
            CHECK(mix_size[level] < mix.size() * 2 / 3);
        }
        CHECK(r < rnd.size() + rnd.size() / 100);
    }
    // More effort never costs much: level 9 is at most 1% larger than level 1 here.
    CHECK(mix_size[9] <= mix_size[1] * 101 / 100);
    CHECK(mix_size[6] <= mix_size[1] * 101 / 100);
    CHECK_THROWS_AS(deflate_raw(text, 10), std::invalid_argument);
    CHECK_THROWS_AS(deflate_raw(text, -1), std::invalid_argument);
}

TEST_CASE("deflate round trips on short and structured inputs") {
    // Short inputs around the minimum match, long runs, and all byte values.
    for (std::size_t n = 0; n < 40; ++n) {
        Bytes b(n);
        for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>("abcab"[i % 5]);
        for (int level : {1, 6}) CHECK(inflate_raw(deflate_raw(b, level), n) == b);
    }
    Bytes all(256 * 300);
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
    for (int level : {1, 6, 9}) CHECK(inflate_raw(deflate_raw(all, level), all.size()) == all);
    // A period longer than the window: no match may reach back more than 32 KiB.
    const Bytes period = random_bytes(40000, 5);
    Bytes rep;
    for (int k = 0; k < 4; ++k) rep.insert(rep.end(), period.begin(), period.end());
    CHECK(inflate_raw(deflate_raw(rep, 9), rep.size()) == rep);
}

TEST_CASE("zlib and gzip wrappers round trip and are deterministic") {
    const Bytes mix = mixed(100000, 21);
    for (int level : {0, 1, 6, 9}) {
        const Bytes z = zlib_compress(mix, level);
        REQUIRE(z.size() > 6);
        CHECK(z[0] == 0x78);
        CHECK((z[0] * 256 + z[1]) % 31 == 0);
        CHECK(zlib_decompress(z, mix.size()) == mix);
        CHECK(z == zlib_compress(mix, level));
        const Bytes g = gzip_compress(mix, level);
        CHECK(is_gzip(g));
        CHECK(gzip_decompress(g, mix.size()) == mix);
    }
    CHECK(zlib_decompress(zlib_compress({}), 0).empty());
    CHECK(gzip_decompress(gzip_compress({}), 0).empty());
}

TEST_CASE("inflate decodes streams made by zlib") {
    CHECK(text_of(zlib_decompress(kZlibStream, 10000)) == kZlibText);
    CHECK(is_gzip(kGzipHello));
    CHECK(text_of(gzip_decompress(kGzipHello, 100)) == "hello, hello, hello gzip\n");
}

TEST_CASE("inflate decodes hand-made streams (RFC 1951)") {
    SUBCASE("fixed Huffman: literals and an overlapping match") {
        Bits b;
        b.put(1, 1);  // BFINAL
        b.put(1, 2);  // fixed codes
        for (char c : std::string("abc")) b.fixed_lit(static_cast<unsigned char>(c));
        b.fixed_lit(260);  // length 6
        b.fixed_dist(2);   // distance 3
        b.fixed_lit(256);
        CHECK(text_of(inflate_raw(b.out, 100)) == "abcabcabc");
    }
    SUBCASE("length and distance extra bits; symbol 285 is 258") {
        Bits b;
        b.put(1, 1);
        b.put(1, 2);
        for (char c : std::string("0123456789")) b.fixed_lit(static_cast<unsigned char>(c));
        b.fixed_lit(270);  // lengths 23-26: extra 2 bits
        b.put(2, 2);       // 25
        b.fixed_dist(6);   // distances 9-12: extra 2 bits
        b.put(1, 2);       // 10
        b.fixed_lit(285);  // 258
        b.fixed_dist(0);   // 1
        b.fixed_lit(256);
        std::string want = "0123456789";
        for (int i = 0; i < 25; ++i) want += want[want.size() - 10];
        want += std::string(258, want.back());
        CHECK(text_of(inflate_raw(b.out, 1000)) == want);
    }
    SUBCASE("a stored block, then a fixed block that copies from it") {
        Bits b;
        b.put(0, 1);
        b.put(0, 2);
        b.out.insert(b.out.end(), {5, 0, 0xFA, 0xFF, 'h', 'e', 'l', 'l', 'o'});
        b.n = 0;
        b.put(1, 1);
        b.put(1, 2);
        b.fixed_lit(257);  // length 3
        b.fixed_dist(3);   // distance 4: "ell"
        b.fixed_lit(256);
        CHECK(text_of(inflate_raw(b.out, 100)) == "helloell");
    }
    SUBCASE("a dynamic block with a single one-bit distance code (allowed)") {
        std::vector<unsigned> lit(257, 0), dist(1, 1);
        lit['x'] = 1;
        lit[256] = 2;
        lit.push_back(2);  // symbol 257: length 3
        Bits b;
        dynamic_header(b, true, lit, dist);
        const auto codes = canonical(lit);
        b.code(codes['x'], 1);
        b.code(codes[257], 2);
        b.code(0, 1);  // distance symbol 0: 1
        b.code(codes[256], 2);
        CHECK(text_of(inflate_raw(b.out, 100)) == "xxxx");
    }
    SUBCASE("a dynamic block with no distance codes at all (allowed)") {
        std::vector<unsigned> lit(257, 0), dist(1, 0);
        lit['y'] = 1;
        lit[256] = 1;
        Bits b;
        dynamic_header(b, true, lit, dist);
        const auto codes = canonical(lit);
        b.code(codes['y'], 1);
        b.code(codes['y'], 1);
        b.code(codes[256], 1);
        CHECK(text_of(inflate_raw(b.out, 100)) == "yy");
    }
}

TEST_CASE("inflate rejects malformed code sets and headers") {
    auto dyn = [](std::vector<unsigned> lit, std::vector<unsigned> dist) {
        Bits b;
        dynamic_header(b, true, lit, dist);
        b.put(0, 32);
        return error_of([&] { inflate_raw(b.out, 100); });
    };
    std::vector<unsigned> lit(257, 0);
    lit['a'] = 1;
    lit[256] = 1;
    auto over = lit;
    over['b'] = 1;  // three one-bit codes
    CHECK(contains(dyn(over, {1, 1}), "over-subscribed literal/length code"));
    auto incomplete = lit;
    incomplete[256] = 2;  // one-bit and two-bit code: 3/4 of the code space
    CHECK(contains(dyn(incomplete, {1, 1}), "incomplete literal/length code"));
    auto no_eob = lit;
    no_eob[256] = 0;
    no_eob['b'] = 1;
    CHECK(contains(dyn(no_eob, {1, 1}), "no end-of-block code"));
    CHECK(contains(dyn(lit, {2, 2}), "incomplete distance code"));
    CHECK(contains(dyn(lit, {2}), "incomplete distance code"));  // single code must be 1 bit
    CHECK(contains(dyn(lit, {1, 1, 1}), "over-subscribed distance code"));

    Bits t3;  // block type 3
    t3.put(1, 1);
    t3.put(3, 2);
    t3.put(0, 16);
    CHECK(contains(error_of([&] { inflate_raw(t3.out, 100); }), "invalid block type 3"));

    const Bytes stored = {1, 5, 0, 0xFB, 0xFF, 1, 2, 3, 4, 5};  // NLEN is not ~LEN
    CHECK(contains(error_of([&] { inflate_raw(stored, 100); }), "does not match its complement"));

    Bits big;  // HLIT = 287 and HDIST = 31 do not exist
    big.put(1, 1);
    big.put(2, 2);
    big.put(30, 5);
    big.put(30, 5);
    big.put(0, 32);
    CHECK(contains(error_of([&] { inflate_raw(big.out, 100); }), "at most 286 and 30"));

    Bits rep;  // code-length code whose first symbol is "repeat previous"
    rep.put(1, 1);
    rep.put(2, 2);
    rep.put(0, 5);
    rep.put(0, 5);
    rep.put(0, 4);  // 4 code-length code lengths: 16, 17, 18, 0
    rep.put(1, 3);  // 16: one bit
    rep.put(0, 3);
    rep.put(0, 3);
    rep.put(1, 3);  // 0: one bit
    rep.code(1, 1);  // symbol 16 (codes: 0 -> "0", 16 -> "1")
    rep.put(0, 16);
    CHECK(contains(error_of([&] { inflate_raw(rep.out, 100); }), "no previous length"));

    Bits run;  // 18 = "138 zeros" then "121 zeros", where only 258 lengths are declared
    run.put(1, 1);
    run.put(2, 2);
    run.put(0, 5);
    run.put(0, 5);
    run.put(0, 4);  // code-length code lengths for 16, 17, 18, 0
    run.put(0, 3);
    run.put(0, 3);
    run.put(1, 3);  // 18: one bit ("1")
    run.put(1, 3);  // 0: one bit ("0")
    run.code(1, 1);
    run.put(127, 7);
    run.code(1, 1);
    run.put(110, 7);  // 121 zeros: one too many
    run.put(0, 16);
    CHECK(contains(error_of([&] { inflate_raw(run.out, 100); }), "runs past the 258 lengths"));

    Bits sym;  // fixed literal/length symbols 286 and 287 are invalid
    sym.put(1, 1);
    sym.put(1, 2);
    sym.fixed_lit(286);
    sym.put(0, 16);
    CHECK(contains(error_of([&] { inflate_raw(sym.out, 100); }), "invalid literal/length symbol 286"));

    Bits dsym;  // fixed distance symbols 30 and 31 are invalid
    dsym.put(1, 1);
    dsym.put(1, 2);
    dsym.fixed_lit('a');
    dsym.fixed_lit(257);
    dsym.fixed_dist(30);
    dsym.put(0, 16);
    CHECK(contains(error_of([&] { inflate_raw(dsym.out, 100); }), "invalid distance symbol 30"));
}

TEST_CASE("inflate rejects a distance past the start of the output") {
    Bits b;
    b.put(1, 1);
    b.put(1, 2);
    b.fixed_lit('a');
    b.fixed_lit(257);  // length 3
    b.fixed_dist(1);   // distance 2, but only 1 byte exists
    b.fixed_lit(256);
    const std::string e = error_of([&] { inflate_raw(b.out, 100); });
    CHECK(contains(e, "invalid distance 2 past start of output"));
    CHECK(contains(e, "at byte"));

    // Each gzip member has its own window: a second member may not reach into the first.
    Bytes two = gzip_compress(bytes("abcabc"));
    Bits m;
    m.put(1, 1);
    m.put(1, 2);
    m.fixed_lit(257);
    m.fixed_dist(2);  // distance 3 at the start of the member
    m.fixed_lit(256);
    Bytes member = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255};
    member.insert(member.end(), m.out.begin(), m.out.end());
    member.insert(member.end(), 8, 0);
    two.insert(two.end(), member.begin(), member.end());
    CHECK(contains(error_of([&] { gzip_decompress(two, 100); }), "past start of output"));
}

TEST_CASE("every truncation of a valid stream is rejected") {
    const Bytes data = mixed(3000, 99);
    for (int level : {0, 6}) {
        const Bytes raw = deflate_raw(data, level);
        const Bytes z = zlib_compress(data, level);
        const Bytes g = gzip_compress(data, level, "data.bin");
        for (std::size_t n = 0; n < raw.size(); ++n)
            CHECK_THROWS_AS(inflate_raw(std::span(raw).first(n), kBig), FormatError);
        for (std::size_t n = 0; n < z.size(); ++n)
            CHECK_THROWS_AS(zlib_decompress(std::span(z).first(n), kBig), FormatError);
        for (std::size_t n = 0; n < g.size(); ++n)
            CHECK_THROWS_AS(gzip_decompress(std::span(g).first(n), kBig), FormatError);
    }
    CHECK(contains(error_of([&] { zlib_decompress(std::span(kZlibStream).first(100), kBig); }),
                   "unexpected end of input"));
}

TEST_CASE("bit flips are detected, never crash") {
    // Either the stream is rejected, or (a flip in unused padding bits) decodes unchanged:
    // the checksums catch any change of the output.
    const Bytes data = mixed(2000, 5);
    const Bytes z = zlib_compress(data, 6);
    const Bytes g = gzip_compress(data, 6);
    int rejected = 0, unchanged = 0;
    auto attempt = [&](auto decompress, const Bytes& c) {
        Bytes out;
        try {
            out = decompress(c, kBig);
        } catch (const FormatError&) {
            ++rejected;
            return;
        }
        CHECK(out == data);
        ++unchanged;
    };
    for (std::size_t i = 0; i < z.size(); ++i)
        for (int bit = 0; bit < 8; bit += 3) {
            Bytes c = z;
            c[i] ^= static_cast<std::uint8_t>(1u << bit);
            attempt(zlib_decompress, c);
        }
    CHECK(rejected > 3 * static_cast<int>(z.size()) * 9 / 10);
    CHECK(unchanged < 10);
    for (std::size_t i = 0; i < g.size(); ++i) {  // MTIME, XFL and OS are not checked
        Bytes c = g;
        c[i] ^= 0x10;
        attempt(gzip_decompress, c);
    }

    // A flipped checksum byte is reported as such.
    Bytes c = z;
    c.back() ^= 1;
    CHECK(contains(error_of([&] { zlib_decompress(c, kBig); }), "Adler-32 mismatch"));
    Bytes h = g;
    h[h.size() - 5] ^= 1;
    CHECK(contains(error_of([&] { gzip_decompress(h, kBig); }), "CRC-32 mismatch"));
    Bytes s = g;
    s[s.size() - 1] ^= 1;
    CHECK(contains(error_of([&] { gzip_decompress(s, kBig); }), "size mismatch"));
}

TEST_CASE("random garbage is rejected without crashing") {
    Rand r(1234);
    int ok = 0;
    for (int t = 0; t < 3000; ++t) {
        Bytes junk = random_bytes(1 + r.below(200), r.next());
        if (t % 3 == 1) junk[0] = static_cast<std::uint8_t>((junk[0] & ~6) | 4);  // dynamic block
        if (t % 3 == 2) junk[0] = static_cast<std::uint8_t>((junk[0] & ~6) | 2);  // fixed block
        try {
            inflate_raw(junk, 1 << 16);
            ++ok;
        } catch (const FormatError&) {
        }
        CHECK_THROWS_AS(zlib_decompress(junk, 1 << 16), FormatError);  // no valid Adler-32
    }
    CHECK(ok < 300);
}

TEST_CASE("the output limit stops a decompression bomb") {
    // One zero, then back-references of 258 bytes at distance 1 until 1 GiB is claimed:
    // 13 bits per 258 bytes.
    Bits b;
    b.put(1, 1);
    b.put(1, 2);
    b.fixed_lit(0);
    Bits one;  // the 13 bits of (length 258, distance 1), as a bit pattern to repeat
    one.fixed_lit(285);
    one.fixed_dist(0);
    const std::uint32_t pattern = one.out[0] | std::uint32_t{one.out[1]} << 8;
    const std::size_t copies = (std::size_t{1} << 30) / 258 + 1;
    for (std::size_t k = 0; k < copies; ++k) b.put(pattern, 13);
    b.fixed_lit(256);
    const std::string e = error_of([&] { inflate_raw(b.out, std::size_t{1} << 20); });
    CHECK(contains(e, "output exceeds the limit of 1048576 bytes"));
    CHECK(contains(e, "decompression bomb"));

    // Exactly at the limit is fine; one byte less is not.
    const Bytes data = words(5000, 1);
    const Bytes z = zlib_compress(data);
    CHECK(zlib_decompress(z, data.size()) == data);
    CHECK_THROWS_AS(zlib_decompress(z, data.size() - 1), FormatError);
    const Bytes st = deflate_raw(data, 0);
    CHECK_THROWS_AS(inflate_raw(st, data.size() - 1), FormatError);
}

TEST_CASE("zlib framing errors") {
    const Bytes z = zlib_compress(bytes("hello hello hello"));
    Bytes bad = z;
    bad[0] = 0x79;  // method 9
    CHECK(contains(error_of([&] { zlib_decompress(bad, kBig); }), "compression method 9"));
    bad = z;
    bad[1] ^= 1;
    CHECK(contains(error_of([&] { zlib_decompress(bad, kBig); }), "FCHECK"));
    bad = z;
    bad[1] = 0x20;  // FDICT, with a valid FCHECK
    bad[1] = static_cast<std::uint8_t>(bad[1] + (31 - (0x78 * 256 + bad[1]) % 31) % 31);
    CHECK(contains(error_of([&] { zlib_decompress(bad, kBig); }), "preset dictionary"));
    bad = z;
    bad.push_back(0);
    CHECK(contains(error_of([&] { zlib_decompress(bad, kBig); }), "trailing garbage"));
    bad = deflate_raw(bytes("abc"));
    bad.push_back(0);
    CHECK(contains(error_of([&] { inflate_raw(bad, kBig); }), "trailing data"));
    CHECK_THROWS_AS(zlib_decompress(Bytes{0x78}, kBig), FormatError);
}

TEST_CASE("gzip headers, members and framing errors") {
    const Bytes a = bytes("first member\n"), b = words(70000, 8);
    SUBCASE("FNAME and two members") {
        Bytes g = gzip_compress(a, 6, "first.txt");
        CHECK(g[3] == 8);
        CHECK(std::string(g.begin() + 10, g.begin() + 19) == "first.txt");
        const Bytes g2 = gzip_compress(b, 1);
        g.insert(g.end(), g2.begin(), g2.end());
        Bytes want = a;
        want.insert(want.end(), b.begin(), b.end());
        CHECK(gzip_decompress(g, kBig) == want);
        CHECK_THROWS_AS(gzip_decompress(g, want.size() - 1), FormatError);  // limit covers all members
        g.push_back(0);
        CHECK(contains(error_of([&] { gzip_decompress(g, kBig); }), "trailing garbage after member 2"));
    }
    SUBCASE("FEXTRA, FNAME, FCOMMENT and FHCRC") {
        Bytes g = {0x1F, 0x8B, 8, 2 | 4 | 8 | 16, 1, 2, 3, 4, 0, 3};
        g.insert(g.end(), {5, 0, 'A', 'B', 1, 0, 9});      // XLEN 5, one subfield
        for (char c : std::string("name.bin")) g.push_back(static_cast<std::uint8_t>(c));
        g.push_back(0);
        for (char c : std::string("a comment")) g.push_back(static_cast<std::uint8_t>(c));
        g.push_back(0);
        const std::uint32_t hcrc = crc32(g) & 0xFFFF;
        g.push_back(static_cast<std::uint8_t>(hcrc));
        g.push_back(static_cast<std::uint8_t>(hcrc >> 8));
        const Bytes body = deflate_raw(a);
        g.insert(g.end(), body.begin(), body.end());
        const std::uint32_t crc = crc32(a), size = static_cast<std::uint32_t>(a.size());
        for (int s = 0; s < 32; s += 8) g.push_back(static_cast<std::uint8_t>(crc >> s));
        for (int s = 0; s < 32; s += 8) g.push_back(static_cast<std::uint8_t>(size >> s));
        CHECK(gzip_decompress(g, kBig) == a);
        for (std::size_t n = 0; n < g.size(); ++n)
            CHECK_THROWS_AS(gzip_decompress(std::span(g).first(n), kBig), FormatError);
        Bytes bad = g;
        bad[30] ^= 1;  // inside the comment: the header CRC no longer matches
        CHECK(contains(error_of([&] { gzip_decompress(bad, kBig); }), "header CRC mismatch"));
        bad = g;
        bad[3] |= 0x20;
        CHECK(contains(error_of([&] { gzip_decompress(bad, kBig); }), "reserved header flags"));
        bad = g;
        bad[2] = 7;
        CHECK(contains(error_of([&] { gzip_decompress(bad, kBig); }), "compression method 7"));
    }
    CHECK(contains(error_of([&] { gzip_decompress(bytes("PK\x03\x04 not gzip"), kBig); }), "not a gzip file"));
    CHECK_FALSE(is_gzip(bytes("\x1f")));
    CHECK_FALSE(is_gzip(zlib_compress(a)));
    CHECK_THROWS_AS(gzip_decompress(Bytes{}, kBig), FormatError);
    CHECK_THROWS_AS(gzip_compress(a, 6, std::string_view("a\0b", 3)), std::invalid_argument);
}

// ---------------------------------------------------------------- PNG

TEST_CASE("PNG round trips: 1-4 channels, odd sizes, random and smooth images") {
    for (int channels : {1, 2, 3, 4})
        for (const auto& size : {std::pair{1, 1}, std::pair{7, 3}, std::pair{257, 100}})
            for (bool smooth : {false, true}) {
                const int w = size.first, h = size.second;
                CAPTURE(channels);
                CAPTURE(w);
                CAPTURE(h);
                CAPTURE(smooth);
                const std::size_t n = static_cast<std::size_t>(w) * h * channels;
                Bytes px = random_bytes(n, static_cast<std::uint64_t>(w * 10 + channels));
                if (smooth)
                    for (int y = 0; y < h; ++y)
                        for (int x = 0; x < w; ++x)
                            for (int c = 0; c < channels; ++c)
                                px[(static_cast<std::size_t>(y) * w + x) * channels + c] =
                                    static_cast<std::uint8_t>(x * (c + 1) + 2 * y + (x * y) / 64);
                const Bytes png = encode_png(w, h, channels, px);
                const DecodedPng d = decode_png(png);
                CHECK(d.width == w);
                CHECK(d.height == h);
                CHECK(d.channels == channels);
                CHECK(d.pixels == px);

                // The IDAT data is a zlib stream of h rows, each a filter byte and the row.
                int idats = 0;
                Bytes first;
                const Bytes raw = zlib_decompress(png_chunks(png, &idats, &first), kBig);
                CHECK(text_of(first) == "IHDR");
                REQUIRE(raw.size() == static_cast<std::size_t>(h) * (1 + w * channels));
                int filtered_rows = 0;
                for (int y = 0; y < h; ++y) {
                    const std::uint8_t f = raw[static_cast<std::size_t>(y) * (1 + w * channels)];
                    CHECK(f <= 4);
                    filtered_rows += f != 0;
                }
                if (smooth && h == 100) {
                    CHECK(filtered_rows > 90);  // a gradient is predicted well, never left raw
                    CHECK(png.size() < n / 4);
                }
                if (!smooth && w * h * channels > 65536) CHECK(idats >= 2);
            }
    const Bytes px(12, 200);
    CHECK(decode_png(encode_png(2, 2, 3, px, 0)).pixels == px);
    CHECK_THROWS_AS(encode_png(2, 2, 3, Bytes(11)), std::invalid_argument);
    CHECK_THROWS_AS(encode_png(0, 2, 3, Bytes{}), std::invalid_argument);
    CHECK_THROWS_AS(encode_png(2, 2, 5, Bytes(20)), std::invalid_argument);
    CHECK_THROWS_AS(encode_png(2, 2, 3, px, 10), std::invalid_argument);
}

TEST_CASE("PNG decoder undoes all five filters") {
    // Rows filtered here with each filter type in turn, compressed, assembled by hand.
    // Few distinct values, so that the Paeth predictor's ties (a before b before c) occur often.
    const int w = 33, h = 20, bpp = 3, stride = w * bpp;
    Bytes px = random_bytes(static_cast<std::size_t>(h) * stride, 77);
    for (std::size_t i = 0; i < px.size(); ++i)
        px[i] = static_cast<std::uint8_t>(i < px.size() / 2 ? (px[i] % 4) * 60 : px[i]);
    Bytes filtered;
    for (int y = 0; y < h; ++y) {
        const int f = y % 5;
        filtered.push_back(static_cast<std::uint8_t>(f));
        for (int i = 0; i < stride; ++i) {
            const int x = px[static_cast<std::size_t>(y * stride + i)];
            const int a = i >= bpp ? px[static_cast<std::size_t>(y * stride + i - bpp)] : 0;
            const int b = y > 0 ? px[static_cast<std::size_t>((y - 1) * stride + i)] : 0;
            const int c = (y > 0 && i >= bpp) ? px[static_cast<std::size_t>((y - 1) * stride + i - bpp)] : 0;
            const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
            const int paeth = (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
            const int pred[5] = {0, a, b, (a + b) / 2, paeth};
            filtered.push_back(static_cast<std::uint8_t>(x - pred[f]));
        }
    }
    const DecodedPng d = decode_png(make_png(w, h, 8, 2, 0, filtered));
    CHECK(d.pixels == px);

    Bytes bad = filtered;
    bad[static_cast<std::size_t>(3 * (stride + 1))] = 5;
    CHECK(contains(error_of([&] { decode_png(make_png(w, h, 8, 2, 0, bad)); }), "invalid filter type 5 on row 3"));
    CHECK(contains(error_of([&] { decode_png(make_png(w, h + 1, 8, 2, 0, filtered)); }), "expected"));
    CHECK(contains(error_of([&] { decode_png(make_png(w, h - 1, 8, 2, 0, filtered)); }), "image data"));
}

TEST_CASE("PNG decoder rejects bad files") {
    const Bytes px = random_bytes(7 * 3 * 3, 3);
    const Bytes png = encode_png(7, 3, 3, px);
    Bytes bad = png;
    bad[1] = 'Q';
    CHECK(contains(error_of([&] { decode_png(bad); }), "signature"));
    bad = png;
    bad[20] ^= 1;  // inside IHDR's data
    CHECK(contains(error_of([&] { decode_png(bad); }), "CRC mismatch in chunk 'IHDR'"));
    bad = png;
    bad[png.size() - 20] ^= 1;  // inside IDAT
    CHECK(contains(error_of([&] { decode_png(bad); }), "CRC mismatch in chunk 'IDAT'"));
    for (std::size_t n = 0; n < png.size(); ++n)
        CHECK_THROWS_AS(decode_png(std::span(png).first(n)), FormatError);
    const Bytes rows(3 * (1 + 7), 0);
    CHECK(contains(error_of([&] { decode_png(make_png(7, 3, 8, 3, 0, rows)); }), "palette"));
    CHECK(contains(error_of([&] { decode_png(make_png(7, 3, 16, 0, 0, rows)); }), "bit depth 16"));
    CHECK(contains(error_of([&] { decode_png(make_png(7, 3, 8, 0, 1, rows)); }), "interlaced"));
    CHECK(contains(error_of([&] { decode_png(make_png(7, 3, 8, 5, 0, rows)); }), "color type 5"));
    CHECK(contains(error_of([&] { decode_png(make_png(0, 3, 8, 0, 0, rows)); }), "image size"));
    CHECK(contains(error_of([&] { decode_png(png, 20); }), "exceeds the limit of 20 pixels"));
    CHECK(decode_png(make_png(7, 3, 8, 0, 0, rows)).pixels == Bytes(21, 0));
    // A chunk length pointing far past the end of the file.
    bad = png;
    bad[33] = 0x7F;  // first IDAT's length, high byte
    CHECK(contains(error_of([&] { decode_png(bad); }), "runs past the end"));
}

// ---------------------------------------------------------------- files

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("nfvi_test_io_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::vector<std::string> entries() const {
        std::vector<std::string> v;
        for (const auto& e : std::filesystem::directory_iterator(path)) v.push_back(e.path().filename().string());
        std::sort(v.begin(), v.end());
        return v;
    }
};

}  // namespace

TEST_CASE("write_file_atomic writes, replaces and leaves no temporaries") {
    TempDir dir;
    const std::string f = (dir.path / "out.bin").string();
    const Bytes first = random_bytes(100000, 1);
    write_file_atomic(f, first);
    CHECK(read_file(f) == first);
    write_file_atomic(f, std::string_view("second"));
    CHECK(text_of(read_file(f)) == "second");
    write_file_atomic(f, Bytes{});
    CHECK(read_file(f).empty());
    CHECK(dir.entries() == std::vector<std::string>{"out.bin"});
}

TEST_CASE("file errors name the path and the reason") {
    TempDir dir;
    const std::string missing = (dir.path / "nope.txt").string();
    std::string e = error_of([&] { read_file(missing); });
    CHECK(contains(e, "cannot open '" + missing + "'"));
    CHECK(contains(e, "No such file or directory"));
    CHECK_THROWS_AS(read_file(missing), IoError);
    CHECK_THROWS_AS(read_file(dir.path.string()), IoError);  // a directory

    write_file_atomic((dir.path / "big").string(), Bytes(1000, 1));
    CHECK(contains(error_of([&] { read_file((dir.path / "big").string(), 999); }), "larger than the limit"));
    CHECK_THROWS_AS(read_file((dir.path / "big").string(), 999), FormatError);
    CHECK(read_file((dir.path / "big").string(), 1000).size() == 1000);

    const std::string in_missing_dir = (dir.path / "no_such_dir" / "x.json").string();
    e = error_of([&] { write_file_atomic(in_missing_dir, std::string_view("{}")); });
    CHECK(contains(e, in_missing_dir));
    CHECK(contains(e, "No such file or directory"));
    CHECK_THROWS_AS(write_file_atomic(in_missing_dir, std::string_view("{}")), IoError);

    // Renaming over a directory fails; the temporary is removed.
    std::filesystem::create_directory(dir.path / "sub");
    CHECK_THROWS_AS(write_file_atomic((dir.path / "sub").string(), std::string_view("x")), IoError);
    CHECK(dir.entries() == std::vector<std::string>{"big", "sub"});

    if (std::filesystem::exists("/dev/full")) {
        CHECK_THROWS_AS(write_file_atomic("/dev/full/x", std::string_view("data")), IoError);
        CHECK_FALSE(std::filesystem::exists("/dev/full/x"));
        // The write checks themselves: /dev/full accepts the open and fails the writes.
        std::FILE* f = std::fopen("/dev/full", "wb");
        REQUIRE(f != nullptr);
        e = error_of([&] { detail::write_and_close(f, Bytes(100, 7), "/dev/full"); });
        CHECK(contains(e, "cannot write '/dev/full'"));
        CHECK(contains(e, "No space left on device"));
        f = std::fopen("/dev/full", "wb");
        REQUIRE(f != nullptr);
        CHECK_THROWS_AS(detail::write_and_close(f, Bytes(1 << 20, 7), "/dev/full"), IoError);
        CHECK_THROWS_AS(ensure_directory("/dev/full/sub"), IoError);
    }
}

TEST_CASE("ensure_directory creates nested directories and refuses files") {
    TempDir dir;
    const std::string nested = (dir.path / "a" / "b" / "c").string();
    ensure_directory(nested);
    CHECK(std::filesystem::is_directory(nested));
    ensure_directory(nested);  // existing is fine
    CHECK(std::filesystem::is_empty(nested));  // the write probe is cleaned up
    write_file_atomic((dir.path / "file").string(), std::string_view("x"));
    CHECK(contains(error_of([&] { ensure_directory((dir.path / "file").string()); }), "not a directory"));
    CHECK_THROWS_AS(ensure_directory((dir.path / "file" / "sub").string()), IoError);
    CHECK_THROWS_AS(ensure_directory(""), IoError);
}

// ---------------------------------------------------------------- JSON and CSV

TEST_CASE("JSON builder and dump") {
    Json obj = Json::object();
    obj["kl"] = 0.5;
    obj["settings"]["lr"] = 2e-3;
    obj["settings"]["flow"] = "planar";
    obj["shape"] = Json::array({2, 3});
    obj["ok"] = true;
    obj["none"] = nullptr;
    obj["empty"] = Json::array();
    obj["kl"] = 0.25;  // replaces, keeps the position
    CHECK(obj.dump() ==
          "{\n"
          "  \"kl\": 0.25,\n"
          "  \"settings\": {\n"
          "    \"lr\": 0.002,\n"
          "    \"flow\": \"planar\"\n"
          "  },\n"
          "  \"shape\": [\n"
          "    2,\n"
          "    3\n"
          "  ],\n"
          "  \"ok\": true,\n"
          "  \"none\": null,\n"
          "  \"empty\": []\n"
          "}");
    CHECK(obj.dump(0) ==
          R"({"kl":0.25,"settings":{"lr":0.002,"flow":"planar"},"shape":[2,3],"ok":true,"none":null,"empty":[]})");
    CHECK(Json::parse(obj.dump()) == obj);
    CHECK(Json::parse(obj.dump(0)) == obj);

    Json arr;
    arr.push_back(1);
    arr.push_back("two");
    arr.push_back(Json::object({{"three", 3}}));
    CHECK(arr.dump(0) == R"([1,"two",{"three":3}])");
    arr[0] = arr[2];  // copy from inside the same value
    CHECK(arr.dump(0) == R"([{"three":3},"two",{"three":3}])");
    Json tree = Json::object({{"child", Json::object({{"leaf", 1}})}});
    tree = tree["child"];  // assign a value its own member
    CHECK(tree.dump(0) == R"({"leaf":1})");
    tree["a"] = tree["leaf"];  // adding a member keeps references valid
    CHECK(tree.dump(0) == R"({"leaf":1,"a":1})");

    Json num = 3;
    CHECK_THROWS_AS(num["x"], std::logic_error);
    CHECK_THROWS_AS(num.push_back(1), std::logic_error);
    CHECK_THROWS_AS(arr[7], std::out_of_range);
}

TEST_CASE("JSON numbers round trip exactly") {
    CHECK(Json(0.1).dump() == "0.1");
    CHECK(Json(1e-300).dump() == "1e-300");
    CHECK(Json(-2.5e10).dump() == "-25000000000");
    CHECK(Json(42).dump() == "42");
    CHECK(Json(-7).dump() == "-7");
    CHECK(Json(1e21).dump() == "1e+21");
    CHECK(Json(1e17).dump() == "1e+17");  // beyond 2^53: shortest form, not all digits
    CHECK(Json(0.0).dump() == "0");
    CHECK(Json(-0.0).dump() == "-0");
    CHECK(Json(std::nan("")).dump() == "null");
    CHECK(Json(std::numeric_limits<double>::infinity()).dump() == "null");
    CHECK(Json(-std::numeric_limits<double>::infinity()).dump() == "null");
    Rand r(5);
    std::vector<double> xs = {0.1, 1e-300, -2.5e10, 123, 5e-324, 2.2250738585072014e-308,
                              1.7976931348623157e308, 9007199254740992.0, 9007199254740994.0,
                              1.0 / 3, -0.0, 2e-3, 123456789.125};
    for (int i = 0; i < 500; ++i) {
        const std::uint64_t bits = r.next();
        double x;
        std::memcpy(&x, &bits, sizeof x);
        if (std::isfinite(x)) xs.push_back(x);
    }
    for (double x : xs) {
        CAPTURE(x);
        const double y = Json::parse(Json(x).dump()).as_number();
        CHECK(std::memcmp(&x, &y, sizeof x) == 0);
    }
    CHECK(Json::parse("1e-400").as_number() == 0.0);
    CHECK(Json::parse("0.0000e-999999999999").as_number() == 0.0);
    CHECK(Json::parse("-1E+2").as_number() == -100.0);
    CHECK(contains(error_of([] { Json::parse("1e400"); }), "out of the range"));
    CHECK(contains(error_of([] { Json::parse("0.001e400"); }), "out of the range"));
    CHECK(format_number(std::nan("")) == "nan");
    CHECK(format_number(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("JSON strings: escaping and UTF-8") {
    const std::string s = std::string("quote\" back\\ nl\n tab\t bell\x07 nul") + '\0' + " é ✓ 😀";
    const std::string dumped = Json(s).dump();
    CHECK(dumped == "\"quote\\\" back\\\\ nl\\n tab\\t bell\\u0007 nul\\u0000 é ✓ 😀\"");
    CHECK(Json::parse(dumped).as_string() == s);
    CHECK(Json::parse(R"("\u00e9\u2713\ud83d\ude00\/\b\f\r")").as_string() == "é✓😀/\b\f\r");
    CHECK(contains(error_of([] { Json::parse(R"("\ud83d")"); }), "unpaired high surrogate"));
    CHECK(contains(error_of([] { Json::parse(R"("\ude00")"); }), "unpaired low surrogate"));
    CHECK(contains(error_of([] { Json::parse(R"("\x")"); }), "invalid escape"));
    CHECK(contains(error_of([] { Json::parse(R"("\u12g4")"); }), "hex digit"));
    CHECK(contains(error_of([] { Json::parse("\"a\nb\""); }), "control character"));
    CHECK(contains(error_of([] { Json::parse("\"\xC3\""); }), "invalid UTF-8"));
    CHECK(contains(error_of([] { Json::parse("\"\xC0\xAF\""); }), "invalid UTF-8"));      // overlong
    CHECK(contains(error_of([] { Json::parse("\"\xED\xA0\x80\""); }), "invalid UTF-8"));  // surrogate
    CHECK(contains(error_of([] { Json::parse("\"\xF4\x90\x80\x80\""); }), "invalid UTF-8"));
    CHECK(contains(error_of([] { Json::parse("\"abc"); }), "unterminated string"));
}

TEST_CASE("JSON parser: structure, errors with positions, depth limit") {
    const Json j = Json::parse(" {\"a\": [1, 2.5, {\"b\": null}], \"c\": \"d\", \"e\": false}\n");
    CHECK(j.at("a").size() == 3);
    CHECK(j.at("a").at(1).as_number() == 2.5);
    CHECK(j.at("a").at(2).at("b").is_null());
    CHECK(j.at("c").as_string() == "d");
    CHECK_FALSE(j.at("e").as_bool());
    CHECK(j.find("zz") == nullptr);
    CHECK(j.as_object().front().first == "a");  // insertion order
    CHECK(j.as_object().back().first == "e");
    CHECK(contains(error_of([&] { j.at("zz"); }), "missing key \"zz\""));
    CHECK(contains(error_of([&] { j.at("c").as_number(); }), "expected a number, found a string"));
    CHECK_THROWS_AS(j.at("a").at(3), FormatError);
    CHECK(Json::parse("3").as_number() == 3);
    CHECK(Json::parse(" \"top\" ").as_string() == "top");
    CHECK(Json::parse("[]").size() == 0);
    CHECK(Json::parse("{}").is_object());

    CHECK(contains(error_of([] { Json::parse("{\"a\": 1,}"); }), "expected a string key at line 1, column 9"));
    CHECK(contains(error_of([] { Json::parse("[1,\n 2,\n  x]"); }), "line 3, column 3"));
    CHECK(contains(error_of([] { Json::parse("[1 2]"); }), "expected ',' or ']' at line 1, column 4"));
    CHECK(contains(error_of([] { Json::parse(""); }), "unexpected end of input"));
    CHECK(contains(error_of([] { Json::parse("[1, 2"); }), "unexpected end of input"));
    CHECK(contains(error_of([] { Json::parse("1 2"); }), "unexpected text after the value"));
    CHECK(contains(error_of([] { Json::parse("{\"a\":1,\"a\":2}"); }), "duplicate key \"a\" at line 1, column 8"));
    CHECK(contains(error_of([] { Json::parse("{\"a\" 1}"); }), "expected ':'"));
    CHECK(contains(error_of([] { Json::parse("nul"); }), "invalid literal"));
    CHECK(contains(error_of([] { Json::parse("'a'"); }), "unexpected character"));
    for (const char* bad : {"01", "1.", "-", ".5", "+1", "1e", "1e+", "-a", "[1,]", "{,}", "[,1]",
                            "tru", "NaN", "Infinity", "[1]]", "{\"a\"}", "\"\\u00\"", "//c\n1"})
        CHECK_THROWS_AS(Json::parse(bad), FormatError);

    std::string many = "{";
    for (int k = 0; k < 20000; ++k) many += (k ? ",\"k" : "\"k") + std::to_string(k) + "\":" + std::to_string(k);
    const Json big = Json::parse(many + "}");
    CHECK(big.size() == 20000);
    CHECK(big.at("k19999").as_number() == 19999);
    CHECK(contains(error_of([&] { Json::parse(many + ",\"k7\":1}"); }), "duplicate key \"k7\""));

    const std::string deep_ok = std::string(256, '[') + std::string(256, ']');
    CHECK(Json::parse(deep_ok).is_array());
    const std::string too_deep = std::string(257, '[') + std::string(257, ']');
    CHECK(contains(error_of([&] { Json::parse(too_deep); }), "deeper than 256"));
    std::string objects;
    for (int k = 0; k < 256; ++k) objects += "{\"a\":";
    CHECK(Json::parse(objects + "1" + std::string(256, '}')).at("a").is_object());
    CHECK(contains(error_of([&] { Json::parse("[" + objects + "1" + std::string(256, '}') + "]"); }),
                   "deeper than 256"));
    const std::string very_deep(100000, '[');  // must not overflow the stack
    CHECK_THROWS_AS(Json::parse(very_deep), FormatError);
}

TEST_CASE("CSV rows quote what needs quoting and keep numbers exact") {
    CHECK(csv_row({"step", "loss", "note"}) == "step,loss,note\n");
    CHECK(csv_row({"a,b", "say \"hi\"", "two\nlines", "cr\r", "plain"}) ==
          "\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",plain\n");
    CHECK(csv_row({1, 0.1, -2.5e10, 1e-300, true, std::int64_t{9007199254740993}}) ==
          "1,0.1,-25000000000,1e-300,true,9007199254740993\n");
    CHECK(csv_row({0.1f, 3.0f, std::nanf(""), -std::numeric_limits<double>::infinity()}) ==
          "0.1,3,nan,-inf\n");
    CHECK(csv_field("") == "");
    std::vector<CsvCell> cells = {std::string("x"), 2};
    CHECK(csv_row(cells) == "x,2\n");
}
