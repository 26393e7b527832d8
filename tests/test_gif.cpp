// Tests of the GIF writer (src/io/gif.h) against an independent decoder written here from the
// GIF89a specification: block structure, global colour table, NETSCAPE loop and graphic
// control extensions, LZW with variable code widths, clear codes and the KwKwK case, frame
// compositing. Also the colour reduction (exact palettes, nearest-colour mapping, error
// bounds on smooth gradients) and the refusal of invalid arguments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/io/files.h"
#include "src/io/gif.h"
#include "src/plot/image.h"

using namespace nfvi::io;
using nfvi::plot::Image;
using nfvi::plot::Rgb;
using Bytes = std::vector<std::uint8_t>;

namespace {

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
    int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
};

// ---- an independent GIF decoder ---------------------------------------------------------------

struct Decoded {
    int width = 0, height = 0;
    int table_bits = 0;    // the global colour table has 2^table_bits entries
    std::vector<Rgb> gct;  // [2^table_bits]
    int loops = -1;        // from NETSCAPE2.0; -1 if absent
    struct Frame {
        int delay = -1, disposal = -1;  // from the graphic control extension; -1 if none
        int x = 0, y = 0, w = 0, h = 0;
        int min_code_size = 0;
        std::vector<std::uint8_t> rect;         // [h, w] the stored indices
        std::vector<std::uint8_t> canvas;       // [height, width] the picture once this frame is drawn
        int clears = 0, kwkwk = 0, widest = 0;  // LZW: clear codes seen, KwKwK codes, widest code
        int codes_after_clear = 0;              // codes between the last clear and the end code
        std::size_t data_bytes = 0;             // LZW bytes, without sub-block lengths
    };
    std::vector<Frame> frames;
};

struct Reader {
    std::span<const std::uint8_t> b;
    std::size_t pos = 0;
    void need(std::size_t n) const {
        if (b.size() - pos < n)
            throw std::runtime_error("test decoder: truncated at byte " + std::to_string(pos));
    }
    int u8() {
        need(1);
        return b[pos++];
    }
    int u16() {
        const int lo = u8();
        return lo | u8() << 8;
    }
    // Data sub-blocks up to the zero-length terminator, joined.
    Bytes blocks() {
        Bytes out;
        for (int n = u8(); n != 0; n = u8()) {
            need(static_cast<std::size_t>(n));
            out.insert(out.end(), b.begin() + static_cast<std::ptrdiff_t>(pos),
                       b.begin() + static_cast<std::ptrdiff_t>(pos) + n);
            pos += static_cast<std::size_t>(n);
        }
        return out;
    }
};

// LZW decoding with a table of (prefix code, last byte, first byte, length) entries; strings
// are written back to front by following the prefixes.
Bytes lzw_decode(const Bytes& data, int min_code_size, std::size_t npix, Decoded::Frame& f) {
    struct Entry {
        int prefix, last, first, len;
    };
    const int clear = 1 << min_code_size, eoi = clear + 1;
    std::vector<Entry> table;
    int width = 0;
    auto reset = [&] {
        table.clear();
        for (int i = 0; i < clear; ++i) table.push_back({-1, i, i, 1});
        table.push_back({-1, 0, 0, 0});  // clear
        table.push_back({-1, 0, 0, 0});  // end of information
        width = min_code_size + 1;
    };
    reset();
    std::size_t bitpos = 0;
    auto read = [&](int n) {
        if (bitpos + static_cast<std::size_t>(n) > data.size() * 8)
            throw std::runtime_error("test decoder: LZW data end without an end code");
        int v = 0;
        for (int i = 0; i < n; ++i, ++bitpos) v |= (data[bitpos / 8] >> (bitpos % 8) & 1) << i;
        return v;
    };
    Bytes out;
    auto emit = [&](int code) {  // appends the string of `code`, last byte first
        out.resize(out.size() + static_cast<std::size_t>(table[static_cast<std::size_t>(code)].len));
        for (std::size_t i = out.size(); code >= 0; code = table[static_cast<std::size_t>(code)].prefix)
            out[--i] = static_cast<std::uint8_t>(table[static_cast<std::size_t>(code)].last);
    };
    int prev = -1;
    for (;;) {
        f.widest = std::max(f.widest, width);
        const int code = read(width);
        if (code == clear) {
            reset();
            prev = -1;
            ++f.clears;
            f.codes_after_clear = 0;
            continue;
        }
        if (code == eoi) break;
        ++f.codes_after_clear;
        if (prev < 0) {
            if (code > clear)
                throw std::runtime_error("test decoder: first code after a clear is not a root");
            emit(code);
            prev = code;
            continue;
        }
        const int size = static_cast<int>(table.size());
        if (code > size || (code == size && size == 4096))
            throw std::runtime_error("test decoder: code out of range");
        const Entry& p = table[static_cast<std::size_t>(prev)];
        const int first =
            code < size ? table[static_cast<std::size_t>(code)].first : p.first;  // KwKwK: prev's own first
        if (code == size) ++f.kwkwk;
        if (size < 4096) table.push_back({prev, first, p.first, p.len + 1});
        emit(code);
        if (static_cast<int>(table.size()) == 1 << width && width < 12) ++width;
        prev = code;
    }
    if ((bitpos + 7) / 8 != data.size())
        throw std::runtime_error("test decoder: " + std::to_string(data.size() - (bitpos + 7) / 8) +
                                 " bytes after the end code");
    if (out.size() != npix)
        throw std::runtime_error("test decoder: " + std::to_string(out.size()) + " pixels for " +
                                 std::to_string(npix));
    f.data_bytes = data.size();
    return out;
}

