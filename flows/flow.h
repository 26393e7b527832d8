// A flow layer: an invertible map z [N,D] -> z' [N,D] and its log|det J| [N,1].
//
// Its parameters come in as a tape variable of raw (unconstrained) values, one row [1,P]
// broadcast over the batch (unconditional VI) or one row per sample [N,P] (amortized VI: an
// encoder emits them). The layer applies its own constraints (planar's û, radial's α, β),
// so the same code serves both uses.
//
// Legend: N batch, D latent dimension, P raw parameters of one layer.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "autodiff/graph.h"
#include "autodiff/rng.h"

namespace nfvi {

struct FlowOutput {
    Var z;       // [N,D]
    Var logdet;  // [N,1]: log|det ∂z'/∂z| per sample
};

// A named group of constrained parameter values, for params.json and for checks.
struct NamedValues {
    std::string name;
    std::vector<int> shape;
    std::vector<double> values;
};

class FlowLayer {
public:
    virtual ~FlowLayer() = default;
    virtual std::string kind() const = 0;  // "planar", "radial", "nice-perm", ...
    virtual int dim() const = 0;           // D
    virtual int num_params() const = 0;    // P
    // Writes an initial raw row [P] that keeps the layer close to the identity.
    virtual void init(std::span<real> row, Rng& rng) const = 0;
    // z [N,D], params [1,P] or [N,P] -> z' and log|det J|.
    virtual FlowOutput forward(Var z, Var params) const = 0;
    // The constrained parameters of one raw row (e.g. planar's w, û, b).
    virtual std::vector<NamedValues> describe(std::span<const real> row) const = 0;
    // Layers with an analytic inverse map z' back to z (row-wise params [1,P] or [N,P]).
    virtual bool has_inverse() const { return false; }
    virtual Tensor inverse(const Tensor& z_out, const Tensor& params) const;
};

}  // namespace nfvi
