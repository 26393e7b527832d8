// Binarized image data for the NF-VAE: MNIST's bytes, split into training and validation
// images, turned into 0/1 batches, and digit grids for pictures.
//
// Threshold binarization maps a byte to 1 when pixel/255 ≥ 0.5 (pixel ≥ 128). Dynamic
// binarization draws each pixel as Bernoulli(pixel/255) afresh: the draw for batch i of epoch
// e comes from its own counter range of the generator Rng(seed, kDynamicStream + e), so a
// resumed run redraws exactly what an uninterrupted one would.
//
// Legend: N images, X = rows·cols pixels per image.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "autodiff/rng.h"
#include "autodiff/tensor.h"
#include "src/plot/image.h"

namespace nfvi::cli {

struct ImageSet {
    int count = 0, rows = 0, cols = 0;
    std::vector<std::uint8_t> pixels;  // [N, X]
    int dim() const { return rows * cols; }
    const std::uint8_t* image(int i) const { return pixels.data() + static_cast<std::int64_t>(i) * dim(); }
};

struct VaeData {
    ImageSet train, validation, test;
};

// Reads MNIST from `dir` and holds out `validation` training images (0: none), chosen at
// random by a fixed generator (the same split for every seed). `train_limit` > 0 keeps only
// the first train_limit of the rest, in file order. UsageError if the split
// leaves no training image.
VaeData load_vae_data(const std::string& dir, int validation, int train_limit);

enum class Binarize { Threshold, Dynamic };

// x [n,X] := binarized images idx[0..n) of `set`. Dynamic draws from rng (n·X uniforms).
void fill_batch(const ImageSet& set, std::span<const int> idx, Binarize mode, Rng* rng, real* x);
// The whole set, thresholded (or one fixed dynamic draw from rng): [N,X].
Tensor binarized(const ImageSet& set, Binarize mode, Rng* rng);

// The mean of each binarized pixel over `set`: the fraction of images with pixel ≥ 128
// (threshold), or the mean of pixel/255, the expected value of a dynamic draw. [X]
std::vector<double> pixel_means(const ImageSet& set, Binarize mode);

inline constexpr std::uint64_t kDynamicStream = 0x42494e0000000000ULL;  // "BIN" + epoch

// Gray images (values in [0,1], 1 = white ink on black, as MNIST shows digits) in a grid of
// `columns`, each scaled up `scale` times, 2-pixel gaps.   values: [count, rows·cols]
plot::Image digit_grid(std::span<const real> values, int count, int rows, int cols, int columns, int scale);

}  // namespace nfvi::cli