Decoded decode(std::span<const std::uint8_t> bytes) {
    Decoded d;
    Reader r{bytes};
    r.need(6);
    if (std::string(bytes.begin(), bytes.begin() + 6) != "GIF89a")
        throw std::runtime_error("test decoder: not GIF89a");
    r.pos = 6;
    d.width = r.u16();
    d.height = r.u16();
    const int flags = r.u8();
    r.u8();  // background colour index
    r.u8();  // pixel aspect ratio
    if (!(flags & 0x80)) throw std::runtime_error("test decoder: no global colour table");
    d.table_bits = (flags & 7) + 1;
    for (int i = 0; i < 1 << d.table_bits; ++i) {
        const int red = r.u8(), green = r.u8(), blue = r.u8();
        d.gct.push_back({static_cast<std::uint8_t>(red), static_cast<std::uint8_t>(green),
                         static_cast<std::uint8_t>(blue)});
    }
    std::vector<std::uint8_t> canvas(static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height),
                                     0);
    int delay = -1, disposal = -1;
    for (;;) {
        const int kind = r.u8();
        if (kind == 0x3B) break;
        if (kind == 0x21) {
            const int label = r.u8();
            if (label == 0xFF) {
                if (r.u8() != 11) throw std::runtime_error("test decoder: application block size");
                r.need(11);
                const std::string app(bytes.begin() + static_cast<std::ptrdiff_t>(r.pos),
                                      bytes.begin() + static_cast<std::ptrdiff_t>(r.pos) + 11);
                r.pos += 11;
                const Bytes data = r.blocks();
                if (app == "NETSCAPE2.0" && data.size() == 3 && data[0] == 1)
                    d.loops = data[1] | data[2] << 8;
            } else if (label == 0xF9) {
                if (r.u8() != 4) throw std::runtime_error("test decoder: graphic control block size");
                disposal = r.u8() >> 2 & 7;
                delay = r.u16();
                r.u8();  // transparent index
                if (r.u8() != 0) throw std::runtime_error("test decoder: graphic control terminator");
            } else {
                r.blocks();
            }
        } else if (kind == 0x2C) {
            Decoded::Frame f;
            f.delay = delay;
            f.disposal = disposal;
            delay = disposal = -1;
            f.x = r.u16();
            f.y = r.u16();
            f.w = r.u16();
            f.h = r.u16();
            if (r.u8() != 0)
                throw std::runtime_error("test decoder: local tables and interlacing are not expected");
            if (f.x + f.w > d.width || f.y + f.h > d.height)
                throw std::runtime_error("test decoder: image off screen");
            f.min_code_size = r.u8();
            const Bytes data = r.blocks();
            const std::size_t n = static_cast<std::size_t>(f.w) * static_cast<std::size_t>(f.h);
            f.rect = lzw_decode(data, f.min_code_size, n, f);
            for (int y = 0; y < f.h; ++y)
                for (int x = 0; x < f.w; ++x)
                    canvas[static_cast<std::size_t>(f.y + y) * static_cast<std::size_t>(d.width) +
                           static_cast<std::size_t>(f.x + x)] = f.rect[static_cast<std::size_t>(y * f.w + x)];
            f.canvas = canvas;
            d.frames.push_back(std::move(f));
        } else {
            throw std::runtime_error("test decoder: unknown block " + std::to_string(kind) + " at byte " +
                                     std::to_string(r.pos - 1));
        }
    }
    if (r.pos != bytes.size()) throw std::runtime_error("test decoder: bytes after the trailer");
    return d;
}

