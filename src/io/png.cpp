// PNG encoding with per-row adaptive filtering, and a strict decoder for the same subset.
#include "src/io/png.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "src/io/checksum.h"
#include "src/io/deflate.h"
#include "src/io/inflate.h"

namespace nfvi::io {

namespace {

constexpr std::array<std::uint8_t, 8> kSignature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
constexpr std::size_t kIdatMax = std::size_t{1} << 16;
constexpr std::uint32_t kMaxDimension = 0x7FFFFFFF;  // PNG's limit on width, height, chunk length

enum Filter : std::uint8_t { kNone = 0, kSub = 1, kUp = 2, kAverage = 3, kPaeth = 4 };

int color_type_of(int channels) {
    switch (channels) {
        case 1: return 0;
        case 2: return 4;
        case 3: return 2;
        default: return 6;
    }
}

std::uint8_t paeth(int a, int b, int c) {
    const int p = a + b - c;
    const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
    if (pa <= pb && pa <= pc) return static_cast<std::uint8_t>(a);
    if (pb <= pc) return static_cast<std::uint8_t>(b);
    return static_cast<std::uint8_t>(c);
}

// Filters `row` (with `up` the row above, zeros for the first) into out[0..n) with filter f.
void filter_row(Filter f, const std::uint8_t* row, const std::uint8_t* up, std::size_t n,
                std::size_t bpp, std::uint8_t* out) {
    for (std::size_t i = 0; i < n; ++i) {
        const int a = i >= bpp ? row[i - bpp] : 0, b = up[i], c = i >= bpp ? up[i - bpp] : 0;
        int pred = 0;
        switch (f) {
            case kNone: pred = 0; break;
            case kSub: pred = a; break;
            case kUp: pred = b; break;
            case kAverage: pred = (a + b) / 2; break;
            case kPaeth: pred = paeth(a, b, c); break;
        }
        out[i] = static_cast<std::uint8_t>(row[i] - pred);
    }
}

// Sum of the bytes taken as signed values' magnitudes: small when the filter predicts well.
std::uint64_t cost(const std::uint8_t* p, std::size_t n) {
    std::uint64_t s = 0;
    for (std::size_t i = 0; i < n; ++i) s += p[i] < 128 ? p[i] : 256 - p[i];
    return s;
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

void put_chunk(std::vector<std::uint8_t>& out, const char* type, std::span<const std::uint8_t> data) {
    put_be32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.insert(out.end(), type, type + 4);
    out.insert(out.end(), data.begin(), data.end());
    put_be32(out, crc32(std::span(out).subspan(start)));
}

[[noreturn]] void fail(const std::string& msg) { throw FormatError("png: " + msg); }

}  // namespace

std::vector<std::uint8_t> encode_png(int width, int height, int channels,
                                     std::span<const std::uint8_t> pixels, int level) {
    if (width < 1 || height < 1)
        throw std::invalid_argument("encode_png: image size " + std::to_string(width) + "x" +
                                    std::to_string(height) + " is empty or negative");
    if (channels < 1 || channels > 4)
        throw std::invalid_argument("encode_png: " + std::to_string(channels) +
                                    " channels (use 1 gray, 2 gray+alpha, 3 RGB or 4 RGBA)");
    if (level < 0 || level > 9)
        throw std::invalid_argument("encode_png: compression level " + std::to_string(level) +
                                    " is out of range (use 0 to 9)");
    const auto bpp = static_cast<std::size_t>(channels);
    const std::size_t stride = static_cast<std::size_t>(width) * bpp;
    const auto h = static_cast<std::size_t>(height);
    if (pixels.size() / stride != h || pixels.size() % stride != 0)
        throw std::invalid_argument("encode_png: " + std::to_string(pixels.size()) +
                                    " bytes of pixels for a " + std::to_string(width) + "x" +
                                    std::to_string(height) + "x" + std::to_string(channels) +
                                    " image");

    // filtered: [height, 1 + stride], each row its filter type then the filtered bytes.
    std::vector<std::uint8_t> filtered(h * (stride + 1));
    std::vector<std::uint8_t> zeros(stride, 0), trial(stride), best(stride);
    for (std::size_t y = 0; y < h; ++y) {
        const std::uint8_t* row = pixels.data() + y * stride;
        const std::uint8_t* up = y ? row - stride : zeros.data();
        std::uint8_t* dst = filtered.data() + y * (stride + 1);
        Filter chosen = kNone;
        if (level > 0) {
            std::uint64_t best_cost = UINT64_MAX;
            for (Filter f : {kNone, kSub, kUp, kAverage, kPaeth}) {
                filter_row(f, row, up, stride, bpp, trial.data());
                const std::uint64_t c = cost(trial.data(), stride);
                if (c < best_cost) {
                    best_cost = c;
                    chosen = f;
                    best.swap(trial);
                }
            }
            std::copy(best.begin(), best.end(), dst + 1);
        } else {
            std::copy(row, row + stride, dst + 1);
        }
        dst[0] = chosen;
    }
    const std::vector<std::uint8_t> z = zlib_compress(filtered, level);

    std::vector<std::uint8_t> out(kSignature.begin(), kSignature.end());
    out.reserve(z.size() + z.size() / kIdatMax * 12 + 64);
    std::vector<std::uint8_t> ihdr;
    put_be32(ihdr, static_cast<std::uint32_t>(width));
    put_be32(ihdr, static_cast<std::uint32_t>(height));
    const std::uint8_t rest[5] = {8, static_cast<std::uint8_t>(color_type_of(channels)), 0, 0, 0};
    ihdr.insert(ihdr.end(), rest, rest + 5);  // depth, color type, compression, filter, interlace
    put_chunk(out, "IHDR", ihdr);
    for (std::size_t at = 0; at < z.size(); at += kIdatMax)
        put_chunk(out, "IDAT", std::span(z).subspan(at, std::min(kIdatMax, z.size() - at)));
    put_chunk(out, "IEND", {});
    return out;
}

DecodedPng decode_png(std::span<const std::uint8_t> bytes, std::size_t max_pixels) {
    if (bytes.size() < kSignature.size() || !std::equal(kSignature.begin(), kSignature.end(), bytes.begin()))
        fail("not a PNG file (the 8-byte signature is missing)");
    DecodedPng img;
    std::vector<std::uint8_t> idat;
    bool have_header = false, have_end = false;
    std::size_t pos = kSignature.size();
    while (pos < bytes.size() && !have_end) {
        if (bytes.size() - pos < 12)
            fail("truncated chunk header at byte " + std::to_string(pos) + " (the file is cut short)");
        const std::uint32_t len = be32(bytes.data() + pos);
        const std::uint8_t* t = bytes.data() + pos + 4;
        for (int i = 0; i < 4; ++i)
            if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z')))
                fail("invalid chunk type at byte " + std::to_string(pos + 4) + " (the file is corrupt)");
        const std::string type(reinterpret_cast<const char*>(t), 4);
        const std::string at = "chunk '" + type + "' at byte " + std::to_string(pos);
        if (len > kMaxDimension) fail(at + " has an invalid length of " + std::to_string(len));
        if (bytes.size() - pos - 12 < len)
            fail(at + " runs past the end of the file (the file is truncated)");
        const auto data = bytes.subspan(pos + 8, len);
        const std::uint32_t stored = be32(bytes.data() + pos + 8 + len);
        if (crc32(bytes.subspan(pos + 4, len + 4)) != stored)
            fail("CRC mismatch in " + at + " (the file is corrupt)");
        pos += 12 + std::size_t{len};

        if (!have_header && type != "IHDR") fail("the first chunk is '" + type + "', not IHDR");
        if (type == "IHDR") {
            if (have_header) fail("second IHDR " + at);
            if (len != 13) fail("IHDR " + at + " has " + std::to_string(len) + " bytes instead of 13");
            const std::uint32_t w = be32(data.data()), h = be32(data.data() + 4);
            const unsigned depth = data[8], color = data[9];
            if (w == 0 || h == 0 || w > kMaxDimension || h > kMaxDimension)
                fail("invalid image size " + std::to_string(w) + "x" + std::to_string(h) + " in IHDR");
            if (data[10] != 0) fail("unknown compression method " + std::to_string(data[10]) + " in IHDR");
            if (data[11] != 0) fail("unknown filter method " + std::to_string(data[11]) + " in IHDR");
            if (data[12] > 1) fail("unknown interlace method " + std::to_string(data[12]) + " in IHDR");
            switch (color) {
                case 0: img.channels = 1; break;
                case 2: img.channels = 3; break;
                case 4: img.channels = 2; break;
                case 6: img.channels = 4; break;
                case 3: fail("palette images are not supported (use gray, RGB or RGBA)");
                default: fail("invalid color type " + std::to_string(color) + " in IHDR");
            }
            if (depth != 8)
                fail("bit depth " + std::to_string(depth) + " is not supported (only 8 bits per sample)");
            if (data[12] == 1) fail("interlaced images are not supported");
            if (std::uint64_t{w} * h > max_pixels)
                fail("image of " + std::to_string(w) + "x" + std::to_string(h) +
                     " pixels exceeds the limit of " + std::to_string(max_pixels) + " pixels");
            img.width = static_cast<int>(w);
            img.height = static_cast<int>(h);
            have_header = true;
        } else if (type == "IDAT") {
            idat.insert(idat.end(), data.begin(), data.end());
        } else if (type == "IEND") {
            have_end = true;
        } else if (type[0] >= 'A' && type[0] <= 'Z' && type != "PLTE") {
            fail("unsupported critical " + at);
        }  // ancillary chunks (and a suggested palette) are skipped
    }
    if (!have_end) fail("no IEND chunk (the file is truncated)");
    if (idat.empty()) fail("no image data (IDAT chunk)");

    const auto bpp = static_cast<std::size_t>(img.channels);
    const std::size_t stride = static_cast<std::size_t>(img.width) * bpp;
    const auto h = static_cast<std::size_t>(img.height);
    if (h > SIZE_MAX / (stride + 1))
        fail("image of " + std::to_string(img.width) + "x" + std::to_string(img.height) +
             " pixels is too large for this machine");
    const std::size_t expected = h * (stride + 1);
    std::vector<std::uint8_t> raw;
    try {
        raw = zlib_decompress(idat, expected);
    } catch (const FormatError& e) {
        fail(std::string("image data (the IDAT chunks joined): ") + e.what());
    }
    if (raw.size() != expected)
        fail("image data has " + std::to_string(raw.size()) + " bytes, expected " +
             std::to_string(expected) + " for " + std::to_string(img.width) + "x" +
             std::to_string(img.height) + "x" + std::to_string(img.channels));

    img.pixels.resize(h * stride);
    const std::vector<std::uint8_t> zeros(stride, 0);
    for (std::size_t y = 0; y < h; ++y) {
        const std::uint8_t* src = raw.data() + y * (stride + 1);
        std::uint8_t* row = img.pixels.data() + y * stride;
        const std::uint8_t* up = y ? row - stride : zeros.data();
        const unsigned f = src[0];
        ++src;
        switch (f) {
            case kNone: std::copy(src, src + stride, row); break;
            case kSub:
                for (std::size_t i = 0; i < stride; ++i)
                    row[i] = static_cast<std::uint8_t>(src[i] + (i >= bpp ? row[i - bpp] : 0));
                break;
            case kUp:
                for (std::size_t i = 0; i < stride; ++i) row[i] = static_cast<std::uint8_t>(src[i] + up[i]);
                break;
            case kAverage:
                for (std::size_t i = 0; i < stride; ++i) {
                    const int a = i >= bpp ? row[i - bpp] : 0;
                    row[i] = static_cast<std::uint8_t>(src[i] + (a + up[i]) / 2);
                }
                break;
            case kPaeth:
                for (std::size_t i = 0; i < stride; ++i) {
                    const int a = i >= bpp ? row[i - bpp] : 0, c = i >= bpp ? up[i - bpp] : 0;
                    row[i] = static_cast<std::uint8_t>(src[i] + paeth(a, up[i], c));
                }
                break;
            default:
                fail("invalid filter type " + std::to_string(f) + " on row " + std::to_string(y));
        }
    }
    return img;
}

}  // namespace nfvi::io
