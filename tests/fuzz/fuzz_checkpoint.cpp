// libFuzzer entry point for the checkpoint parser (src/io/checkpoint.h). Any input must either
// parse or throw FormatError; a crash, a sanitizer report or any other exception is a bug.
// Each input is parsed twice: as it is, and with its last 4 bytes replaced by the CRC of the
// others, so that mutations get past the checksum and reach the structure checks behind it
// (the fuzzer would rarely guess a valid CRC). A parsed checkpoint has every accessor called
// on every section, so that the typed readers (integers, text, tensors) are fuzzed too.
//
// Build and run with scripts/fuzz.sh SECONDS checkpoint (seeds in corpus/checkpoint/: small
// valid checkpoints of a float build, with text, integers, raw bytes and tensors of rank 0-4).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "autodiff/tensor.h"
#include "src/io/checkpoint.h"
#include "src/io/checksum.h"

namespace {

void parse_and_read(std::span<const std::uint8_t> input) {
    using namespace nfvi;
    using namespace nfvi::io;
    try {
        const Checkpoint ck = Checkpoint::parse(input, "fuzz input");
        for (const std::string& name : ck.names()) {
            if (!ck.has(name)) __builtin_trap();  // every listed name must be found
            const auto bytes = ck.bytes(name);
            volatile std::uint8_t sink = 0;
            for (std::uint8_t b : bytes) sink = sink ^ b;  // touch every byte (ASan checks bounds)
            if (ck.text(name).size() != bytes.size()) __builtin_trap();
            try {
                (void)ck.i64(name);
            } catch (const FormatError&) {
            }
            try {
                Tensor t(ck.tensor_shape(name));
                ck.read_tensor(name, t);
            } catch (const FormatError&) {
            }
        }
        (void)ck.has("no such section");
    } catch (const FormatError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    parse_and_read(std::span(data, size));
    if (size >= 4) {
        std::vector<std::uint8_t> fixed(data, data + size);  // [size], its own allocation for ASan
        const std::uint32_t crc = nfvi::io::crc32(std::span(fixed).first(size - 4));
        std::memcpy(fixed.data() + size - 4, &crc, 4);
        parse_and_read(fixed);
    }
    return 0;
}
