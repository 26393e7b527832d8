// Finite-difference gradient checks, for every op and every later module.
//
// gradcheck(f, inputs) builds f on a graph, seeds the output's gradient with fixed random
// weights w (so every output element is checked), and compares each input's analytic
// gradient of Σ w·f with a central difference computed in double, element by element, with
// one Richardson step (4·D(h/2) − D(h))/3 so that the truncation error is O(h⁴). Error of one element:
// |analytic − numeric| / max(|analytic|, |numeric|, floor).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "autodiff/graph.h"
#include "autodiff/thread_pool.h"

namespace nfvi {

struct GradcheckOptions {
    // Step h = step · max(1, |x|). Defaults suit the build's `real`.
    double step = NFVI_REAL_IS_DOUBLE ? 1e-6 : 1e-2;
    double tolerance = NFVI_REAL_IS_DOUBLE ? 1e-6 : 2e-2;
    double floor = NFVI_REAL_IS_DOUBLE ? 1e-3 : 1e-1;
    std::uint64_t seed = 12345;
};

struct GradcheckResult {
    bool ok = true;
    double max_error = 0;     // the largest error over all input elements
    int worst_input = -1;     // where it occurred
    std::int64_t worst_index = -1;
    double analytic = 0, numeric = 0;
    std::string message() const;  // one line for test output
};

using GraphFn = FnRef<Var(Graph&, std::span<const Var>)>;

GradcheckResult gradcheck(GraphFn f, std::vector<Tensor> inputs, GradcheckOptions opt = {});

}  // namespace nfvi
