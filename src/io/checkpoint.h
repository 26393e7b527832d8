// Checkpoint files of nfvi's training programs (`nfvi vae train --checkpoint-every N
// --resume`): a list of named sections, each a byte string, behind a checked header and a
// CRC-32. The trainer puts the model's tensors, the optimizer's save_state bytes, the RNG
// state, the step and a JSON string of its settings into sections; this file knows nothing of
// what they mean.
//
// File format. Every number is stored in the byte order of the machine that wrote it (a tag
// refuses the other byte order); offsets are in bytes.
//
//   header
//     0   8  magic "NFVICKPT"
//     8   4  u32 format version, 1
//    12   4  u32 byte-order tag 0x01020304
//    16   4  u32 section count C (at most 4096)
//   then C sections, in the order they were added:
//         4  u32 name length L (1..64)
//         L  name: printable ASCII (0x20..0x7E), unique within the file
//         8  u64 payload length P
//         P  payload
//   trailer
//         4  u32 CRC-32 (zlib's, see checksum.h) of every byte before it
//
//   Nothing may follow the CRC. The magic, the byte-order tag and the trailing CRC over all
//   preceding bytes are kept by every later format version, so that a newer file can be told
//   from a damaged one.
//
// Typed payloads (what add_u64 / add_i64 / add_text / add_tensor write):
//   u64, i64  8 bytes, the integer in the writer's byte order
//   text      the bytes of the string, no terminator
//   tensor    0   4  u32 element size S: 4 (float build) or 8 (double build), sizeof(real)
//             4   4  u32 rank R (0..4)
//             8  4R  R × u32 dims (each at most 2^31-1)
//             .  n·S n values of type `real`, row-major; n = product of dims (1 when R = 0)
//
// Reading is strict, and safe on hostile input (the parser is fuzzed): the magic, version,
// byte-order tag, every length against the bytes that remain, the limits, the CRC and the
// absence of trailing bytes are checked before any section is handed out, and nothing is read
// out of bounds. Every problem throws FormatError naming the file, what is wrong and what to
// do; a file cut short says "truncated", a damaged byte says "checksum mismatch".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tensor.h"
#include "src/io/error.h"

namespace nfvi::io {

inline constexpr std::uint32_t kCheckpointVersion = 1;
inline constexpr std::size_t kCheckpointMaxSections = 4096;
inline constexpr std::size_t kCheckpointMaxName = 64;  // bytes

// Collects sections in memory, then serializes them. Every add throws std::invalid_argument
// for a name that is empty, longer than 64 bytes, not printable ASCII or already added, and
// beyond 4096 sections (these are programming errors, not bad files).
class CheckpointWriter {
public:
    void add(std::string name, std::span<const std::uint8_t> payload);
    void add(std::string name, std::span<const std::byte> payload);  // e.g. Optimizer::save_state()
    void add_text(std::string name, std::string_view text);
    void add_tensor(std::string name, const Tensor& t);  // layout above
    void add_u64(std::string name, std::uint64_t v);
    void add_i64(std::string name, std::int64_t v);

    std::size_t size() const { return sections_.size(); }  // sections added so far

    // The complete file.
    std::vector<std::uint8_t> bytes() const;
    // Replaces (or creates) `path` atomically (write_file_atomic): after a failure, which
    // throws IoError, the file at `path` is still the old one.
    void write(const std::string& path) const;

private:
    struct Section {
        std::string name;
        std::vector<std::uint8_t> payload;
    };
    void check_new_name(const std::string& name) const;
    std::vector<Section> sections_;  // in the order added
};

// A parsed, fully checked checkpoint. Owns a copy of the file's bytes; the spans it returns
// stay valid while it lives. Each accessor throws FormatError naming the file and the
// section if the section is missing or its payload does not have the asked-for layout.
class Checkpoint {
public:
    // `name_for_messages` is what errors call the data (normally the path).
    static Checkpoint parse(std::span<const std::uint8_t> bytes, std::string_view name_for_messages);
    // Reads the file (IoError if it cannot be read; FormatError if it is larger than
    // `max_bytes` or is not a valid checkpoint).
    static Checkpoint load(const std::string& path, std::size_t max_bytes = std::size_t{1} << 31);

    const std::string& source() const { return source_; }  // name_for_messages, or the path
    std::vector<std::string> names() const;                // in file order
    bool has(std::string_view name) const;

    std::span<const std::uint8_t> bytes(std::string_view name) const;
    std::string text(std::string_view name) const;
    std::uint64_t u64(std::string_view name) const;  // the payload must be 8 bytes
    std::int64_t i64(std::string_view name) const;

    // The shape of a tensor section (its layout is checked; its element size may differ from
    // this build's).
    Shape tensor_shape(std::string_view name) const;
    // Copies a tensor section into `into`, whose shape must already be the stored one and
    // whose build must have the stored element size. On a mismatch FormatError says which
    // tensor, both shapes (or element sizes), and that the checkpoint comes from a different
    // architecture or a float/double build; `into` is then unchanged.
    void read_tensor(std::string_view name, Tensor& into) const;

private:
    struct Section {
        std::string name;
        std::size_t offset = 0;  // of the payload in data_
        std::size_t size = 0;
    };
    static Checkpoint parse_owned(std::vector<std::uint8_t> data, std::string_view name_for_messages);
    const Section& find(std::string_view name) const;

    std::string source_;
    std::vector<std::uint8_t> data_;  // the whole file
    std::vector<Section> sections_;   // in file order
    std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in sections_
};

}  // namespace nfvi::io
