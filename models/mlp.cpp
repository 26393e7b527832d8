#include "models/mlp.h"

#include <cmath>
#include <stdexcept>

#include "autodiff/ops.h"

namespace nfvi {

std::string_view to_string(Activation a) {
    switch (a) {
    case Activation::Elu: return "elu";
    case Activation::Relu: return "relu";
    case Activation::Tanh: return "tanh";
    case Activation::Maxout: return "maxout";
    }
    return "?";
}

bool parse_activation(std::string_view name, Activation& out) {
    for (Activation a : {Activation::Elu, Activation::Relu, Activation::Tanh, Activation::Maxout})
        if (name == to_string(a)) {
            out = a;
            return true;
        }
    return false;
}

Mlp::Mlp(std::string name, MlpShape shape, Rng& rng) : shape_(std::move(shape)) {
    if (shape_.inputs < 1 || shape_.outputs < 1)
        throw std::invalid_argument("Mlp '" + name + "': inputs and outputs must be >= 1");
    if (shape_.activation == Activation::Maxout && shape_.pieces < 2)
        throw std::invalid_argument("Mlp '" + name + "': maxout needs at least 2 pieces per unit");
    const int pieces = shape_.activation == Activation::Maxout ? shape_.pieces : 1;
    int in = shape_.inputs;
    const std::size_t n = shape_.hidden.size();
    params_.reserve(2 * (n + 1));
    for (std::size_t l = 0; l <= n; ++l) {
        const bool last = l == n;
        if (!last && shape_.hidden[l] < 1)
            throw std::invalid_argument("Mlp '" + name + "': hidden sizes must be >= 1");
        const int out = last ? shape_.outputs : shape_.hidden[l] * pieces;
        const std::string prefix = name + "." + std::to_string(l);
        Parameter w(prefix + ".weight", Shape{out, in});
        Parameter b(prefix + ".bias", Shape{1, out});
        const real bound = static_cast<real>(1 / std::sqrt(static_cast<double>(in)));
        for (Parameter* p : {&w, &b}) {
            rng.uniform(p->value.data(), p->value.numel());
            for (std::int64_t i = 0; i < p->value.numel(); ++i)
                p->value.data()[i] = bound * (2 * p->value.data()[i] - 1);
        }
        params_.push_back(std::move(w));
        params_.push_back(std::move(b));
        in = last ? out : shape_.hidden[l];
    }
}

Var Mlp::forward(Graph& g, Var x) {
    const std::size_t layers = params_.size() / 2;
    for (std::size_t l = 0; l < layers; ++l) {
        x = linear(x, g.param(params_[2 * l]), g.param(params_[2 * l + 1]));
        if (l + 1 == layers) break;
        switch (shape_.activation) {
        case Activation::Elu: x = elu(x); break;
        case Activation::Relu: x = relu(x); break;
        case Activation::Tanh: x = tanh(x); break;
        case Activation::Maxout: {
            const int n = x.rows(), h = shape_.hidden[l], k = shape_.pieces;
            x = reshape(max(reshape(x, Shape{n * h, k}), 1), Shape{n, h});
            break;
        }
        }
    }
    return x;
}

ParameterList Mlp::params() {
    ParameterList ps;
    for (Parameter& p : params_) ps.push_back(&p);
    return ps;
}

std::int64_t Mlp::num_values() const {
    std::int64_t n = 0;
    for (const Parameter& p : params_) n += p.value.numel();
    return n;
}

}  // namespace nfvi
