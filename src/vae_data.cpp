#include "src/vae_data.h"

#include <algorithm>
#include <cmath>

#include "src/args.h"
#include "src/io/idx.h"

namespace nfvi::cli {

namespace {

// The images idx[begin, end) of `im`.
ImageSet gather(const io::IdxImages& im, const std::vector<int>& idx, int begin, int end) {
    ImageSet s;
    s.count = end - begin;
    s.rows = im.rows;
    s.cols = im.cols;
    const std::int64_t X = static_cast<std::int64_t>(im.rows) * im.cols;
    s.pixels.resize(static_cast<std::size_t>(s.count * X));
    for (int i = begin; i < end; ++i)
        std::copy_n(im.pixels.begin() + idx[static_cast<std::size_t>(i)] * X, X, s.pixels.begin() + (i - begin) * X);
    return s;
}

}  // namespace

VaeData load_vae_data(const std::string& dir, int validation, int train_limit) {
    io::Mnist m = io::read_mnist(dir);
    const int n = m.train.images.count;
    if (validation >= n)
        throw UsageError("--validation " + std::to_string(validation) + " leaves no training images (the training file has " +
                         std::to_string(n) + ")");
    // A fixed random split (the same for every --seed, so runs stay comparable): the first
    // `validation` images of one shuffle are held out, the rest keep their file order.
    std::vector<int> order(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
    Rng(0x53504c4954).shuffle(order.data(), n);  // "SPLIT"
    std::sort(order.begin() + validation, order.end());
    VaeData d;
    const int train_end = train_limit > 0 ? std::min(n, validation + train_limit) : n;
    d.validation = gather(m.train.images, order, 0, validation);
    d.train = gather(m.train.images, order, validation, train_end);
    std::vector<int> all(static_cast<std::size_t>(m.test.images.count));
    for (int i = 0; i < m.test.images.count; ++i) all[static_cast<std::size_t>(i)] = i;
    d.test = gather(m.test.images, all, 0, m.test.images.count);
    return d;
}

void fill_batch(const ImageSet& set, std::span<const int> idx, Binarize mode, Rng* rng, real* x) {
    const int X = set.dim();
    for (std::size_t i = 0; i < idx.size(); ++i) {
        const std::uint8_t* px = set.image(idx[i]);
        real* xi = x + static_cast<std::int64_t>(i) * X;
        if (mode == Binarize::Threshold) {
            for (int j = 0; j < X; ++j) xi[j] = px[j] >= 128 ? real(1) : real(0);
        } else {
            rng->uniform(xi, X);  // u in (0,1): x = 1 with probability pixel/255
            for (int j = 0; j < X; ++j) xi[j] = xi[j] * 255 < real(px[j]) ? real(1) : real(0);
        }
    }
}

std::vector<double> pixel_means(const ImageSet& set, Binarize mode) {
    const int X = set.dim();
    std::vector<double> mean(static_cast<std::size_t>(X), 0.0);
    for (int i = 0; i < set.count; ++i) {
        const std::uint8_t* px = set.image(i);
        for (int j = 0; j < X; ++j) mean[static_cast<std::size_t>(j)] += mode == Binarize::Threshold ? (px[j] >= 128 ? 1.0 : 0.0) : px[j] / 255.0;
    }
    for (double& m : mean) m /= std::max(set.count, 1);
    return mean;
}

Tensor binarized(const ImageSet& set, Binarize mode, Rng* rng) {
    Tensor t(Shape{std::max(set.count, 1), set.dim()});
    std::vector<int> idx(static_cast<std::size_t>(set.count));
    for (int i = 0; i < set.count; ++i) idx[static_cast<std::size_t>(i)] = i;
    fill_batch(set, idx, mode, rng, t.data());
    return t;
}

plot::Image digit_grid(std::span<const real> values, int count, int rows, int cols, int columns, int scale) {
    const int gap = 2, grid_rows = (count + columns - 1) / columns;
    plot::Image img(gap + columns * (cols * scale + gap), gap + grid_rows * (rows * scale + gap), plot::Rgb{70, 70, 70});
    for (int k = 0; k < count; ++k) {
        const int x0 = gap + (k % columns) * (cols * scale + gap), y0 = gap + (k / columns) * (rows * scale + gap);
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c < cols; ++c) {
                const double v = std::clamp(double(values[static_cast<std::size_t>((k * rows + r) * cols + c)]), 0.0, 1.0);
                const auto g = static_cast<std::uint8_t>(std::lround(255 * v));
                img.fill_rect(x0 + c * scale, y0 + r * scale, scale, scale, plot::Rgb{g, g, g});
            }
    }
    return img;
}

}  // namespace nfvi::cli
