// libFuzzer entry point for the DEFLATE decoder and its zlib and gzip wrappers
// (src/io/inflate.h). Any input must either decode or throw FormatError; a crash, a sanitizer
// report, any other exception or a broken property below is a bug.
// Each input is decoded three ways, as it is: inflate_raw, zlib_decompress, gzip_decompress,
// each capped at kCap = 256 KiB (a 4 KiB input can expand to 4 MiB, so the cap is hit). When it
// decodes as a raw stream, the output is checked further:
//   - the cap is exact: a cap of exactly the output size gives the same bytes, one less throws;
//   - the stream wrapped in a zlib frame (with the right Adler-32) and in a two-member gzip
//     file (with the right CRC-32 and size) decodes to the same bytes (twice for gzip), so the
//     wrappers' success paths see fuzzed DEFLATE data, which a mutated checksum rarely allows;
//   - the output compressed by deflate_raw (level chosen by the input) decodes back to itself.
//
// Build and run with scripts/fuzz.sh SECONDS inflate (seeds in corpus/inflate/; by extension:
// .deflate raw, .zlib zlib, .gz gzip — the harness gives every seed to all three decoders).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "src/io/checksum.h"
#include "src/io/deflate.h"
#include "src/io/inflate.h"

namespace {

using Bytes = std::vector<std::uint8_t>;
using nfvi::io::FormatError;

// Output limit while fuzzing: 4 KiB inputs reach it (DEFLATE expands up to 1032:1), and the
// bytes decoded per run, which set the speed of the fuzzer, stay moderate.
constexpr std::size_t kCap = std::size_t{1} << 18;
constexpr std::size_t kMaxRoundTrip = std::size_t{1} << 14;  // recompress outputs up to this

template <class F>
std::optional<Bytes> attempt(F&& decode) {
    try {
        return decode();
    } catch (const FormatError&) {
        return std::nullopt;
    }
}

void put_le32(Bytes& out, std::uint32_t v) {
    for (int s = 0; s < 32; s += 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

void check_raw_output(std::span<const std::uint8_t> in, const Bytes& out) {
    using namespace nfvi::io;
    if (out.size() > kCap) __builtin_trap();

    // The cap is exact.
    if (inflate_raw(in, out.size()) != out) __builtin_trap();
    if (!out.empty() && attempt([&] { return inflate_raw(in, out.size() - 1); })) __builtin_trap();

    // The same stream in a zlib frame: CMF 78 (deflate, 32 KiB window), FLG 9C (FCHECK ok).
    Bytes z = {0x78, 0x9C};  // [2 + in.size() + 4]
    z.insert(z.end(), in.begin(), in.end());
    const std::uint32_t adler = adler32(out);
    for (int s = 24; s >= 0; s -= 8) z.push_back(static_cast<std::uint8_t>(adler >> s));
    if (zlib_decompress(z, kCap) != out) __builtin_trap();

    // Two gzip members holding the same stream; the outputs are concatenated.
    Bytes member = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255};  // no flags, MTIME 0, OS unknown
    member.insert(member.end(), in.begin(), in.end());
    put_le32(member, crc32(out));
    put_le32(member, static_cast<std::uint32_t>(out.size()));
    Bytes two = member;  // [2 * member.size()]
    two.insert(two.end(), member.begin(), member.end());
    Bytes twice = out;  // [2 * out.size()]
    twice.insert(twice.end(), out.begin(), out.end());
    if (gzip_decompress(two, 2 * kCap) != twice) __builtin_trap();
    // ... and the total of both members is what the cap bounds.
    if (!out.empty() && attempt([&] { return gzip_decompress(two, twice.size() - 1); })) __builtin_trap();

    // Our compressor's output decodes back.
    if (out.size() <= kMaxRoundTrip) {
        const int level = static_cast<int>(in.size() % 10);
        if (inflate_raw(deflate_raw(out, level), out.size()) != out) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace nfvi::io;
    const std::span<const std::uint8_t> in(data, size);
    if (const auto raw = attempt([&] { return inflate_raw(in, kCap); })) check_raw_output(in, *raw);
    if (const auto z = attempt([&] { return zlib_decompress(in, kCap); }); z && z->size() > kCap) __builtin_trap();
    if (const auto g = attempt([&] { return gzip_decompress(in, kCap); }); g && g->size() > kCap) __builtin_trap();
    return 0;
}
