#include "autodiff/op_table.h"

namespace nfvi {

const std::array<OpInfo, kOpCount> kOpTable = {{
#define NFVI_X(e, name, arity) {Op::e, name, arity, &backward_##e},
    NFVI_OPS(NFVI_X)
#undef NFVI_X
}};

namespace {
constexpr std::size_t count_listed() {
    std::size_t n = 0;
#define NFVI_X(e, name, arity) ++n;
    NFVI_OPS(NFVI_X)
#undef NFVI_X
    return n;
}
}  // namespace
static_assert(count_listed() == kOpCount, "the op table must list every op exactly once");

}  // namespace nfvi
