// The one table of ops: every op code, its name and its backward.
//
// NFVI_OPS lists each op once; the enum, the table and the declarations of the backward
// functions are all made from it, so an op cannot exist without a backward (the link fails)
// and the gradient-check suite walks the same list to make sure each op has a check.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace nfvi {

class Graph;
struct Node;

// X(Enum, name, arity). Arity is the number of Var inputs the op takes.
#define NFVI_OPS(X)                          \
    X(Param, "param", 0)                     \
    X(Input, "input", 0)                     \
    X(Add, "add", 2)                         \
    X(Sub, "sub", 2)                         \
    X(Mul, "mul", 2)                         \
    X(Div, "div", 2)                         \
    X(Neg, "neg", 1)                         \
    X(Affine, "affine", 1)                   \
    X(MatMul, "matmul", 2)                   \
    X(Exp, "exp", 1)                         \
    X(Log, "log", 1)                         \
    X(Log1p, "log1p", 1)                     \
    X(Tanh, "tanh", 1)                       \
    X(Sigmoid, "sigmoid", 1)                 \
    X(Softplus, "softplus", 1)               \
    X(Elu, "elu", 1)                         \
    X(Relu, "relu", 1)                       \
    X(Sqrt, "sqrt", 1)                       \
    X(Square, "square", 1)                   \
    X(Abs, "abs", 1)                         \
    X(Pow, "pow", 1)                         \
    X(Sin, "sin", 1)                         \
    X(Cos, "cos", 1)                         \
    X(Sum, "sum", 1)                         \
    X(Mean, "mean", 1)                       \
    X(Max, "max", 1)                         \
    X(LogSumExp, "logsumexp", 1)             \
    X(SliceCols, "slice_cols", 1)            \
    X(ConcatCols, "concat_cols", 2)          \
    X(Reshape, "reshape", 1)                 \
    X(RepeatRows, "repeat_rows", 1)          \
    X(Linear, "linear", 3)                   \
    X(BernoulliLogLik, "bernoulli_logits_loglik", 2) \
    X(Planar, "planar", 2)

enum class Op : std::uint8_t {
#define NFVI_X(e, name, arity) e,
    NFVI_OPS(NFVI_X)
#undef NFVI_X
        Count
};

inline constexpr std::size_t kOpCount = static_cast<std::size_t>(Op::Count);

using BackwardFn = void (*)(Graph&, Node&);

struct OpInfo {
    Op op;
    const char* name;
    int arity;
    BackwardFn backward;
};

// Declarations of every backward: backward_Add, backward_Exp, ...
#define NFVI_X(e, name, arity) void backward_##e(Graph&, Node&);
NFVI_OPS(NFVI_X)
#undef NFVI_X

extern const std::array<OpInfo, kOpCount> kOpTable;

inline const OpInfo& op_info(Op op) { return kOpTable[static_cast<std::size_t>(op)]; }

}  // namespace nfvi
