// Decompression of DEFLATE data (RFC 1951) and its two wrappers, zlib (RFC 1950) and gzip
// (RFC 1952), written to survive hostile input: every length, code and distance is checked,
// and any malformed, truncated or oversized stream throws nfvi::io::FormatError naming the
// byte where the problem was found. Nothing is read out of bounds.
//
// `max_out` caps the decompressed size: a stream that would produce more throws
// "output exceeds the limit of N bytes ..." before any more memory is allocated, so a small
// file cannot make the program allocate gigabytes (a "decompression bomb").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "src/io/error.h"

namespace nfvi::io {

// A bare DEFLATE stream: stored, fixed-Huffman and dynamic-Huffman blocks up to the final
// block. Bytes after the final block are an error (a raw stream has no framing to skip them).
std::vector<std::uint8_t> inflate_raw(std::span<const std::uint8_t> in, std::size_t max_out);

// A zlib stream: 2-byte header (method 8, window ≤ 32 KiB, FCHECK; a preset dictionary is
// refused), DEFLATE data, then the Adler-32 of the output, checked. Nothing may follow it.
std::vector<std::uint8_t> zlib_decompress(std::span<const std::uint8_t> in, std::size_t max_out);

// A gzip file: one or more members, each a header (FEXTRA, FNAME, FCOMMENT and FHCRC are
// parsed and skipped; the header CRC is checked), DEFLATE data, then CRC-32 and ISIZE, both
// checked. The members' outputs are concatenated; `max_out` bounds their total. Bytes after
// the last member that do not start another member (zero padding included) are an error.
std::vector<std::uint8_t> gzip_decompress(std::span<const std::uint8_t> in, std::size_t max_out);

// True when `in` starts with the gzip magic bytes 1F 8B.
bool is_gzip(std::span<const std::uint8_t> in);

}  // namespace nfvi::io
