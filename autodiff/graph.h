// The tape: a flat array of nodes in creation order, so reverse order is topological.
//
// Every op evaluates its value when it is called (eager), records its parents and its op
// code, and its backward (looked up in the op table, op_table.h) runs in Graph::backward, a
// plain reverse loop. Values, gradients and saved statistics live in an Arena that clear()
// resets but keeps, so a training loop allocates nothing after its first step.
//
// Shapes: every op sees a tensor as a matrix [rows, cols] (tensor.h). A "column" is [m,1].
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "autodiff/arena.h"
#include "autodiff/parameter.h"
#include "autodiff/tensor.h"

namespace nfvi {

enum class Op : std::uint8_t;
class Graph;

// A handle to a node of a graph: cheap to copy, valid until the graph is cleared.
class Var {
public:
    Var() = default;
    Var(Graph* g, std::int32_t id) : g_(g), id_(id) {}

    Graph& graph() const { return *g_; }
    std::int32_t id() const { return id_; }
    bool valid() const { return g_ != nullptr; }

    // Views by value: a node's storage stays put, but the node array may grow.
    TensorRef value() const;
    TensorRef grad() const;  // empty (data == nullptr) if no gradient reached this node
    Shape shape() const { return value().shape; }
    int rows() const { return value().rows(); }
    int cols() const { return value().cols(); }
    real item() const;  // the value of a one-element tensor
    real* data() const { return value().data; }

private:
    Graph* g_ = nullptr;
    std::int32_t id_ = -1;
};

// One entry of the tape. Trivially destructible: the arena owns its memory.
struct Node {
    TensorRef value;
    TensorRef grad;        // data == nullptr until a gradient arrives
    TensorRef aux;         // statistics an op saves for its backward
    Parameter* param = nullptr;  // for Op::Param leaves
    std::int32_t parent[3] = {-1, -1, -1};
    std::int32_t iattr[2] = {0, 0};
    double fattr[2] = {0, 0};
    Op op{};
    std::uint8_t nparents = 0;
    bool needs_grad = false;
};
static_assert(std::is_trivially_destructible_v<Node>);

class Graph {
public:
    Graph() = default;
    Graph(const Graph&) = delete;
    Graph& operator=(const Graph&) = delete;

    // Leaves.
    Var param(Parameter& p);            // value is p.value (not copied); grads add into p.grad
    Var input(const Tensor& t);         // a constant, copied into the tape
    Var input(TensorRef t);             // a constant, copied into the tape
    Var input(Shape s);                 // a zero constant of shape s, for the caller to fill
    Var constant(Shape s, real v);      // a constant filled with v

    // Runs the backward of every node from `out` down to the first, in reverse creation
    // order. `out` must hold one element (its gradient is seeded with 1), or `seed` gives
    // d(objective)/d(out) with out's shape. Calling it again (for another output) adds that
    // output's gradients to the parameters; the tape's own gradients start afresh.
    void backward(Var out);
    void backward(Var out, TensorRef seed);

    // Forgets every node; keeps the memory for the next step.
    void clear();

    std::int32_t size() const { return static_cast<std::int32_t>(nodes_.size()); }
    Node& node(std::int32_t id) { return nodes_[static_cast<std::size_t>(id)]; }
    const Node& node(std::int32_t id) const { return nodes_[static_cast<std::size_t>(id)]; }
    // How many node backwards the last backward() ran (each node's at most once).
    std::int64_t backward_calls() const { return backward_calls_; }
    const Arena& arena() const { return arena_; }

    // For op implementations ------------------------------------------------------------
    // Appends a node with an uninitialised value of shape `s`.
    Var make(Op op, Shape s, std::initializer_list<Var> parents);
    // Scratch memory on the tape (valid until clear()).
    TensorRef alloc(Shape s);
    TensorRef alloc_zeroed(Shape s);
    // The gradient buffer of node `id`, made (zeroed) on first use. Gradients only accumulate.
    TensorRef grad_of(std::int32_t id);
    // The same buffer for a backward that writes every element of it: on first use it is made
    // but not zeroed, and `assign` is set, so that the caller sets (=) each element instead of
    // adding to zeros (saving a pass over the buffer). Once made, as grad_of: `assign` false.
    TensorRef grad_to_write(std::int32_t id, bool& assign);

private:
    std::vector<Node> nodes_;
    Arena arena_;
    std::int64_t backward_calls_ = 0;
};

inline TensorRef Var::value() const { return g_->node(id_).value; }
inline TensorRef Var::grad() const { return g_->node(id_).grad; }

}  // namespace nfvi
