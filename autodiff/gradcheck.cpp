#include "autodiff/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace nfvi {
namespace {

// splitmix64: a few fixed weights, independent of the library's RNG under test.
double weight(std::uint64_t seed, std::int64_t i) {
    std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return 0.5 + static_cast<double>(z >> 11) * 0x1.0p-53;  // in [0.5, 1.5): no cancellation
}

struct Evaluator {
    GraphFn f;
    std::vector<Parameter>& params;
    std::uint64_t seed;
    Graph g;
    std::vector<Var> vars;

    Var build() {
        g.clear();
        vars.clear();
        for (Parameter& p : params) vars.push_back(g.param(p));
        return f(g, vars);
    }
    std::vector<double> plus, minus;

    // The output's values, in double, for the current inputs.
    void values(std::vector<double>& out) {
        Var y = build();
        out.resize(static_cast<std::size_t>(y.value().numel()));
        for (std::size_t i = 0; i < out.size(); ++i)
            out[i] = static_cast<double>(y.value().data[static_cast<std::int64_t>(i)]);
    }

    // Central difference of Σ_j w_j f_j along x[i] with step h, taken element by element so
    // that large outputs that do not depend on x[i] add no rounding error.
    double slope(Tensor& x, std::int64_t i, double h) {
        const real x0 = x[i];
        const real xp = static_cast<real>(x0 + h), xm = static_cast<real>(x0 - h);
        x[i] = xp;
        values(plus);
        x[i] = xm;
        values(minus);
        x[i] = x0;
        double diff = 0;
        for (std::size_t j = 0; j < plus.size(); ++j)
            diff += weight(seed, static_cast<std::int64_t>(j)) * (plus[j] - minus[j]);
        return diff / (static_cast<double>(xp) - static_cast<double>(xm));
    }
};

}  // namespace

std::string GradcheckResult::message() const {
    std::ostringstream os;
    os << (ok ? "ok" : "FAILED") << ": max error " << max_error;
    if (worst_input >= 0)
        os << " at input " << worst_input << "[" << worst_index << "] (analytic " << analytic
           << ", numeric " << numeric << ")";
    return os.str();
}

GradcheckResult gradcheck(GraphFn f, std::vector<Tensor> inputs, GradcheckOptions opt) {
    std::vector<Parameter> params;
    params.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i)
        params.emplace_back("input" + std::to_string(i), std::move(inputs[i]));
    Evaluator ev{f, params, opt.seed, {}, {}, {}, {}};

    // Analytic gradients.
    Var out = ev.build();
    Tensor seedw(out.shape());
    for (std::int64_t i = 0; i < seedw.numel(); ++i)
        seedw[i] = static_cast<real>(weight(opt.seed, i));
    ev.g.backward(out, seedw.ref());
    std::vector<Tensor> analytic;
    for (Parameter& p : params) analytic.push_back(p.grad);

    GradcheckResult res;
    for (std::size_t k = 0; k < params.size(); ++k) {
        Tensor& x = params[k].value;
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            const real x0 = x[i];
            const double h = opt.step * std::max(1.0, std::abs(static_cast<double>(x0)));
            double numeric = (4 * ev.slope(x, i, h / 2) - ev.slope(x, i, h)) / 3;
            double a = analytic[k][i];
            double err = std::abs(a - numeric) /
                         std::max({std::abs(a), std::abs(numeric), opt.floor});
            bool worse = res.worst_input < 0 ||
                         (!std::isnan(res.max_error) && (std::isnan(err) || err > res.max_error));
            if (worse) {
                res.max_error = err;
                res.worst_input = static_cast<int>(k);
                res.worst_index = i;
                res.analytic = a;
                res.numeric = numeric;
            }
        }
    }
    res.ok = res.max_error <= opt.tolerance;  // false for NaN
    return res;
}

}  // namespace nfvi
