// A bump allocator of reals for the tape: reset each step, memory kept.
//
// The first steps may grow it chunk by chunk; reset() then merges the chunks into one block
// large enough for everything seen so far, so that from then on a step allocates nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "autodiff/tensor.h"

namespace nfvi {

class Arena {
public:
    Arena() = default;
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;
    ~Arena();

    // `n` reals, 64-byte aligned, contents unspecified. Valid until reset().
    real* alloc(std::int64_t n);
    // Forgets every allocation; keeps (and merges) the memory.
    void reset();
    std::int64_t capacity() const;  // reals held, over all chunks
    std::int64_t used() const { return used_total_; }

private:
    struct Chunk {
        real* data;
        std::int64_t size;
    };
    std::vector<Chunk> chunks_;
    std::size_t current_ = 0;   // chunk being filled
    std::int64_t offset_ = 0;   // reals used in chunks_[current_]
    std::int64_t used_total_ = 0;
    std::int64_t peak_ = 0;     // most reals used in one step
};

}  // namespace nfvi
