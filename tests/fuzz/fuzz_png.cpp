// libFuzzer entry point for the PNG decoder (src/io/png.h). Any input must either decode or
// throw FormatError; a crash, a sanitizer report, any other exception or a broken property
// below is a bug. Each input is used three ways:
//   1. decoded as it is, with the default pixel limit and with a limit of 64 pixels;
//   2. decoded with every chunk's CRC replaced by the right one (walking the chunks as far as
//      their lengths allow), so that mutations get past the CRCs to the chunk and IHDR checks
//      and to the zlib data behind them (the fuzzer would rarely guess a valid CRC);
//   3. read as an image description — width 1..16, height 1..16, colour type, then the
//      filtered rows (filter byte and samples, zero-padded to the size the header needs) —
//      wrapped into a valid PNG (stored zlib data, right checksums) and decoded. This reaches
//      the row filters with arbitrary bytes; the result is compared with an unfiltering
//      written here from the PNG specification, and must fail exactly when a filter type is
//      above 4.
// A decoded image must have width·height·channels bytes within the limit, and re-encoded by
// encode_png (level chosen by the input) must decode to the same pixels.
//
// Build and run with scripts/fuzz.sh SECONDS png (seeds in corpus/png/, made by encode_png
// and by hand: several IDAT chunks, an ancillary chunk, every colour type).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "src/io/checksum.h"
#include "src/io/deflate.h"
#include "src/io/png.h"

namespace {

using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t kMaxReencode = std::size_t{1} << 16;  // bytes of pixels re-encoded

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put_be32(Bytes& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

constexpr std::size_t kDefaultLimit = 0;  // use decode_png's default pixel limit

void decode_and_check(std::span<const std::uint8_t> in, std::size_t max_pixels, int level) {
    DecodedPng d;
    try {
        d = max_pixels == kDefaultLimit ? decode_png(in) : decode_png(in, max_pixels);
    } catch (const FormatError&) {
        return;
    }
    if (d.width < 1 || d.height < 1 || d.channels < 1 || d.channels > 4) __builtin_trap();
    const std::size_t pixels = std::size_t(d.width) * std::size_t(d.height);
    if (max_pixels != kDefaultLimit && pixels > max_pixels) __builtin_trap();
    if (d.pixels.size() != pixels * std::size_t(d.channels)) __builtin_trap();
    if (d.pixels.size() <= kMaxReencode) {
        const DecodedPng again = decode_png(encode_png(d.width, d.height, d.channels, d.pixels, level));
        if (again.width != d.width || again.height != d.height || again.channels != d.channels ||
            again.pixels != d.pixels)
            __builtin_trap();
    }
}

// `png` with the CRC of each chunk corrected, up to the first chunk that runs past the end.
Bytes fix_crcs(std::span<const std::uint8_t> png) {
    Bytes out(png.begin(), png.end());
    std::size_t pos = 8;  // after the signature
    while (out.size() >= pos + 12) {
        const std::uint32_t len = be32(out.data() + pos);
        if (len > out.size() - pos - 12) break;
        const std::uint32_t crc = crc32(std::span(out).subspan(pos + 4, std::size_t{len} + 4));
        for (std::size_t i = 0; i < 4; ++i) out[pos + 8 + len + i] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
        pos += 12 + std::size_t{len};
    }
    return out;
}

void put_chunk(Bytes& out, const char* type, std::span<const std::uint8_t> data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put_be32(out, crc32(std::span(out).subspan(start)));
}

// Reverses PNG filtering as the specification describes it, one sample at a time.
// raw: [h, 1 + w·bpp]; returns [h, w·bpp], or nothing if a filter type is unknown.
bool unfilter_reference(const Bytes& raw, std::size_t w, std::size_t h, std::size_t bpp, Bytes& out) {
    const std::size_t stride = w * bpp;
    out.assign(h * stride, 0);
    auto at = [&](std::size_t y, long x) -> int {  // reconstructed sample, 0 outside the image
        return x < 0 ? 0 : out[y * stride + std::size_t(x)];
    };
    for (std::size_t y = 0; y < h; ++y) {
        const std::uint8_t type = raw[y * (stride + 1)];
        for (std::size_t x = 0; x < stride; ++x) {
            const int filt = raw[y * (stride + 1) + 1 + x];
            const long xi = static_cast<long>(x), b = static_cast<long>(bpp);
            const int a = at(y, xi - b), up = y ? at(y - 1, xi) : 0, c = y ? at(y - 1, xi - b) : 0;
            int pred = 0;
            switch (type) {
                case 0: pred = 0; break;
                case 1: pred = a; break;
                case 2: pred = up; break;
                case 3: pred = (a + up) >> 1; break;
                case 4: {
                    const int p = a + up - c, pa = std::abs(p - a), pb = std::abs(p - up), pc = std::abs(p - c);
                    pred = (pa <= pb && pa <= pc) ? a : (pb <= pc ? up : c);
                    break;
                }
                default: return false;
            }
            out[y * stride + x] = static_cast<std::uint8_t>((filt + pred) & 0xFF);
        }
    }
    return true;
}

void synthesized(std::span<const std::uint8_t> in) {
    if (in.size() < 3) return;
    static constexpr std::array<std::uint8_t, 4> kColorTypes = {0, 4, 2, 6};  // 1, 2, 3, 4 channels
    const std::size_t w = in[0] % 16 + 1, h = in[1] % 16 + 1, channels = in[2] % 4 + 1;
    const std::size_t stride = w * channels;
    Bytes raw(h * (stride + 1), 0);  // [h, 1 + stride]
    std::copy_n(in.begin() + 3, std::min(raw.size(), in.size() - 3), raw.begin());

    Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    Bytes ihdr;
    put_be32(ihdr, static_cast<std::uint32_t>(w));
    put_be32(ihdr, static_cast<std::uint32_t>(h));
    for (std::uint8_t b : {std::uint8_t{8}, kColorTypes[channels - 1], std::uint8_t{0}, std::uint8_t{0},
                           std::uint8_t{0}})
        ihdr.push_back(b);
    put_chunk(png, "IHDR", ihdr);
    put_chunk(png, "IDAT", zlib_compress(raw, 0));
    put_chunk(png, "IEND", {});

    Bytes expected;
    const bool valid = unfilter_reference(raw, w, h, channels, expected);
    try {
        const DecodedPng d = decode_png(png);
        if (!valid || d.pixels != expected || std::size_t(d.width) != w || std::size_t(d.height) != h ||
            std::size_t(d.channels) != channels)
            __builtin_trap();
    } catch (const FormatError&) {
        if (valid) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    const int level = static_cast<int>(size % 10);
    decode_and_check(in, kDefaultLimit, level);
    decode_and_check(in, 64, level);
    decode_and_check(fix_crcs(in), kDefaultLimit, level);
    synthesized(in);
    return 0;
}
