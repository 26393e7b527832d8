// DEFLATE compression (RFC 1951) and its zlib (RFC 1950) and gzip (RFC 1952) wrappers.
//
// LZ77 over a 32 KiB window with hash chains (lazy matching from level 4), then each block
// of up to 16384 symbols is sent in whichever form is smallest: dynamic Huffman codes
// (optimal length-limited codes: 15 bits, 7 for the code-length code), the fixed codes, or
// stored bytes. Stored blocks bound the growth of incompressible data to 5 bytes per 64 KiB.
//
// Levels: 0 stores only; 1-3 match greedily with short chains; 4-9 look one byte ahead
// (lazy matching) with chains up to 4096 long. 6 is the usual trade-off. A level outside
// 0..9 throws std::invalid_argument. The output is deterministic for a given input and level.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace nfvi::io {

// A bare DEFLATE stream.
std::vector<std::uint8_t> deflate_raw(std::span<const std::uint8_t> in, int level = 6);

// A zlib stream: header 78 xx (32 KiB window, FLEVEL from `level`), DEFLATE data, Adler-32.
std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> in, int level = 6);

// A one-member gzip file (MTIME 0, OS "unknown"), with FNAME when `file_name` is not empty
// (it must not contain a zero byte: std::invalid_argument).
std::vector<std::uint8_t> gzip_compress(std::span<const std::uint8_t> in, int level = 6,
                                        std::string_view file_name = {});

}  // namespace nfvi::io
