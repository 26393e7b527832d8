#include "autodiff/arena.h"

#include <algorithm>

namespace nfvi {

namespace {
constexpr std::int64_t kAlignReals = static_cast<std::int64_t>(kAlign / sizeof(real));
constexpr std::int64_t kMinChunk = std::int64_t{1} << 16;
}  // namespace

Arena::~Arena() {
    for (Chunk& c : chunks_) aligned_free_reals(c.data);
}

real* Arena::alloc(std::int64_t n) {
    n = (std::max<std::int64_t>(n, 1) + kAlignReals - 1) / kAlignReals * kAlignReals;
    while (current_ < chunks_.size() && offset_ + n > chunks_[current_].size) {
        ++current_;
        offset_ = 0;
    }
    if (current_ == chunks_.size()) {
        std::int64_t size = std::max({n, kMinChunk, capacity()});
        chunks_.push_back({aligned_alloc_reals(size), size});
        offset_ = 0;
    }
    real* p = chunks_[current_].data + offset_;
    offset_ += n;
    used_total_ += n;
    return p;
}

std::int64_t Arena::capacity() const {
    std::int64_t c = 0;
    for (const Chunk& ch : chunks_) c += ch.size;
    return c;
}

void Arena::reset() {
    peak_ = std::max(peak_, used_total_);
    if (chunks_.size() > 1) {
        // Replace the chunks by one that holds the largest step seen, with room to spare.
        std::int64_t size = std::max(capacity(), peak_ + peak_ / 4);
        for (Chunk& c : chunks_) aligned_free_reals(c.data);
        chunks_.clear();
        chunks_.push_back({aligned_alloc_reals(size), size});
    }
    current_ = 0;
    offset_ = 0;
    used_total_ = 0;
}

}  // namespace nfvi
