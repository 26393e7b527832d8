// CRC-32 by "slicing by 8" (eight 256-entry tables, eight bytes per step) and Adler-32 with
// the modulo taken once per 5552 bytes, the longest run whose sums cannot overflow 32 bits.
#include "src/io/checksum.h"

#include <array>
#include <cstddef>

namespace nfvi::io {

namespace {

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// t[0] is the byte-at-a-time table; t[k][b] is the CRC of byte b followed by k zero bytes,
// so eight bytes can be folded with eight independent look-ups.
constexpr Tables make_tables() {
    Tables t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t c = b;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][b] = c;
    }
    for (std::uint32_t b = 0; b < 256; ++b)
        for (std::size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    return t;
}

constexpr Tables kCrc = make_tables();

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> data, std::uint32_t crc) {
    std::uint32_t c = ~crc;
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    while (n >= 8) {
        const std::uint32_t lo = c ^ (std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 |
                                      std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24);
        c = kCrc[7][lo & 0xFF] ^ kCrc[6][(lo >> 8) & 0xFF] ^ kCrc[5][(lo >> 16) & 0xFF] ^
            kCrc[4][lo >> 24] ^ kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
        p += 8;
        n -= 8;
    }
    while (n--) c = kCrc[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

std::uint32_t crc32(std::string_view text, std::uint32_t crc) { return crc32(bytes_of(text), crc); }

std::uint32_t adler32(std::span<const std::uint8_t> data, std::uint32_t adler) {
    constexpr std::uint32_t kMod = 65521;
    constexpr std::size_t kRun = 5552;  // largest n with 255·n(n+1)/2 + (n+1)(kMod−1) < 2³²
    std::uint32_t a = (adler & 0xFFFF) % kMod, b = (adler >> 16) % kMod;
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    while (n > 0) {
        const std::size_t run = n < kRun ? n : kRun;
        for (std::size_t i = 0; i < run; ++i) {
            a += p[i];
            b += a;
        }
        a %= kMod;
        b %= kMod;
        p += run;
        n -= run;
    }
    return b << 16 | a;
}

std::uint32_t adler32(std::string_view text, std::uint32_t adler) {
    return adler32(bytes_of(text), adler);
}

}  // namespace nfvi::io