// ---- helpers ----------------------------------------------------------------------------------

std::vector<Rgb> grey_palette(int n) {
    std::vector<Rgb> p;
    for (int i = 0; i < n; ++i) {
        const auto v = static_cast<std::uint8_t>(i * 255 / std::max(1, n - 1));
        p.push_back({v, static_cast<std::uint8_t>(255 - v), static_cast<std::uint8_t>(i % 7 * 30)});
    }
    return p;
}

GifFrame random_frame(int w, int h, int colors, std::uint64_t seed, int max_run = 1) {
    Rand r(seed);
    GifFrame f{w, h, {}};
    while (f.indices.size() < static_cast<std::size_t>(w) * static_cast<std::size_t>(h)) {
        const auto v = static_cast<std::uint8_t>(r.below(colors));
        const int run = 1 + r.below(max_run);
        for (int i = 0;
             i < run && f.indices.size() < static_cast<std::size_t>(w) * static_cast<std::size_t>(h); ++i)
            f.indices.push_back(v);
    }
    return f;
}

// Encodes, decodes, and checks that the frames come back exactly with the given palette.
Decoded round_trip(const std::vector<GifFrame>& frames, const std::vector<Rgb>& palette, int delay = 5,
                   int loops = 0) {
    const Bytes gif = encode_gif(frames, palette, delay, loops);
    const Decoded d = decode(gif);
    CHECK(d.width == frames[0].width);
    CHECK(d.height == frames[0].height);
    REQUIRE(d.frames.size() == frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        CHECK(d.frames[i].canvas == frames[i].indices);
        CHECK(d.frames[i].delay == delay);
        CHECK(d.frames[i].disposal == 1);
    }
    int bits = 1;
    while ((std::size_t{1} << bits) < palette.size()) ++bits;
    CHECK(d.table_bits == bits);
    for (std::size_t i = 0; i < d.gct.size(); ++i)
        CHECK(d.gct[i] == (i < palette.size() ? palette[i] : Rgb{0, 0, 0}));
    for (const auto& f : d.frames) CHECK(f.min_code_size == std::max(2, bits));
    CHECK(d.loops == loops);
    return d;
}

int dist2(Rgb a, Rgb b) {
    const int dr = a.r - b.r, dg = a.g - b.g, db = a.b - b.b;
    return dr * dr + dg * dg + db * db;
}

// Checks that every pixel got its nearest palette colour (brute force) and returns the
// largest and mean distance of a pixel to its colour.
struct ErrorStats {
    double max = 0, mean = 0;
};
ErrorStats check_nearest(const std::vector<Image>& images, const IndexedFrames& q) {
    ErrorStats e;
    std::size_t n = 0, bad = 0;
    REQUIRE(q.frames.size() == images.size());
    for (std::size_t f = 0; f < images.size(); ++f)
        for (int y = 0; y < images[f].height(); ++y)
            for (int x = 0; x < images[f].width(); ++x) {
                const Rgb c = images[f].at(x, y);
                const std::size_t i =
                    q.frames[f].indices[static_cast<std::size_t>(y * images[f].width() + x)];
                REQUIRE(i < q.palette.size());
                const int d = dist2(c, q.palette[i]);
                int best = d;
                for (const Rgb p : q.palette) best = std::min(best, dist2(c, p));
                bad += d != best;
                e.max = std::max(e.max, std::sqrt(double(d)));
                e.mean += std::sqrt(double(d));
                ++n;
            }
    CHECK(bad == 0);
    e.mean /= double(n);
    return e;
}

}  // namespace

// ---- LZW and file structure -------------------------------------------------------------------

TEST_CASE("gif: a 1x1 frame with a one-colour palette") {
    const Decoded d = round_trip({GifFrame{1, 1, {0}}}, {{200, 10, 30}});
    CHECK(d.table_bits == 1);  // padded to 2 entries
    CHECK(d.gct[1] == Rgb{0, 0, 0});
    CHECK(d.frames[0].min_code_size == 2);
    CHECK(d.frames[0].rect == Bytes{0});
}

