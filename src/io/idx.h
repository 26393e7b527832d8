// The IDX file format of the MNIST data set (big-endian): a 4-byte magic 00 00 TT NN (TT the
// element type, 08 = unsigned byte; NN the number of dimensions), NN 32-bit dimensions, then
// the elements in row-major order. Images are 00 00 08 03 [count, rows, cols], labels are
// 00 00 08 01 [count]. Files may be gzip-compressed; that is detected from the content.
//
// Parsing is strict and safe on hostile input: the header's dimensions are checked against
// IdxLimits before anything is allocated (a 16-byte header claiming 10^9 images throws at
// once), the payload must be exactly the size the header announces (no truncation, no
// trailing bytes), and decompression is capped by the same limits (a gzip bomb is refused).
// Every problem throws FormatError naming the file, what is wrong, and what to do; a missing
// file throws IoError suggesting scripts/fetch-mnist.sh.
//
// A count of 0 is accepted (an empty IDX file is well formed and round-trips); rows and cols
// must be at least 1. read_mnist refuses an empty split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "src/io/error.h"

namespace nfvi::io {

struct IdxImages {
    int count = 0, rows = 0, cols = 0;
    std::vector<std::uint8_t> pixels;  // [count, rows, cols], row-major, 0 = background
};

struct IdxLabels {
    int count = 0;
    std::vector<std::uint8_t> labels;  // [count]
};

// Bounds on what a header may claim, checked before allocating. max_bytes bounds the
// payload (count·rows·cols for images, count for labels) and the decompressed size of a
// gzip file (payload plus header).
struct IdxLimits {
    std::int64_t max_items = 10'000'000;             // images or labels in one file
    int max_side = 4096;                             // rows and cols
    std::size_t max_bytes = std::size_t{1} << 32;    // payload bytes
};

// Parses an uncompressed IDX file held in memory (errors call it "IDX data"; gzip-compressed
// bytes are refused with a hint to use read_idx_*).
IdxImages parse_idx_images(std::span<const std::uint8_t> bytes, const IdxLimits& limits = {});
IdxLabels parse_idx_labels(std::span<const std::uint8_t> bytes, const IdxLimits& limits = {});

// Reads a plain or gzip-compressed IDX file (detected by its first two bytes, not its name).
// IoError if it cannot be read; FormatError (naming the path) if it is not a valid file.
IdxImages read_idx_images(const std::string& path, const IdxLimits& limits = {});
IdxLabels read_idx_labels(const std::string& path, const IdxLimits& limits = {});

// The IDX bytes of `images` / `labels` (uncompressed). std::invalid_argument if the counts,
// sides or buffer sizes are inconsistent or negative.
std::vector<std::uint8_t> encode_idx_images(const IdxImages& images);
std::vector<std::uint8_t> encode_idx_labels(const IdxLabels& labels);

struct MnistSplit {
    IdxImages images;  // [count, 28, 28] for the real data
    IdxLabels labels;  // [count], each 0..9
};

struct Mnist {
    MnistSplit train, test;  // 60000 and 10000 for the real data
};

// The four MNIST files in `dir`: train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or with ".gz" appended (the
// plain name is preferred when both exist). Checks that each split has at least one image,
// that image and label counts match, that train and test images have the same size, and
// that every label is 0..9. IoError (suggesting `scripts/fetch-mnist.sh DIR`) if a file is
// missing.
Mnist read_mnist(const std::string& dir);

}  // namespace nfvi::io
