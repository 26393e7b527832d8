// Parameters live outside the tape: a value, its gradient, and a name.
//
// Graph::param(p) makes a leaf whose value is p.value and whose gradient accumulates straight
// into p.grad, so nothing is copied per step. Optimizers own their state (see optim.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "autodiff/tensor.h"

namespace nfvi {

struct Parameter {
    std::string name;
    Tensor value;
    Tensor grad;  // same shape as value

    Parameter() = default;
    Parameter(std::string n, Tensor v) : name(std::move(n)), value(std::move(v)), grad(value.shape()) {}
    Parameter(std::string n, Shape s) : Parameter(std::move(n), Tensor(s)) {}

    void zero_grad() { grad.fill(real(0)); }
};

// Parameters by pointer, in a fixed order (what modules return and optimizers take).
using ParameterList = std::vector<Parameter*>;

inline void zero_grad(const ParameterList& ps) {
    for (Parameter* p : ps) p->zero_grad();
}

}  // namespace nfvi
