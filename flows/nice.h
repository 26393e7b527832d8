// NICE additive coupling (Dinh et al. 2014) with a fixed mixing in front, as in the
// comparison of Rezende & Mohamed 2015 (Fig. 3):
//   y = z·Mᵀ (M a fixed permutation or a fixed random orthogonal matrix, |det M| = 1),
//   y = [a, b] with a the first ⌊D/2⌋ dims:  f(z) = [a, b + m(a)],  log|det J| = 0,
// where m is a one-hidden-layer tanh network a [da] -> H -> db. Inverse: b = b' − m(a), z = y·M.
// Raw row: [W1 (da·H, row j of a maps to H units), b1 (H), W2 (H·db), b2 (db)].
#pragma once

#include <cstdint>

#include "flows/flow.h"

namespace nfvi {

enum class Mixing { Permutation, Orthogonal };

class NiceCoupling : public FlowLayer {
public:
    // `seed` fixes the mixing: a random permutation (never the identity for D ≥ 2) or a
    // random orthogonal matrix (Gram–Schmidt of a Gaussian matrix).
    NiceCoupling(int dim, Mixing mixing, std::uint64_t seed, int hidden = 32);
    std::string kind() const override { return mixing_ == Mixing::Permutation ? "nice-perm" : "nice-orth"; }
    int dim() const override { return dim_; }
    int num_params() const override { return da_ * hidden_ + hidden_ + hidden_ * db_ + db_; }
    void init(std::span<real> row, Rng& rng) const override;
    FlowOutput forward(Var z, Var params) const override;
    std::vector<NamedValues> describe(std::span<const real> row) const override;
    bool has_inverse() const override { return true; }
    Tensor inverse(const Tensor& z_out, const Tensor& params) const override;
    const Tensor& mixing_matrix() const { return mix_; }  // M [D,D]

private:
    Var shift(Var a, Var params) const;  // m(a): a [N,da] -> [N,db]

    int dim_, da_, db_, hidden_;
    Mixing mixing_;
    Tensor mix_;  // M [D,D]
};

}  // namespace nfvi
