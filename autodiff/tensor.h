// Tensors: contiguous row-major storage of `real`, a shape of up to 4 dims, 64-byte aligned.
//
// Ops see every tensor as a matrix [rows, cols]: cols is the last dim, rows the product of
// the others (a scalar is [1,1]). `Tensor` owns its memory (value semantics: a copy is deep);
// `TensorRef` is a trivially copyable view used on the tape.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "autodiff/config.h"

namespace nfvi {

inline constexpr std::size_t kAlign = 64;  // bytes; one cache line, one AVX-512 register

struct Shape {
    std::array<int, 4> dims{1, 1, 1, 1};
    int rank = 0;

    constexpr Shape() = default;
    Shape(std::initializer_list<int> d);
    static Shape matrix(int rows, int cols) { return Shape{rows, cols}; }

    std::int64_t numel() const {
        std::int64_t n = 1;
        for (int i = 0; i < rank; ++i) n *= dims[static_cast<std::size_t>(i)];
        return n;
    }
    int cols() const { return rank == 0 ? 1 : dims[static_cast<std::size_t>(rank - 1)]; }
    int rows() const {
        int r = 1;
        for (int i = 0; i + 1 < rank; ++i) r *= dims[static_cast<std::size_t>(i)];
        return r;
    }
    int operator[](int i) const { return dims[static_cast<std::size_t>(i)]; }
    bool operator==(const Shape& o) const;
    std::string str() const;  // "[3,4]"
};

// A view of `shape.numel()` reals at `data`. Does not own.
struct TensorRef {
    real* data = nullptr;
    Shape shape;

    std::int64_t numel() const { return shape.numel(); }
    int rows() const { return shape.rows(); }
    int cols() const { return shape.cols(); }
    real& operator[](std::int64_t i) const { return data[i]; }
    real& at(int r, int c) const { return data[static_cast<std::int64_t>(r) * cols() + c]; }
};

class Tensor {
public:
    Tensor() = default;
    explicit Tensor(Shape shape);  // zero-filled
    Tensor(Shape shape, std::initializer_list<real> values);
    static Tensor zeros(Shape shape) { return Tensor(shape); }
    static Tensor full(Shape shape, real v);

    Tensor(const Tensor& o);
    Tensor(Tensor&& o) noexcept;
    Tensor& operator=(const Tensor& o);
    Tensor& operator=(Tensor&& o) noexcept;
    ~Tensor();

    real* data() { return data_; }
    const real* data() const { return data_; }
    const Shape& shape() const { return shape_; }
    std::int64_t numel() const { return shape_.numel(); }
    int rows() const { return shape_.rows(); }
    int cols() const { return shape_.cols(); }
    real& operator[](std::int64_t i) { return data_[i]; }
    real operator[](std::int64_t i) const { return data_[i]; }
    real& at(int r, int c) { return data_[static_cast<std::int64_t>(r) * cols() + c]; }
    real at(int r, int c) const { return data_[static_cast<std::int64_t>(r) * cols() + c]; }

    TensorRef ref() { return {data_, shape_}; }
    TensorRef ref() const { return {data_, shape_}; }  // the caller promises not to write
    void fill(real v);
    // Changes the shape; keeps the memory when it is large enough (contents then unspecified).
    void resize(Shape shape);

private:
    real* data_ = nullptr;
    Shape shape_;
    std::int64_t capacity_ = 0;
};

// Memory aligned to kAlign bytes, for `n` reals. Never returns null (throws std::bad_alloc).
real* aligned_alloc_reals(std::int64_t n);
void aligned_free_reals(real* p);

}  // namespace nfvi