TEST_CASE("gif: a frame of two colours") {
    GifFrame f{7, 5, {}};
    for (int i = 0; i < 35; ++i) f.indices.push_back(i % 3 == 0 ? 1 : 0);
    const Decoded d = round_trip({f}, {{255, 255, 255}, {0, 0, 0}});
    CHECK(d.frames[0].x == 0);
    CHECK(d.frames[0].w == 7);
    CHECK(d.frames[0].h == 5);
}

TEST_CASE("gif: random indices over 256 colours reset the code table many times") {
    const Decoded d = round_trip({random_frame(320, 200, 256, 1)}, grey_palette(256));
    CHECK(d.table_bits == 8);
    CHECK(d.frames[0].min_code_size == 8);
    // 64000 nearly incompressible pixels need ~60000 codes: a clear every 4096 - 258 of them.
    CHECK(d.frames[0].clears >= 14);  // counting the one at the start
    CHECK(d.frames[0].widest == 12);
}

TEST_CASE("gif: a long run of one index is compressed and decodes (KwKwK codes)") {
    GifFrame f{1000, 60, Bytes(60000, 3)};
    const Decoded d = round_trip({f}, grey_palette(4));
    // A run of n pixels takes about sqrt(2n) ~ 350 codes of at most 9 bits, each code but
    // the first a KwKwK code (the string the decoder has not yet built).
    CHECK(d.frames[0].kwkwk > 300);
    CHECK(d.frames[0].data_bytes < 500);
    CHECK(d.frames[0].clears == 1);
}

TEST_CASE("gif: runs and noise mixed, for every palette size class") {
    for (int colors : {1, 2, 3, 4, 5, 8, 9, 16, 17, 31, 32, 64, 100, 128, 129, 200, 255, 256}) {
        CAPTURE(colors);
        round_trip({random_frame(97, 61, colors, 10 + static_cast<std::uint64_t>(colors), 40)},
                   grey_palette(colors));
    }
}

TEST_CASE("gif: the end code is as wide as the decoder expects, for every stream length") {
    // The code width grows as the table fills; the end code must follow it exactly. Sweeping
    // the length of a one-row frame puts the end after every width change and, near 3838 codes
    // with 256 colours, right around the clear code (the frames of one sweep are prefixes of
    // each other, so the number of codes grows with n).
    for (int n = 1; n <= 300; ++n) {
        CAPTURE(n);
        round_trip({random_frame(n, 1, 4, 100 + static_cast<std::uint64_t>(n))}, grey_palette(4));
    }
    for (int n = 1; n <= 600; n += 1) {
        CAPTURE(n);
        round_trip({random_frame(n, 1, 256, 1000 + static_cast<std::uint64_t>(n))}, grey_palette(256));
    }
    int one_code_after_clear = 0;
    for (int n = 3900; n <= 4100; ++n) {
        CAPTURE(n);
        const Decoded d = round_trip({random_frame(n, 1, 256, 5000)}, grey_palette(256));
        one_code_after_clear += d.frames[0].clears == 2 && d.frames[0].codes_after_clear == 1;
    }
    CHECK(one_code_after_clear == 1);  // the sweep ended right after the clear code once
}

TEST_CASE("gif: several frames store only what changed and composite back exactly") {
    const std::vector<Rgb> palette = grey_palette(6);
    std::vector<GifFrame> frames{random_frame(40, 30, 6, 7, 5)};
    GifFrame f1 = frames[0];
    for (int y = 7; y < 20; ++y)
        for (int x = 5; x < 12; ++x) {
            std::uint8_t& v = f1.indices[static_cast<std::size_t>(y * 40 + x)];
            v = static_cast<std::uint8_t>((v + 1) % 6);
        }
    frames.push_back(f1);
    frames.push_back(f1);  // unchanged
    GifFrame f3 = f1;
    f3.indices.back() = static_cast<std::uint8_t>((f3.indices.back() + 2) % 6);
    frames.push_back(f3);
    frames.push_back(random_frame(40, 30, 6, 8, 5));
    const Decoded d = round_trip(frames, palette, 12, 3);
    auto rect = [&](std::size_t i) {
        const auto& f = d.frames[i];
        return std::vector<int>{f.x, f.y, f.w, f.h};
    };
    CHECK(rect(0) == std::vector<int>{0, 0, 40, 30});
    CHECK(rect(1) == std::vector<int>{5, 7, 7, 13});
    CHECK(rect(2) == std::vector<int>{0, 0, 1, 1});
    CHECK(d.frames[2].rect == Bytes{f1.indices[0]});
    CHECK(rect(3) == std::vector<int>{39, 29, 1, 1});
    CHECK(rect(4)[2] * rect(4)[3] > 30 * 30);  // nearly everything changed
}

