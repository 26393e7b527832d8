// Small helpers shared by the test suites.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.h"

namespace nfvi::test {

// Deterministic values in [lo, hi), independent of the library's RNG.
class Fill {
public:
    explicit Fill(std::uint64_t seed = 1) : s_(seed) {}
    double next() {
        s_ += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = s_;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
    }
    double uniform(double lo, double hi) { return lo + (hi - lo) * next(); }
    Tensor tensor(Shape s, double lo, double hi) {
        Tensor t(s);
        for (std::int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<real>(uniform(lo, hi));
        return t;
    }

private:
    std::uint64_t s_;
};

inline Tensor row(const std::vector<double>& v) {
    Tensor t(Shape{1, static_cast<int>(v.size())});
    for (std::size_t i = 0; i < v.size(); ++i) t[static_cast<std::int64_t>(i)] = static_cast<real>(v[i]);
    return t;
}

}  // namespace nfvi::test
