#include "flows/nice.h"

#include <cmath>
#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "autodiff/ops.h"

namespace nfvi {

namespace {

Tensor random_permutation_matrix(int D, Rng& rng) {
    std::vector<int> perm(static_cast<std::size_t>(D));
    std::iota(perm.begin(), perm.end(), 0);
    bool identity = true;
    while (identity && D >= 2) {
        rng.shuffle(perm.data(), D);
        for (int i = 0; i < D; ++i) identity = identity && perm[static_cast<std::size_t>(i)] == i;
    }
    Tensor m(Shape{D, D});
    for (int i = 0; i < D; ++i) m.at(i, perm[static_cast<std::size_t>(i)]) = 1;  // y_i = z_perm(i)
    return m;
}

Tensor random_orthogonal_matrix(int D, Rng& rng) {
    // Modified Gram–Schmidt on the rows of a Gaussian matrix, in double.
    std::vector<double> a(static_cast<std::size_t>(D * D));
    Tensor g(Shape{D, D});
    rng.normal(g.data(), g.numel());
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = g[static_cast<std::int64_t>(i)];
    for (int i = 0; i < D; ++i) {
        double* ri = &a[static_cast<std::size_t>(i * D)];
        for (int j = 0; j < i; ++j) {
            const double* rj = &a[static_cast<std::size_t>(j * D)];
            double dot = 0;
            for (int k = 0; k < D; ++k) dot += ri[k] * rj[k];
            for (int k = 0; k < D; ++k) ri[k] -= dot * rj[k];
        }
        double norm = 0;
        for (int k = 0; k < D; ++k) norm += ri[k] * ri[k];
        norm = std::sqrt(norm);
        for (int k = 0; k < D; ++k) ri[k] /= norm;
    }
    Tensor m(Shape{D, D});
    for (std::size_t i = 0; i < a.size(); ++i) m[static_cast<std::int64_t>(i)] = static_cast<real>(a[i]);
    return m;
}

}  // namespace

NiceCoupling::NiceCoupling(int dim, Mixing mixing, std::uint64_t seed, int hidden)
    : dim_(dim), da_(dim / 2), db_(dim - dim / 2), hidden_(hidden), mixing_(mixing) {
    if (dim < 2) throw std::invalid_argument("nice: coupling needs D >= 2, got " + std::to_string(dim));
    if (hidden < 1) throw std::invalid_argument("nice: hidden units must be >= 1");
    Rng rng(seed, 0x4e494345);  // its own stream: the mixing does not move other draws
    mix_ = mixing == Mixing::Permutation ? random_permutation_matrix(dim, rng)
                                         : random_orthogonal_matrix(dim, rng);
}

void NiceCoupling::init(std::span<real> row, Rng& rng) const {
    // W1 ~ N(0, 1/da), W2 ~ N(0, 0.01²/H), biases 0: m(a) ≈ 0, the layer starts near the mixing.
    rng.normal(row.data(), static_cast<std::int64_t>(row.size()));
    const std::size_t n1 = static_cast<std::size_t>(da_ * hidden_), n2 = static_cast<std::size_t>(hidden_ * db_);
    const real s1 = static_cast<real>(1 / std::sqrt(double(da_)));
    const real s2 = static_cast<real>(0.01 / std::sqrt(double(hidden_)));
    for (std::size_t i = 0; i < n1; ++i) row[i] *= s1;
    for (std::size_t i = 0; i < static_cast<std::size_t>(hidden_); ++i) row[n1 + i] = 0;
    for (std::size_t i = 0; i < n2; ++i) row[n1 + static_cast<std::size_t>(hidden_) + i] *= s2;
    for (std::size_t i = 0; i < static_cast<std::size_t>(db_); ++i) row[n1 + static_cast<std::size_t>(hidden_) + n2 + i] = 0;
}

// m(a) = tanh(a·W1 + b1)·W2 + b2, with the weights one row per sample or one for all.
Var NiceCoupling::shift(Var a, Var p) const {
    const int H = hidden_, o1 = da_ * H, o2 = o1 + H, o3 = o2 + H * db_;
    Var b1 = slice_cols(p, o1, o2), b2 = slice_cols(p, o3, o3 + db_);
    if (p.rows() == 1) {
        Var w1 = reshape(slice_cols(p, 0, o1), Shape{da_, H});
        Var w2 = reshape(slice_cols(p, o2, o3), Shape{H, db_});
        return matmul(tanh(matmul(a, w1) + b1), w2) + b2;
    }
    // Per-sample weights: a sum of column-times-row products.
    Var pre = b1;
    for (int j = 0; j < da_; ++j) pre = pre + slice_cols(a, j, j + 1) * slice_cols(p, j * H, (j + 1) * H);
    Var hid = tanh(pre);
    Var out = b2;
    for (int k = 0; k < H; ++k)
        out = out + slice_cols(hid, k, k + 1) * slice_cols(p, o2 + k * db_, o2 + (k + 1) * db_);
    return out;
}

FlowOutput NiceCoupling::forward(Var z, Var p) const {
    Graph& g = z.graph();
    Var y = matmul(z, g.input(mix_), false, true);  // [N,D] = z·Mᵀ
    Var a = slice_cols(y, 0, da_), b = slice_cols(y, da_, dim_);
    Var z_out = concat_cols(a, b + shift(a, p));
    return {z_out, g.constant(Shape{z.rows(), 1}, 0)};
}

Tensor NiceCoupling::inverse(const Tensor& z_out, const Tensor& params) const {
    Graph g;
    Var zo = g.input(z_out);
    Var a = slice_cols(zo, 0, da_), b = slice_cols(zo, da_, dim_);
    Var y = concat_cols(a, b - shift(a, g.input(params)));
    Var z = matmul(y, g.input(mix_));  // y·M = z, since M is orthogonal
    Tensor out(z.shape());
    std::copy_n(z.data(), out.numel(), out.data());
    return out;
}

std::vector<NamedValues> NiceCoupling::describe(std::span<const real> row) const {
    const int H = hidden_;
    auto part = [&](const char* name, std::vector<int> shape, int begin, int end) {
        return NamedValues{name, std::move(shape), std::vector<double>(row.begin() + begin, row.begin() + end)};
    };
    const int o1 = da_ * H, o2 = o1 + H, o3 = o2 + H * db_;
    std::vector<double> mix(mix_.data(), mix_.data() + mix_.numel());
    return {{"mixing", {dim_, dim_}, mix},
            part("W1", {da_, H}, 0, o1),
            part("b1", {H}, o1, o2),
            part("W2", {H, db_}, o2, o3),
            part("b2", {db_}, o3, o3 + db_)};
}

}  // namespace nfvi
