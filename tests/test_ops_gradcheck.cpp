// Every op in the op table against central differences: on random signed inputs, with
// broadcasting on either side, and over a battery of edge values (0, tiny, ±1, large, near
// domain edges), skipping kinks. In the double build the error bound is 1e-6.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "autodiff/gradcheck.h"
#include "autodiff/ops.h"
#include "test_util.h"

using namespace nfvi;
using test::Fill;
using test::row;

namespace {

using Fn = Var (*)(Graph&, std::span<const Var>);

struct Case {
    Op op;
    std::string label;
    Fn fn;
    std::vector<Tensor> inputs;
};

constexpr bool kDouble = NFVI_REAL_IS_DOUBLE;

// Battery of edge values for an elementwise op, filtered to its smooth domain.
std::vector<double> battery(bool (*ok)(double)) {
    const double tiny = kDouble ? 1e-3 : 5e-2;  // float steps are 1e-2: stay off kinks
    std::vector<double> all = {0, tiny, -tiny, 1, -1, 0.5, -0.5, 3.5, -3.5, 8, -8, 20, -20};
    std::vector<double> v;
    for (double x : all)
        if (ok(x)) v.push_back(x);
    return v;
}

bool any(double) { return true; }
bool nonzero(double x) { return x != 0; }
bool moderate(double x) { return x >= -8 && x <= 8; }

std::vector<Case> unary_cases() {
    Fill r(11);
    std::vector<Case> cs;
    auto add = [&](Op op, const char* name, Fn fn, double lo, double hi, std::vector<double> edge) {
        cs.push_back({op, std::string(name) + " random", fn, {r.tensor(Shape{3, 4}, lo, hi)}});
        if (!edge.empty()) cs.push_back({op, std::string(name) + " battery", fn, {row(edge)}});
    };
    add(Op::Neg, "neg", [](Graph&, std::span<const Var> v) { return -v[0]; }, -2, 2, battery(any));
    add(Op::Affine, "affine", [](Graph&, std::span<const Var> v) { return affine(v[0], -1.5, 0.25); },
        -2, 2, battery(any));
    add(Op::Exp, "exp", [](Graph&, std::span<const Var> v) { return exp(v[0]); }, -2, 2, battery(any));
    add(Op::Log, "log", [](Graph&, std::span<const Var> v) { return log(v[0]); }, 0.1, 3,
        {kDouble ? 1e-3 : 0.05, 0.01 + (kDouble ? 0 : 0.1), 0.5, 1, 2, 50});
    add(Op::Log1p, "log1p", [](Graph&, std::span<const Var> v) { return log1p(v[0]); }, -0.5, 3,
        {-0.9, -0.5, 0, 1e-3, 1, 30});
    add(Op::Tanh, "tanh", [](Graph&, std::span<const Var> v) { return tanh(v[0]); }, -2, 2, battery(any));
    add(Op::Sigmoid, "sigmoid", [](Graph&, std::span<const Var> v) { return sigmoid(v[0]); }, -3, 3,
        battery(any));
    add(Op::Softplus, "softplus", [](Graph&, std::span<const Var> v) { return softplus(v[0]); }, -3, 3,
        battery(any));
    add(Op::Elu, "elu", [](Graph&, std::span<const Var> v) { return elu(v[0], 1.3); }, -2, 2,
        battery(nonzero));
    add(Op::Relu, "relu", [](Graph&, std::span<const Var> v) { return relu(v[0]); }, -2, 2,
        battery(nonzero));
    add(Op::Sqrt, "sqrt", [](Graph&, std::span<const Var> v) { return sqrt(v[0]); }, 0.1, 3,
        {kDouble ? 1e-4 : 0.05, 0.5, 1, 8, 400});
    add(Op::Square, "square", [](Graph&, std::span<const Var> v) { return square(v[0]); }, -2, 2,
        battery(any));
    add(Op::Abs, "abs", [](Graph&, std::span<const Var> v) { return abs(v[0]); }, -2, 2,
        battery(nonzero));
    add(Op::Pow, "pow 2.5", [](Graph&, std::span<const Var> v) { return pow(v[0], 2.5); }, 0.1, 3,
        {kDouble ? 1e-3 : 0.05, 0.5, 1, 3.5, 8});
    add(Op::Pow, "pow 3", [](Graph&, std::span<const Var> v) { return pow(v[0], 3); }, -2, 2,
        battery(moderate));
    add(Op::Pow, "pow -0.5", [](Graph&, std::span<const Var> v) { return pow(v[0], -0.5); }, 0.2, 3,
        {0.1, 1, 20});
    add(Op::Sin, "sin", [](Graph&, std::span<const Var> v) { return sin(v[0]); }, -4, 4, battery(any));
    add(Op::Cos, "cos", [](Graph&, std::span<const Var> v) { return cos(v[0]); }, -4, 4, battery(any));
    return cs;
}

std::vector<Case> binary_cases() {
    Fill r(22);
    std::vector<Case> cs;
    struct B { Op op; const char* name; Fn fn; bool positive_b; };
    const B ops[] = {
        {Op::Add, "add", [](Graph&, std::span<const Var> v) { return v[0] + v[1]; }, false},
        {Op::Sub, "sub", [](Graph&, std::span<const Var> v) { return v[0] - v[1]; }, false},
        {Op::Mul, "mul", [](Graph&, std::span<const Var> v) { return v[0] * v[1]; }, false},
        {Op::Div, "div", [](Graph&, std::span<const Var> v) { return v[0] / v[1]; }, true},
    };
    const std::pair<Shape, Shape> shapes[] = {
        {Shape{3, 4}, Shape{3, 4}}, {Shape{3, 4}, Shape{1, 4}}, {Shape{3, 4}, Shape{3, 1}},
        {Shape{3, 4}, Shape{1, 1}}, {Shape{1, 4}, Shape{3, 4}}, {Shape{3, 1}, Shape{3, 4}},
        {Shape{1, 1}, Shape{3, 4}}, {Shape{3, 1}, Shape{1, 4}},
    };
    for (const B& b : ops)
        for (auto [sa, sb] : shapes) {
            double lo = b.positive_b ? 0.5 : -2, hi = b.positive_b ? 2.5 : 2;
            cs.push_back({b.op, std::string(b.name) + " " + sa.str() + " " + sb.str(), b.fn,
                          {r.tensor(sa, -2, 2), r.tensor(sb, lo, hi)}});
        }
    // Division by negative numbers too.
    cs.push_back({Op::Div, "div negative", ops[3].fn,
                  {r.tensor(Shape{2, 3}, -2, 2), r.tensor(Shape{2, 3}, -2.5, -0.5)}});
    return cs;
}

std::vector<Case> matrix_cases() {
    Fill r(33);
    std::vector<Case> cs;
    for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
            // op(a) [3,5], op(b) [5,4]
            Shape sa = ta ? Shape{5, 3} : Shape{3, 5};
            Shape sb = tb ? Shape{4, 5} : Shape{5, 4};
            Fn fn = nullptr;
            if (!ta && !tb) fn = [](Graph&, std::span<const Var> v) { return matmul(v[0], v[1]); };
            if (!ta && tb) fn = [](Graph&, std::span<const Var> v) { return matmul(v[0], v[1], false, true); };
            if (ta && !tb) fn = [](Graph&, std::span<const Var> v) { return matmul(v[0], v[1], true, false); };
            if (ta && tb) fn = [](Graph&, std::span<const Var> v) { return matmul(v[0], v[1], true, true); };
            cs.push_back({Op::MatMul, "matmul ta=" + std::to_string(ta) + " tb=" + std::to_string(tb),
                          fn, {r.tensor(sa, -2, 2), r.tensor(sb, -2, 2)}});
        }
    cs.push_back({Op::Linear, "linear", [](Graph&, std::span<const Var> v) { return linear(v[0], v[1], v[2]); },
                  {r.tensor(Shape{4, 6}, -2, 2), r.tensor(Shape{3, 6}, -1, 1), r.tensor(Shape{1, 3}, -1, 1)}});
    Tensor x = r.tensor(Shape{3, 5}, 0, 1);
    Tensor logits = r.tensor(Shape{3, 5}, -4, 4);
    logits[0] = 30;  // far tails: the stable form must keep its gradient
    logits[1] = -30;
    cs.push_back({Op::BernoulliLogLik, "bernoulli_logits_loglik",
                  [](Graph&, std::span<const Var> v) { return bernoulli_logits_loglik(v[0], v[1]); },
                  {logits, x}});
    for (int rows : {1, 5}) {
        Tensor p = r.tensor(Shape{rows, 7}, -1.2, 1.2);  // D = 3: [u, w, b]
        cs.push_back({Op::Planar, "planar_layer params rows=" + std::to_string(rows),
                      [](Graph&, std::span<const Var> v) { return planar_layer(v[0], v[1]); },
                      {r.tensor(Shape{5, 3}, -2, 2), p}});
    }
    // Several layers in one node, reading their columns from an offset of a wider parameter
    // row: D = 2 (its own compiled kernel), D = 3, and D = 9 (per-sample rows then run along
    // D), a batch that does not fill the last block of samples, shared and per-sample rows.
    struct Multi { int N, D, rows; Fn fn; };
    for (Multi m : {Multi{5, 2, 1, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }},
                    Multi{5, 2, 5, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }},
                    Multi{19, 3, 1, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }},
                    Multi{19, 3, 19, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }},
                    Multi{3, 9, 3, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }},
                    Multi{3, 9, 1, [](Graph&, std::span<const Var> v) { return planar_layers(v[0], v[1], 2, 3); }}}) {
        const int cols = 2 + 3 * (2 * m.D + 1) + 1;  // two columns before the layers, one after
        cs.push_back({Op::Planar, "planar_layers K=3 N=" + std::to_string(m.N) + " D=" + std::to_string(m.D) +
                                      " rows=" + std::to_string(m.rows),
                      m.fn, {r.tensor(Shape{m.N, m.D}, -2, 2), r.tensor(Shape{m.rows, cols}, -1, 1)}});
    }
    return cs;
}

