// A fixed pool of worker threads for data-parallel loops.
//
// Each call splits a range into contiguous parts; a part's outputs belong to it alone, so
// results do not depend on the number of threads as long as the callee writes only what its
// range indexes. Reductions use fixed chunks chosen by the caller (see parallel_chunks) and
// combine the partials in chunk order.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace nfvi {

// A non-owning reference to a callable: no allocation, one indirect call.
template <class Sig>
class FnRef;

template <class R, class... A>
class FnRef<R(A...)> {
public:
    template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FnRef>>>
    FnRef(F&& f)  // NOLINT: implicit by design
        : obj_(const_cast<void*>(static_cast<const void*>(&f))),
          call_([](void* o, A... a) -> R {
              return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
          }) {}
    R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

private:
    void* obj_;
    R (*call_)(void*, A...);
};

// Number of threads that parallel loops use, the calling thread included. Default 1: the
// library starts no thread until asked. Values < 1 are taken as 1.
void set_num_threads(int n);
int num_threads();

// Calls fn(begin, end) over disjoint contiguous ranges that cover [0, n), each of at least
// `grain` items (but the last), and returns when all are done. Runs inline when the work is
// too small to split, when one thread is set, or when called from inside a parallel loop.
void parallel_for(std::int64_t n, std::int64_t grain, FnRef<void(std::int64_t, std::int64_t)> fn);

// Calls fn(chunk) once for each chunk in [0, chunks), in parallel. The caller fixes the chunks
// (e.g. 4096 elements each), so a reduction that keeps one partial per chunk and adds them in
// chunk order gives the same bits for any thread count.
inline void parallel_chunks(std::int64_t chunks, FnRef<void(std::int64_t)> fn) {
    parallel_for(chunks, 1, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t c = b; c < e; ++c) fn(c);
    });
}

}  // namespace nfvi
