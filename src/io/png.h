// PNG (ISO/IEC 15948) writer and reader for 8-bit, non-interlaced images.
//
// Pixels are row-major, top row first, `channels` interleaved bytes per pixel:
// 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA.   pixels: [height, width, channels]
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "src/io/error.h"

namespace nfvi::io {

// A complete PNG file: signature, IHDR, IDAT chunks of at most 64 KiB, IEND. Each row gets
// the filter (None, Sub, Up, Average, Paeth) whose output has the smallest sum of absolute
// values (as signed bytes), the usual heuristic; level 0 stores rows unfiltered and
// uncompressed. Wrong sizes, a channel count other than 1-4 or a level outside 0..9 throw
// std::invalid_argument.
std::vector<std::uint8_t> encode_png(int width, int height, int channels,
                                     std::span<const std::uint8_t> pixels, int level = 6);

struct DecodedPng {
    int width = 0, height = 0, channels = 0;
    std::vector<std::uint8_t> pixels;  // [height, width, channels]
};

// Reads an 8-bit gray, gray + alpha, RGB or RGBA PNG without interlacing: any filter types,
// any number of IDAT chunks; ancillary chunks and bytes after IEND are skipped. The
// signature, every chunk CRC, the IHDR fields and the size of the image data are checked; an
// image of more than `max_pixels` pixels is refused before its data are decompressed.
// Anything else throws FormatError (palette, 16-bit and interlaced images are reported as
// unsupported).
DecodedPng decode_png(std::span<const std::uint8_t> bytes, std::size_t max_pixels = std::size_t{1} << 26);

}  // namespace nfvi::io
