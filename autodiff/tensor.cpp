#include "autodiff/tensor.h"

#include <algorithm>
#include <new>
#include <stdexcept>

namespace nfvi {

Shape::Shape(std::initializer_list<int> d) {
    if (d.size() > 4) throw std::invalid_argument("nfvi: a shape has at most 4 dims");
    rank = static_cast<int>(d.size());
    std::size_t i = 0;
    for (int v : d) {
        if (v < 0) throw std::invalid_argument("nfvi: a shape's dims must be >= 0");
        dims[i++] = v;
    }
}

bool Shape::operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (std::size_t i = 0; i < static_cast<std::size_t>(rank); ++i)
        if (dims[i] != o.dims[i]) return false;
    return true;
}

std::string Shape::str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) {
        if (i) s += ',';
        s += std::to_string(dims[static_cast<std::size_t>(i)]);
    }
    return s + "]";
}

real* aligned_alloc_reals(std::int64_t n) {
    std::size_t bytes = static_cast<std::size_t>(std::max<std::int64_t>(n, 1)) * sizeof(real);
    bytes = (bytes + kAlign - 1) / kAlign * kAlign;
    return static_cast<real*>(::operator new(bytes, std::align_val_t{kAlign}));
}

void aligned_free_reals(real* p) {
    if (p) ::operator delete(p, std::align_val_t{kAlign});
}

Tensor::Tensor(Shape shape) : shape_(shape), capacity_(shape.numel()) {
    data_ = aligned_alloc_reals(capacity_);
    std::fill(data_, data_ + capacity_, real(0));
}

Tensor::Tensor(Shape shape, std::initializer_list<real> values) : Tensor(shape) {
    if (static_cast<std::int64_t>(values.size()) != numel())
        throw std::invalid_argument("nfvi: Tensor" + shape.str() + " given " +
                                    std::to_string(values.size()) + " values");
    std::copy(values.begin(), values.end(), data_);
}

Tensor Tensor::full(Shape shape, real v) {
    Tensor t(shape);
    t.fill(v);
    return t;
}

Tensor::Tensor(const Tensor& o) : shape_(o.shape_), capacity_(o.numel()) {
    data_ = aligned_alloc_reals(capacity_);
    std::copy(o.data_, o.data_ + o.numel(), data_);
}

Tensor::Tensor(Tensor&& o) noexcept : data_(o.data_), shape_(o.shape_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.shape_ = Shape{};
    o.capacity_ = 0;
}

Tensor& Tensor::operator=(const Tensor& o) {
    if (this != &o) {
        resize(o.shape_);
        std::copy(o.data_, o.data_ + o.numel(), data_);
    }
    return *this;
}

Tensor& Tensor::operator=(Tensor&& o) noexcept {
    if (this != &o) {
        aligned_free_reals(data_);
        data_ = o.data_;
        shape_ = o.shape_;
        capacity_ = o.capacity_;
        o.data_ = nullptr;
        o.shape_ = Shape{};
        o.capacity_ = 0;
    }
    return *this;
}

Tensor::~Tensor() { aligned_free_reals(data_); }

void Tensor::fill(real v) { std::fill(data_, data_ + numel(), v); }

void Tensor::resize(Shape shape) {
    if (shape.numel() > capacity_ || data_ == nullptr) {
        aligned_free_reals(data_);
        data_ = nullptr;
        capacity_ = shape.numel();
        data_ = aligned_alloc_reals(capacity_);
    }
    shape_ = shape;
}

}  // namespace nfvi
