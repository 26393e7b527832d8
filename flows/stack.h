// A stack of flow layers applied in order, and the factory that builds one by name.
//
// The stack's raw parameters are one row [1,P] or one row per sample [N,P], P the sum of its
// layers' counts; layer k reads columns [offset(k), offset(k) + P_k).
//
// Legend: N batch, D latent dimension, K layers, P raw parameters of the whole stack.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "flows/flow.h"

namespace nfvi {

class FlowStack {
public:
    explicit FlowStack(int dim) : dim_(dim) {}
    FlowStack(FlowStack&&) = default;
    FlowStack& operator=(FlowStack&&) = default;

    void add(std::unique_ptr<FlowLayer> layer);
    int dim() const { return dim_; }
    int size() const { return static_cast<int>(layers_.size()); }       // K
    int num_params() const { return total_; }                           // P
    const FlowLayer& layer(int k) const { return *layers_[static_cast<std::size_t>(k)]; }
    int offset(int k) const { return offsets_[static_cast<std::size_t>(k)]; }

    // Writes initial raw parameters for every layer into row [P].
    void init(std::span<real> row, Rng& rng) const;
    // z [N,D], params [1,P] or [N,P] -> z_K and Σ_k log|det J_k| [N,1]. With `trace`, also
    // the z after each layer (trace[k] after layer k+1).
    FlowOutput forward(Var z, Var params, std::vector<Var>* trace = nullptr) const;
    bool has_inverse() const;
    // z_K [N,D] -> z_0, for stacks whose every layer has an inverse.
    Tensor inverse(const Tensor& z_out, const Tensor& params) const;

private:
    int dim_;
    int total_ = 0;
    std::vector<std::unique_ptr<FlowLayer>> layers_;
    std::vector<int> offsets_;
};

// The flow kinds nfvi knows, for messages: "planar, radial, nice-perm, nice-orth".
std::string_view flow_kinds();
bool is_flow_kind(std::string_view kind);
// K layers of one kind in dimension D; `seed` fixes NICE's mixings. Throws
// std::invalid_argument naming the known kinds for an unknown one.
FlowStack make_flow(std::string_view kind, int dim, int layers, std::uint64_t seed = 1);

}  // namespace nfvi
