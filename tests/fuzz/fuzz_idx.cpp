// libFuzzer entry point for the IDX (MNIST) reader (src/io/idx.h), through both of its doors:
// parse_idx_images / parse_idx_labels on the bytes in memory, and read_idx_images /
// read_idx_labels on a file, which is how a gzip-compressed file reaches gzip_decompress and
// its decompression cap. Any input must either parse or throw FormatError; a crash, a
// sanitizer report, any other exception or a broken property below is a bug.
//
// Every input is tried under the default IdxLimits and under tight ones (100 items, sides of
// 64, 4 KiB), so that the limit checks are reached by small inputs. The file goes to
// /dev/shm (memory, not disk; the system temporary directory if there is none), one file per
// process, rewritten for each input and removed at exit:
//   - an input starting with the gzip magic is written as it is and read back; it must give
//     what parse_idx_* gives on its decompressed bytes (and fail if they do not decompress);
//   - any other input is read back twice: written as it is (it must give exactly what
//     parse_idx_* gives), and wrapped in a gzip file of stored blocks (likewise), so that
//     fuzzed IDX headers and payloads also get through the gzip path.
// A parsed file must have count·rows·cols pixels (count labels) and re-encode to the input.
//
// Build and run with scripts/fuzz.sh SECONDS idx (seeds in corpus/idx/: .idx3 images,
// .idx1 labels, .gz compressed).
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include "src/io/checksum.h"
#include "src/io/files.h"
#include "src/io/idx.h"
#include "src/io/inflate.h"

namespace {

using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;

// The default limits, and tight ones that small inputs can reach.
const IdxLimits kLimits[] = {IdxLimits{}, IdxLimits{100, 64, 4096}};
constexpr std::size_t kInflateCap = std::size_t{1} << 23;
constexpr std::size_t kMaxExpanding = kInflateCap / 1100;

// The scratch file, removed when the fuzzer exits normally.
struct ScratchFile {
    std::string path;
    ScratchFile() {
        std::error_code ec;
        std::filesystem::path dir = "/dev/shm";
        if (!std::filesystem::is_directory(dir, ec)) dir = std::filesystem::temp_directory_path();
        path = (dir / ("nfvi-fuzz-idx-" + std::to_string(::getpid()))).string();
    }
    ~ScratchFile() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

const std::string& scratch(std::span<const std::uint8_t> bytes) {
    static ScratchFile file;
    write_file_atomic(file.path, bytes);
    return file.path;
}

template <class F>
auto attempt(F&& f) -> std::optional<decltype(f())> {
    try {
        return f();
    } catch (const FormatError&) {
        return std::nullopt;
    }
}

bool same(const std::optional<IdxImages>& a, const std::optional<IdxImages>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->count == b->count && a->rows == b->rows && a->cols == b->cols && a->pixels == b->pixels);
}
bool same(const std::optional<IdxLabels>& a, const std::optional<IdxLabels>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->count == b->count && a->labels == b->labels);
}

void check_parsed(const IdxImages& im, std::span<const std::uint8_t> in, const IdxLimits& l) {
    if (im.count < 0 || im.rows < 1 || im.cols < 1 || im.count > l.max_items || im.rows > l.max_side ||
        im.cols > l.max_side || im.pixels.size() > l.max_bytes)
        __builtin_trap();
    if (im.pixels.size() != std::size_t(im.count) * std::size_t(im.rows) * std::size_t(im.cols)) __builtin_trap();
    const Bytes back = encode_idx_images(im);
    if (!std::equal(back.begin(), back.end(), in.begin(), in.end())) __builtin_trap();
}

void check_parsed(const IdxLabels& lb, std::span<const std::uint8_t> in, const IdxLimits& l) {
    if (lb.count < 0 || lb.count > l.max_items || lb.labels.size() != std::size_t(lb.count)) __builtin_trap();
    const Bytes back = encode_idx_labels(lb);
    if (!std::equal(back.begin(), back.end(), in.begin(), in.end())) __builtin_trap();
}

// A one-member gzip file holding `in` in stored DEFLATE blocks: a valid wrapper made without
// the compressor (whose hash tables would dominate the time of each run).
Bytes gzip_stored(std::span<const std::uint8_t> in) {
    Bytes out = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255};  // [10 + 5 per block + in.size() + 8]
    std::size_t at = 0;
    do {
        const std::size_t n = std::min<std::size_t>(in.size() - at, 65535);
        const bool last = at + n == in.size();
        out.push_back(last ? 1 : 0);  // BFINAL, BTYPE 00 (stored)
        for (const std::size_t v : {n, n ^ 0xFFFF}) {
            out.push_back(static_cast<std::uint8_t>(v));
            out.push_back(static_cast<std::uint8_t>(v >> 8));
        }
        out.insert(out.end(), in.begin() + static_cast<std::ptrdiff_t>(at),
                   in.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
    } while (at < in.size());
    for (const std::uint32_t v : {crc32(in), static_cast<std::uint32_t>(in.size())})
        for (int s = 0; s < 32; s += 8) out.push_back(static_cast<std::uint8_t>(v >> s));
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    std::optional<IdxImages> images[2];
    std::optional<IdxLabels> labels[2];
    for (int k = 0; k < 2; ++k) {
        images[k] = attempt([&] { return parse_idx_images(in, kLimits[k]); });
        labels[k] = attempt([&] { return parse_idx_labels(in, kLimits[k]); });
        if (images[k]) check_parsed(*images[k], in, kLimits[k]);
        if (labels[k]) check_parsed(*labels[k], in, kLimits[k]);
    }

    if (is_gzip(in)) {
        // Reading the file must give what parsing its decompressed bytes gives. kInflateCap is
        // above what any input up to kMaxExpanding bytes can expand to (1032:1 at most), so a
        // stream too large for it would also be refused by read_idx_* under these limits.
        const std::string& path = scratch(in);
        const auto plain = attempt([&] { return gzip_decompress(in, kInflateCap); });
        for (const IdxLimits& limits : kLimits) {
            const auto im = attempt([&] { return read_idx_images(path, limits); });
            const auto lb = attempt([&] { return read_idx_labels(path, limits); });
            if (plain) {
                if (!same(im, attempt([&] { return parse_idx_images(*plain, limits); }))) __builtin_trap();
                if (!same(lb, attempt([&] { return parse_idx_labels(*plain, limits); }))) __builtin_trap();
            } else if (in.size() <= kMaxExpanding && (im || lb)) {
                __builtin_trap();
            }
        }
        return 0;
    }
    // The file path, plain and compressed, agrees with parsing in memory.
    for (const Bytes& file : {Bytes(in.begin(), in.end()), gzip_stored(in)}) {
        const std::string& path = scratch(file);
        for (int k = 0; k < 2; ++k) {
            if (!same(images[k], attempt([&] { return read_idx_images(path, kLimits[k]); }))) __builtin_trap();
            if (!same(labels[k], attempt([&] { return read_idx_labels(path, kLimits[k]); }))) __builtin_trap();
        }
    }
    return 0;
}
