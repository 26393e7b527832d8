// Multi-layer perceptrons: affine layers with ELU, ReLU, tanh or maxout between them, and
// none after the last (its outputs are raw: logits, means, flow parameters).
//
// A maxout unit is the maximum of `pieces` affine functions. Its layer computes all of them in
// one linear op, [N, H·pieces] with unit j's pieces in columns j·pieces .. j·pieces+pieces−1,
// then takes the maximum over each group: reshape to [N·H, pieces], max along axis 1,
// reshape back to [N,H].
//
// Weights start as torch.nn.Linear's do: W and b uniform in ±1/sqrt(fan-in).
//
// Legend: N batch, I inputs, H hidden units, O outputs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/graph.h"
#include "autodiff/parameter.h"
#include "autodiff/rng.h"

namespace nfvi {

enum class Activation : std::uint8_t { Elu, Relu, Tanh, Maxout };

std::string_view to_string(Activation a);  // "elu", "relu", "tanh", "maxout"
// Parses one of the names above; false for anything else.
bool parse_activation(std::string_view name, Activation& out);

struct MlpShape {
    int inputs = 0;            // I
    std::vector<int> hidden;   // H per hidden layer, may be empty (one affine map)
    int outputs = 0;           // O
    Activation activation = Activation::Elu;
    int pieces = 2;            // maxout pieces per unit (only for Maxout)
};

class Mlp {
public:
    // Throws std::invalid_argument for a size < 1 or maxout pieces < 2.
    Mlp(std::string name, MlpShape shape, Rng& rng);

    // x [N,I] -> [N,O].
    Var forward(Graph& g, Var x);
    const MlpShape& shape() const { return shape_; }
    ParameterList params();  // weight, bias of layer 0, then layer 1, ...
    std::int64_t num_values() const;

    // Parameters in order, for checkpoints and tests.
    std::vector<Parameter>& layers() { return params_; }

private:
    MlpShape shape_;
    std::vector<Parameter> params_;  // per layer: weight [out,in], bias [1,out]
};

}  // namespace nfvi
