// Checksums of the zlib, gzip and PNG formats: CRC-32 (polynomial 0xEDB88320, reflected) and
// Adler-32. Both take an earlier result to continue a running checksum over more bytes:
//   crc32(ab) == crc32(b, crc32(a)),   adler32(ab) == adler32(b, adler32(a)).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace nfvi::io {

// CRC-32 of `data`, continuing from `crc` (0 = start). crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::span<const std::uint8_t> data, std::uint32_t crc = 0);
std::uint32_t crc32(std::string_view text, std::uint32_t crc = 0);

// Adler-32 of `data`, continuing from `adler` (1 = start). adler32("Wikipedia") == 0x11E60398.
std::uint32_t adler32(std::span<const std::uint8_t> data, std::uint32_t adler = 1);
std::uint32_t adler32(std::string_view text, std::uint32_t adler = 1);

}  // namespace nfvi::io