// Well-separated values so that max has no near-ties within a finite-difference step.
Tensor separated(Shape s, std::uint64_t seed) {
    Tensor t(s);
    Fill r(seed);
    std::vector<int> perm(static_cast<std::size_t>(t.numel()));
    for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int>(i);
    for (std::size_t i = perm.size(); i > 1; --i)
        std::swap(perm[i - 1], perm[static_cast<std::size_t>(r.next() * static_cast<double>(i))]);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t[i] = static_cast<real>(0.37 * (perm[static_cast<std::size_t>(i)] - 6));
    return t;
}

std::vector<Case> reduction_and_shape_cases() {
    Fill r(44);
    std::vector<Case> cs;
    Tensor x = r.tensor(Shape{3, 4}, -2, 2);
    cs.push_back({Op::Sum, "sum all", [](Graph&, std::span<const Var> v) { return sum(v[0]); }, {x}});
    cs.push_back({Op::Sum, "sum axis 0", [](Graph&, std::span<const Var> v) { return sum(v[0], 0); }, {x}});
    cs.push_back({Op::Sum, "sum axis 1", [](Graph&, std::span<const Var> v) { return sum(v[0], 1); }, {x}});
    cs.push_back({Op::Mean, "mean all", [](Graph&, std::span<const Var> v) { return mean(v[0]); }, {x}});
    cs.push_back({Op::Mean, "mean axis 0", [](Graph&, std::span<const Var> v) { return mean(v[0], 0); }, {x}});
    cs.push_back({Op::Mean, "mean axis 1", [](Graph&, std::span<const Var> v) { return mean(v[0], 1); }, {x}});
    cs.push_back({Op::Max, "max axis 0", [](Graph&, std::span<const Var> v) { return max(v[0], 0); },
                  {separated(Shape{3, 4}, 1)}});
    cs.push_back({Op::Max, "max axis 1", [](Graph&, std::span<const Var> v) { return max(v[0], 1); },
                  {separated(Shape{3, 4}, 2)}});
    cs.push_back({Op::LogSumExp, "logsumexp axis 0",
                  [](Graph&, std::span<const Var> v) { return logsumexp(v[0], 0); }, {x}});
    cs.push_back({Op::LogSumExp, "logsumexp axis 1",
                  [](Graph&, std::span<const Var> v) { return logsumexp(v[0], 1); }, {x}});
    Tensor big = x;
    for (std::int64_t i = 0; i < big.numel(); ++i) big[i] = big[i] * 20 + (i % 2 ? 40 : -40);
    cs.push_back({Op::LogSumExp, "logsumexp large values",
                  [](Graph&, std::span<const Var> v) { return logsumexp(v[0], 1); }, {big}});
    cs.push_back({Op::SliceCols, "slice_cols",
                  [](Graph&, std::span<const Var> v) { return slice_cols(v[0], 1, 3); }, {x}});
    cs.push_back({Op::ConcatCols, "concat_cols",
                  [](Graph&, std::span<const Var> v) { return concat_cols(v[0], v[1]); },
                  {x, r.tensor(Shape{3, 2}, -2, 2)}});
    cs.push_back({Op::Reshape, "reshape",
                  [](Graph&, std::span<const Var> v) { return reshape(v[0], Shape{2, 6}) * reshape(v[0], Shape{2, 6}); },
                  {x}});
    cs.push_back({Op::RepeatRows, "repeat_rows",
                  [](Graph&, std::span<const Var> v) { return repeat_rows(v[0], 3); }, {x}});
    return cs;
}

