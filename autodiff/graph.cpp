#include "autodiff/graph.h"

#include <algorithm>
#include <stdexcept>

#include "autodiff/op_table.h"

namespace nfvi {

real Var::item() const {
    TensorRef v = value();
    if (v.numel() != 1)
        throw std::invalid_argument("nfvi::Var::item: the tensor has shape " + v.shape.str() +
                                    ", not one element");
    return v.data[0];
}

TensorRef Graph::alloc(Shape s) { return {arena_.alloc(s.numel()), s}; }

TensorRef Graph::alloc_zeroed(Shape s) {
    TensorRef t = alloc(s);
    std::fill(t.data, t.data + t.numel(), real(0));
    return t;
}

Var Graph::make(Op op, Shape s, std::initializer_list<Var> parents) {
    Node n;
    n.op = op;
    for (Var p : parents) {
        if (&p.graph() != this)
            throw std::invalid_argument(std::string("nfvi::") + op_info(op).name +
                                        ": an input belongs to another graph");
        n.parent[n.nparents++] = p.id();
        n.needs_grad = n.needs_grad || node(p.id()).needs_grad;
    }
    n.value = alloc(s);
    nodes_.push_back(n);
    return Var(this, size() - 1);
}

Var Graph::param(Parameter& p) {
    if (!(p.grad.shape() == p.value.shape())) p.grad = Tensor(p.value.shape());
    Var v = make(Op::Param, p.value.shape(), {});
    Node& n = node(v.id());
    n.value = p.value.ref();  // no copy: the leaf reads the parameter itself
    n.grad = p.grad.ref();    // and its gradient accumulates into the parameter's
    n.param = &p;
    n.needs_grad = true;
    return v;
}

Var Graph::input(TensorRef t) {
    Var v = make(Op::Input, t.shape, {});
    std::copy(t.data, t.data + t.numel(), v.data());
    return v;
}

Var Graph::input(const Tensor& t) { return input(t.ref()); }

Var Graph::input(Shape s) { return constant(s, real(0)); }

Var Graph::constant(Shape s, real value) {
    Var v = make(Op::Input, s, {});
    std::fill(v.data(), v.data() + s.numel(), value);
    return v;
}

TensorRef Graph::grad_of(std::int32_t id) {
    Node& n = node(id);
    if (n.grad.data == nullptr) n.grad = alloc_zeroed(n.value.shape);
    return n.grad;
}

TensorRef Graph::grad_to_write(std::int32_t id, bool& assign) {
    Node& n = node(id);
    assign = n.grad.data == nullptr;
    if (assign) n.grad = alloc(n.value.shape);
    return n.grad;
}

void Graph::backward(Var out) {
    if (out.value().numel() != 1)
        throw std::invalid_argument("nfvi::Graph::backward: the output has shape " +
                                    out.shape().str() +
                                    "; reduce it to one element or pass a seed gradient");
    real one = 1;
    backward(out, TensorRef{&one, out.shape()});
}

void Graph::backward(Var out, TensorRef seed) {
    if (&out.graph() != this)
        throw std::invalid_argument("nfvi::Graph::backward: the output belongs to another graph");
    if (seed.numel() != out.value().numel())
        throw std::invalid_argument("nfvi::Graph::backward: seed shape " + seed.shape.str() +
                                    " does not match output shape " + out.shape().str());
    backward_calls_ = 0;
    // Gradients of an earlier backward stay in the parameters, not in the tape: each call
    // propagates only its own seed.
    for (std::int32_t i = 0; i <= out.id(); ++i)
        if (node(i).op != Op::Param) node(i).grad.data = nullptr;
    TensorRef g = grad_of(out.id());
    for (std::int64_t i = 0; i < seed.numel(); ++i) g.data[i] += seed.data[i];
    for (std::int32_t i = out.id(); i >= 0; --i) {
        Node& n = node(i);
        if (!n.needs_grad || n.grad.data == nullptr || n.nparents == 0) continue;
        op_info(n.op).backward(*this, n);
        ++backward_calls_;
    }
}

void Graph::clear() {
    nodes_.clear();  // keeps capacity; nodes are trivially destructible
    arena_.reset();
}

// Leaves have no parents: Graph::backward never calls these, but the table needs them.
void backward_Param(Graph&, Node&) {}
void backward_Input(Graph&, Node&) {}

}  // namespace nfvi