TEST_CASE("gif: header, loop extension, delays and trailer bytes") {
    const std::vector<Rgb> palette = grey_palette(5);
    for (int loops : {0, 1, 7, 65535})
        for (int delay : {0, 7, 65535}) {
            CAPTURE(loops);
            CAPTURE(delay);
            const std::vector<GifFrame> frames{random_frame(9, 4, 5, 1), random_frame(9, 4, 5, 2)};
            const Bytes gif = encode_gif(frames, palette, delay, loops);
            REQUIRE(gif.size() > 13 + 24 + 19);
            CHECK(std::string(gif.begin(), gif.begin() + 6) == "GIF89a");
            CHECK(gif[6] == 9);  // width, little-endian
            CHECK(gif[7] == 0);
            CHECK(gif[8] == 4);
            CHECK(gif[10] == (0x80 | 0x70 | 2));  // global table of 2^3 entries, 8-bit colour
            // The NETSCAPE2.0 block right after the 8-entry colour table.
            const std::size_t at = 13 + 3 * 8;
            const Bytes app(gif.begin() + static_cast<std::ptrdiff_t>(at),
                            gif.begin() + static_cast<std::ptrdiff_t>(at) + 19);
            const Bytes want{0x21,
                             0xFF,
                             11,
                             'N',
                             'E',
                             'T',
                             'S',
                             'C',
                             'A',
                             'P',
                             'E',
                             '2',
                             '.',
                             '0',
                             3,
                             1,
                             static_cast<std::uint8_t>(loops & 0xFF),
                             static_cast<std::uint8_t>(loops >> 8),
                             0};
            CHECK(app == want);
            // The first graphic control extension follows it.
            const Bytes gce(gif.begin() + static_cast<std::ptrdiff_t>(at) + 19,
                            gif.begin() + static_cast<std::ptrdiff_t>(at) + 27);
            CHECK(gce == Bytes{0x21, 0xF9, 4, 4, static_cast<std::uint8_t>(delay & 0xFF),
                               static_cast<std::uint8_t>(delay >> 8), 0, 0});
            CHECK(gif.back() == 0x3B);
            round_trip(frames, palette, delay, loops);
        }
}

TEST_CASE("gif: write_gif writes the encoded bytes") {
    std::random_device rd;
    const auto dir = std::filesystem::temp_directory_path() /
                     ("nfvi_test_gif_" + std::to_string(rd()) + "_" + std::to_string(rd()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "a.gif").string();
    std::vector<Image> frames{Image(20, 10, {1, 2, 3}), Image(20, 10, {200, 100, 50})};
    frames[1].fill_rect(3, 3, 4, 4, {0, 0, 0});
    write_gif(path, frames, 20, 2);
    CHECK(read_file(path) == encode_gif(frames, 20, 2));
    std::filesystem::remove_all(dir);
    CHECK_THROWS_AS(write_gif((dir / "missing" / "b.gif").string(), frames, 20), IoError);
}

// ---- colour reduction -------------------------------------------------------------------------

TEST_CASE("gif: up to 256 colours are kept exactly") {
    // Two frames of 256 distinct colours in all, some only in the second frame.
    std::vector<Image> frames{Image(32, 8), Image(32, 8)};
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 32; ++x) {
            const int i = y * 32 + x;
            for (std::size_t f = 0; f < 2; ++f) {
                const int v = f == 0 ? i % 200 : 100 + i % 156;  // 0..199, then 100..255
                frames[f].at(x, y) = {static_cast<std::uint8_t>(v), static_cast<std::uint8_t>(255 - v),
                                      static_cast<std::uint8_t>(v * 7 % 256)};
            }
        }
    std::vector<std::uint32_t> distinct;
    for (const Image& f : frames)
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 32; ++x) {
                const Rgb c = f.at(x, y);
                distinct.push_back(std::uint32_t(c.r) << 16 | std::uint32_t(c.g) << 8 | c.b);
            }
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    REQUIRE(distinct.size() == 256);

    const IndexedFrames q = quantize(frames);
    REQUIRE(q.palette.size() == 256);
    for (std::size_t i = 0; i < 256; ++i)  // the colours themselves, sorted
        CHECK((std::uint32_t(q.palette[i].r) << 16 | std::uint32_t(q.palette[i].g) << 8 | q.palette[i].b) ==
              distinct[i]);
    const Decoded d = decode(encode_gif(frames, 10));
    CHECK(d.gct == q.palette);
    for (std::size_t f = 0; f < 2; ++f)
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 32; ++x)
                CHECK(d.gct[d.frames[f].canvas[static_cast<std::size_t>(y * 32 + x)]] == frames[f].at(x, y));

    // A few colours give a small table.
    const Image two(5, 5, {10, 20, 30});
    const Decoded small = decode(encode_gif(std::vector<Image>{two}, 10));
    CHECK(small.table_bits == 1);
    CHECK(small.gct[0] == Rgb{10, 20, 30});
}

