// Helpers shared by the op implementations (not installed).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "autodiff/fast_math.h"
#include "autodiff/graph.h"
#include "autodiff/ops.h"
#include "autodiff/thread_pool.h"

namespace nfvi::detail {

// Elementwise work below this many elements runs on the calling thread.
inline constexpr std::int64_t kParallelGrain = 1 << 15;

// fn(begin, end) over [0, n), split across threads when n is large.
template <class F>
void for_range(std::int64_t n, F&& fn) {
    if (n < 2 * kParallelGrain) {
        fn(std::int64_t{0}, n);
        return;
    }
    parallel_for(n, kParallelGrain, fn);
}

[[noreturn]] inline void shape_error(const char* op, const std::string& what) {
    throw std::invalid_argument(std::string("nfvi::") + op + ": " + what);
}

// 1/(1 + e^−v) without overflow. Written as one division of selected values (no branch), so
// that loops over it vectorize in the float build.
inline real stable_sigmoid(real v) {
    const real e = exp_r(-std::abs(v));  // in (0, 1]: no overflow
    return (v >= 0 ? real(1) : e) / (real(1) + e);
}

// log(1 + e^v) without overflow for large v or loss of digits for very negative v.
inline real stable_softplus(real v) {
    return std::max(v, real(0)) + log1p_r(exp_r(-std::abs(v)));
}

inline Node& parent(Graph& g, const Node& n, int i) { return g.node(n.parent[i]); }
inline bool wants_grad(Graph& g, const Node& n, int i) { return parent(g, n, i).needs_grad; }

}  // namespace nfvi::detail
