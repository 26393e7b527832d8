// Animated GIF (GIF89a) writer: indexed frames with one global colour table, LZW-compressed,
// looping via the NETSCAPE2.0 extension; and the colour reduction that turns RGB images
// into such frames (exact when they use at most 256 colours, variance-based box splitting
// refined by k-means otherwise).
//
// Frames: pixels are row-major, top row first.   indices: [height, width] palette indices
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "src/io/error.h"
#include "src/plot/image.h"

namespace nfvi::io {

struct GifFrame {
    int width = 0, height = 0;
    std::vector<std::uint8_t> indices;  // [height, width] palette indices
};

// A complete GIF89a file: header, logical screen of the first frame's size with a global
// colour table (the palette padded with black to a power of two, 2..256 entries), the
// NETSCAPE2.0 loop extension (`loops` repeats, 0 = forever), then per frame a graphic control
// extension (delay in 1/100 s, disposal "leave in place") and an image, and the trailer.
// Every frame after the first is stored as the smallest rectangle holding the pixels that
// differ from the frame before (1x1 if none do), drawn over it; a viewer shows exactly the
// frames given. Image data are LZW-coded with a clear code whenever the 4096-entry table
// fills, in sub-blocks of at most 255 bytes.
// Viewers differ in two details: browsers show delays below 2 (1/50 s) as 10, and some play
// a loop count of n as n + 1 plays.
// Throws std::invalid_argument if there are no frames, a frame's size differs from the first
// or is outside 1..65535, a frame's index count is not width * height, an index is not below
// palette.size(), the palette is empty or has more than 256 colours, the delay is outside
// 0..65535 or loops is outside 0..65535.
std::vector<std::uint8_t> encode_gif(std::span<const GifFrame> frames, std::span<const plot::Rgb> palette,
                                     int delay_centiseconds, int loops = 0);

// RGB frames (all of the first one's size) as a GIF: quantize(frames, 256), then the above.
// Throws std::invalid_argument as above (and before any colour reduction).
std::vector<std::uint8_t> encode_gif(std::span<const plot::Image> frames, int delay_centiseconds,
                                     int loops = 0);

// encode_gif(frames, ...) written with write_file_atomic; IoError if the file cannot be written.
void write_gif(const std::string& path, std::span<const plot::Image> frames, int delay_centiseconds,
               int loops = 0);

struct IndexedFrames {
    std::vector<plot::Rgb> palette;  // at most max_colors entries
    std::vector<GifFrame> frames;    // one per input image, indices into palette
};

// One palette shared by all frames, and each frame's pixels as indices into it.
// If the frames together use at most max_colors distinct colours, the palette is exactly those
// colours (sorted by (r, g, b)) and the images are reproduced exactly. Otherwise the colours
// are reduced with the pixel count as weight: the colour histogram is split into max_colors
// boxes, each time cutting the box of largest squared error at the place along r, g or b
// that leaves the least error; the boxes' mean colours are then improved by a few rounds of
// k-means, and every pixel gets the palette colour nearest to it (squared RGB distance; ties
// go to the lower index). No dithering: gradients become fine bands rather than noise, which
// also keeps animations from flickering. With more than 65536 distinct colours the histogram
// pools them into 32^3 cells first (bounding the cost; pixels are still mapped exactly to
// their nearest colour). Deterministic: the same pixels give the same result.
// The frames may differ in size. Throws std::invalid_argument if frames is empty, a frame is
// empty or max_colors is outside 2..256.
IndexedFrames quantize(std::span<const plot::Image> frames, int max_colors = 256);

}  // namespace nfvi::io