TEST_CASE("gif: 257 colours lose only one grey step") {
    // 256 greys and a red: the best 256-colour palette merges two neighbouring greys, so one
    // grey moves by one step in every channel (distance sqrt 3); everything else stays exact.
    Image img(257, 3);
    for (int x = 0; x < 256; ++x)
        for (int y = 0; y < 3; ++y)
            img.at(x, y) = {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(x),
                            static_cast<std::uint8_t>(x)};
    for (int y = 0; y < 3; ++y) img.at(256, y) = {255, 0, 0};
    const std::vector<Image> frames{img};
    const IndexedFrames q = quantize(frames);
    CHECK(q.palette.size() == 256);
    const ErrorStats e = check_nearest(frames, q);
    CHECK(e.max <= std::sqrt(3.0) + 1e-9);
    int inexact = 0;
    for (int x = 0; x < 257; ++x)
        inexact += !(q.palette[q.frames[0].indices[static_cast<std::size_t>(x)]] == img.at(x, 0));
    CHECK(inexact == 1);
}

TEST_CASE("gif: a smooth ramp of 400 colours keeps within a fraction of a step") {
    // The colours lie on a segment of length |(230, 180, -170)| = 337.9 in RGB. 256 evenly
    // spaced representatives would be 337.9 / 255 = 1.33 apart, leaving every colour within
    // 0.66 of one; rounding a representative to 8 bits adds at most sqrt(3) / 2 = 0.87. So a
    // good quantizer keeps every pixel within 0.66 + 0.87 = 1.53 of its colour.
    Image img(400, 6);
    for (int x = 0; x < 400; ++x)
        for (int y = 0; y < 6; ++y) {
            const double t = x / 399.0;
            img.at(x, y) = {static_cast<std::uint8_t>(std::lround(20 + 230 * t)),
                            static_cast<std::uint8_t>(std::lround(40 + 180 * t)),
                            static_cast<std::uint8_t>(std::lround(200 - 170 * t))};
        }
    const std::vector<Image> frames{img};
    const IndexedFrames q = quantize(frames);
    CHECK(q.palette.size() == 256);
    const ErrorStats e = check_nearest(frames, q);
    CHECK(e.max <= 1.53);
    CHECK(e.mean < 0.5);
    // The GIF shows the same colours.
    const Decoded d = decode(encode_gif(frames, 4));
    for (int x = 0; x < 400; ++x)
        CHECK(d.gct[d.frames[0].canvas[static_cast<std::size_t>(x)]] ==
              q.palette[q.frames[0].indices[static_cast<std::size_t>(x)]]);
}

TEST_CASE("gif: a 2-D gradient of 65536 colours is tiled evenly") {
    // (r, g) = (x, y) over a 256 x 256 square: 256 colours tile it at best as 16 x 16 squares,
    // each represented by its centre rounded to 8 bits, (8, 8) from the farthest corner: a
    // largest error of 8 sqrt 2 = 11.3 and a mean of about 6.1. Allow 10% over the ideal.
    Image img(256, 256);
    for (int y = 0; y < 256; ++y)
        for (int x = 0; x < 256; ++x)
            img.at(x, y) = {static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(y), 128};
    const std::vector<Image> frames{img};
    const IndexedFrames q = quantize(frames);
    const ErrorStats e = check_nearest(frames, q);
    CHECK(e.max <= 1.1 * 8 * std::sqrt(2.0));
    CHECK(e.mean <= 1.1 * 6.2);
}

