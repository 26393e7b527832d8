#include "flows/stack.h"

#include <stdexcept>
#include <string>

#include "autodiff/ops.h"
#include "flows/nice.h"
#include "flows/planar.h"
#include "flows/radial.h"

namespace nfvi {

Tensor FlowLayer::inverse(const Tensor&, const Tensor&) const {
    throw std::logic_error("nfvi: the " + kind() + " flow has no analytic inverse");
}

void FlowStack::add(std::unique_ptr<FlowLayer> layer) {
    if (layer->dim() != dim_)
        throw std::invalid_argument("nfvi: a " + layer->kind() + " layer of dimension " +
                                    std::to_string(layer->dim()) + " in a stack of dimension " +
                                    std::to_string(dim_));
    offsets_.push_back(total_);
    total_ += layer->num_params();
    layers_.push_back(std::move(layer));
}

void FlowStack::init(std::span<real> row, Rng& rng) const {
    if (static_cast<int>(row.size()) != total_)
        throw std::invalid_argument("nfvi: flow parameters need " + std::to_string(total_) +
                                    " values, got " + std::to_string(row.size()));
    for (int k = 0; k < size(); ++k)
        layer(k).init(row.subspan(static_cast<std::size_t>(offset(k)),
                                  static_cast<std::size_t>(layer(k).num_params())), rng);
}

FlowOutput FlowStack::forward(Var z, Var params, std::vector<Var>* trace) const {
    if (z.cols() != dim_)
        throw std::invalid_argument("nfvi: the flow expects z [N," + std::to_string(dim_) +
                                    "], got " + z.shape().str());
    if (params.cols() != total_ || (params.rows() != 1 && params.rows() != z.rows()))
        throw std::invalid_argument("nfvi: the flow expects parameters [1," + std::to_string(total_) +
                                    "] or [" + std::to_string(z.rows()) + "," +
                                    std::to_string(total_) + "], got " + params.shape().str());
    auto planar = [this](int k) { return dynamic_cast<const PlanarFlow*>(&layer(k)) != nullptr; };
    Var logdet;
    for (int k = 0; k < size();) {
        FlowOutput out;
        int run = 1;
        if (!trace && planar(k)) {
            // A run of planar layers is one fused node that reads its columns of params in
            // place: no per-layer slices, and one log-det sum instead of K.
            while (k + run < size() && planar(k + run)) ++run;
            Var y = planar_layers(z, params, offset(k), run);  // [N,D+1]
            out = {slice_cols(y, 0, dim_), slice_cols(y, dim_, dim_ + 1)};
        } else {
            Var p = slice_cols(params, offset(k), offset(k) + layer(k).num_params());
            out = layer(k).forward(z, p);
        }
        k += run;
        z = out.z;
        logdet = logdet.valid() ? logdet + out.logdet : out.logdet;
        if (trace) trace->push_back(z);
    }
    if (!logdet.valid()) logdet = z.graph().constant(Shape{z.rows(), 1}, 0);
    return {z, logdet};
}

bool FlowStack::has_inverse() const {
    for (const auto& l : layers_)
        if (!l->has_inverse()) return false;
    return true;
}

Tensor FlowStack::inverse(const Tensor& z_out, const Tensor& params) const {
    Tensor z = z_out;
    for (int k = size() - 1; k >= 0; --k) {
        const int P = layer(k).num_params();
        Tensor p(Shape{params.rows(), P});
        for (int r = 0; r < params.rows(); ++r)
            for (int c = 0; c < P; ++c) p.at(r, c) = params.at(r, offset(k) + c);
        z = layer(k).inverse(z, p);
    }
    return z;
}

std::string_view flow_kinds() { return "planar, radial, nice-perm, nice-orth"; }

bool is_flow_kind(std::string_view kind) {
    return kind == "planar" || kind == "radial" || kind == "nice-perm" || kind == "nice-orth";
}

FlowStack make_flow(std::string_view kind, int dim, int layers, std::uint64_t seed) {
    if (!is_flow_kind(kind))
        throw std::invalid_argument("unknown flow '" + std::string(kind) + "' (known: " +
                                    std::string(flow_kinds()) + ")");
    if (dim < 1 || layers < 0)
        throw std::invalid_argument("nfvi: a flow needs D >= 1 and K >= 0");
    FlowStack stack(dim);
    for (int k = 0; k < layers; ++k) {
        if (kind == "planar") stack.add(std::make_unique<PlanarFlow>(dim));
        else if (kind == "radial") stack.add(std::make_unique<RadialFlow>(dim));
        else
            stack.add(std::make_unique<NiceCoupling>(
                dim, kind == "nice-perm" ? Mixing::Permutation : Mixing::Orthogonal,
                seed * 1000003 + static_cast<std::uint64_t>(k)));
    }
    return stack;
}

}  // namespace nfvi