std::vector<Case> all_cases() {
    std::vector<Case> cs;
    for (auto* make : {unary_cases, binary_cases, matrix_cases, reduction_and_shape_cases})
        for (Case& c : make()) cs.push_back(std::move(c));
    return cs;
}

}  // namespace

TEST_CASE("every op in the table has a backward and a gradient check") {
    std::vector<Case> cs = all_cases();
    for (const OpInfo& info : kOpTable) {
        CAPTURE(info.name);
        CHECK(static_cast<bool>(info.backward));
        if (info.arity == 0) continue;  // leaves: param and input have nothing to check
        bool covered = false;
        for (const Case& c : cs) covered = covered || c.op == info.op;
        CHECK_MESSAGE(covered, "op '" << info.name << "' has no gradient-check case");
    }
}

TEST_CASE("gradient checks of every op") {
    for (Case& c : all_cases()) {
        CAPTURE(c.label);
        GradcheckResult res = gradcheck(c.fn, c.inputs);
        CHECK_MESSAGE(res.ok, c.label << ": " << res.message());
    }
}

// gradcheck makes its inputs parameters, whose gradients every backward adds to. Here each
// input first goes through v·1 + 0 (exact), so that the op under test is the first to write
// the gradient of a tape node (and assigns it, Graph::grad_to_write); then, with a consumer of
// that node placed after the op on the tape (½·sum, broadcast into the output, whose backward
// runs first and leaves a non-zero value in every element), the op must add to the gradient
// already there: an op that assigned it would lose that value, and the numerical check would
// see it. The second form runs on the random inputs only: broadcast into the battery's
// outputs (e^20 among them) it would drown the central differences in rounding.
TEST_CASE("gradient checks of every op on tape nodes: writing their first gradient, and adding") {
    for (Case& c : all_cases()) {
        for (bool later_consumer : {false, true}) {
            if (later_consumer && c.label.ends_with("battery")) continue;
            CAPTURE(c.label);
            CAPTURE(later_consumer);
            auto f = [&](Graph& g, std::span<const Var> v) {
                std::vector<Var> t;
                for (Var x : v) t.push_back(affine(x, 1, 0));
                Var y = c.fn(g, t);
                if (later_consumer)
                    for (Var x : t) y = y + affine(sum(x), 0.5, 0);
                return y;
            };
            GradcheckResult res = gradcheck(f, c.inputs);
            CHECK_MESSAGE(res.ok, c.label << ": " << res.message());
        }
    }
}

TEST_CASE("gradcheck catches a wrong backward") {
    // A deliberately wrong derivative must fail the check: x·x through mul with one side
    // detached gives half the true gradient.
    Tensor x = Fill(5).tensor(Shape{2, 2}, 0.5, 1.5);
    auto wrong = [](Graph& g, std::span<const Var> v) {
        Var detached = g.input(v[0].value());
        return v[0] * detached;
    };
    CHECK_FALSE(gradcheck(wrong, {x}).ok);
    auto right = [](Graph&, std::span<const Var> v) { return v[0] * v[0]; };
    CHECK(gradcheck(right, {x}).ok);
}