TEST_CASE("gif: more colours than the exact histogram holds are still mapped to their nearest") {
    // 90000 distinct colours: the histogram pools them into cells, but each pixel still gets
    // its own nearest palette colour; the result is deterministic.
    std::vector<Image> frames{Image(300, 150), Image(300, 150)};
    for (std::size_t f = 0; f < 2; ++f)
        for (int y = 0; y < 150; ++y)
            for (int x = 0; x < 300; ++x) {
                const int i = static_cast<int>(f) * 45000 + y * 300 + x;
                frames[f].at(x, y) = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i >> 8),
                                      static_cast<std::uint8_t>((i >> 16) * 100 + (i & 15) * 4)};
            }
    const IndexedFrames q = quantize(frames);
    CHECK(q.palette.size() > 200);
    CHECK(q.palette.size() <= 256);
    const ErrorStats e = check_nearest(frames, q);
    CHECK(e.mean < 20);
    const IndexedFrames again = quantize(frames);
    CHECK(again.palette == q.palette);
    CHECK(again.frames[1].indices == q.frames[1].indices);
}

TEST_CASE("gif: quantize to fewer colours") {
    Image img(64, 4);
    for (int x = 0; x < 64; ++x)
        for (int y = 0; y < 4; ++y)
            img.at(x, y) = {static_cast<std::uint8_t>(x * 4), 0, static_cast<std::uint8_t>(y * 80)};
    const std::vector<Image> frames{img};
    const IndexedFrames q = quantize(frames, 8);
    CHECK(q.palette.size() == 8);
    check_nearest(frames, q);
}

// ---- refusals ---------------------------------------------------------------------------------

TEST_CASE("gif: invalid arguments are refused with a clear message") {
    const std::vector<Rgb> pal = grey_palette(4);
    const std::vector<GifFrame> ok{random_frame(4, 3, 4, 1)};
    auto throws = [](auto&& fn, const char* part) {
        CAPTURE(part);
        try {
            fn();
            FAIL("no exception");
        } catch (const std::invalid_argument& e) {
            CHECK(std::string(e.what()).find(part) != std::string::npos);
        }
    };
    throws([&] { encode_gif(std::vector<GifFrame>{}, pal, 10); }, "no frames");
    throws([&] { encode_gif(ok, std::vector<Rgb>{}, 10); }, "palette of 0");
    throws([&] { encode_gif(ok, grey_palette(257), 10); }, "palette of 257");
    throws([&] { encode_gif(ok, pal, -1); }, "delay of -1");
    throws([&] { encode_gif(ok, pal, 65536); }, "delay of 65536");
    throws([&] { encode_gif(ok, pal, 10, -1); }, "loop count -1");
    throws([&] { encode_gif(ok, pal, 10, 65536); }, "loop count 65536");
    throws([&] { encode_gif(std::vector<GifFrame>{random_frame(4, 3, 5, 1)}, pal, 10); }, "colour index 4");
    throws([&] { encode_gif(std::vector<GifFrame>{ok[0], random_frame(3, 4, 4, 2)}, pal, 10); }, "same size");
    throws([&] { encode_gif(std::vector<GifFrame>{GifFrame{4, 3, Bytes(11, 0)}}, pal, 10); }, "11 indices");
    throws([&] { encode_gif(std::vector<GifFrame>{GifFrame{0, 3, {}}}, pal, 10); }, "frame size 0x3");
    throws([&] { encode_gif(std::vector<GifFrame>{GifFrame{65536, 1, Bytes(65536, 0)}}, pal, 10); }, "65535");
    throws([&] { encode_gif(std::vector<Image>{}, 10); }, "no frames");
    throws([&] { encode_gif(std::vector<Image>{Image(3, 3), Image(3, 4)}, 10); }, "same size");
    throws([&] { encode_gif(std::vector<Image>{Image(3, 3), Image()}, 10); }, "empty");
    throws([&] { encode_gif(std::vector<Image>{Image(3, 3)}, 70000); }, "delay");
    throws([&] { quantize(std::vector<Image>{Image(3, 3)}, 1); }, "max_colors 1");
    throws([&] { quantize(std::vector<Image>{Image(3, 3)}, 257); }, "max_colors 257");
    throws([&] { quantize(std::vector<Image>{}); }, "no frames");
}
