// DEFLATE decoder (RFC 1951) with zlib (RFC 1950) and gzip (RFC 1952) framing.
//
// Bits are read least-significant first from a 64-bit buffer that is refilled eight bytes at
// a time while at least eight bytes remain, then byte by byte; `count` counts only real
// input bits, so taking more bits than remain is detected as truncation. Huffman codes are
// decoded with a two-level table: the first `root` bits index a primary table whose entries
// are a symbol, a link to a secondary table for longer codes, or "invalid" (the unused codes
// of the incomplete sets RFC 1951 allows).
#include "src/io/inflate.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "src/io/checksum.h"
#include "src/io/deflate_tables.h"

namespace nfvi::io {

namespace {

using namespace deflate_tables;


constexpr unsigned kMaxBits = 15;

[[noreturn]] void fail(const std::string& msg) { throw FormatError(msg); }

// Table entries: a leaf is  symbol | length << 16;  a link is  offset | sub_bits << 16 | kLink;
// an unused code is kInvalid.
constexpr std::uint32_t kLink = 1u << 30;
constexpr std::uint32_t kInvalid = 1u << 31;

struct Table {
    unsigned root = 0;
    std::vector<std::uint32_t> entries;  // [2^root primary, then secondary tables]
};

enum class Incomplete { refuse, allow_single_or_empty };

// Builds the decoding table of the canonical code with lengths lens[0..n). Over-subscribed
// sets are always refused; incomplete ones only when `policy` allows them (RFC 1951 allows a
// distance code with no codes at all, or with a single one-bit code).
void build_table(Table& t, const std::uint8_t* lens, unsigned n, unsigned root, Incomplete policy,
                 const char* what, std::size_t at) {
    std::array<unsigned, kMaxBits + 2> count{};
    for (unsigned s = 0; s < n; ++s) ++count[lens[s]];
    count[0] = 0;
    long left = 1;
    for (unsigned len = 1; len <= kMaxBits; ++len) {
        left = (left << 1) - count[len];
        if (left < 0)
            fail(std::string("inflate: over-subscribed ") + what + " code at byte " +
                 std::to_string(at));
    }
    unsigned used = 0;
    for (unsigned len = 1; len <= kMaxBits; ++len) used += count[len];
    if (left > 0) {
        const bool ok = policy == Incomplete::allow_single_or_empty &&
                        (used == 0 || (used == 1 && count[1] == 1));
        if (!ok)
            fail(std::string("inflate: incomplete ") + what + " code at byte " + std::to_string(at));
    }

    // Symbols sorted by (length, symbol), and their canonical codes.
    std::array<unsigned, kMaxBits + 2> offs{};
    for (unsigned len = 1; len <= kMaxBits; ++len) offs[len + 1] = offs[len] + count[len];
    std::array<std::uint16_t, 320> sorted{};  // [used]
    for (unsigned s = 0; s < n; ++s)
        if (lens[s]) sorted[offs[lens[s]]++] = static_cast<std::uint16_t>(s);
    std::array<std::uint32_t, 320> rev{};  // [used] bit-reversed codes, in stream order
    std::array<unsigned, kMaxBits + 2> next{};
    for (unsigned len = 1, code = 0; len <= kMaxBits; ++len) {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    for (unsigned i = 0; i < used; ++i) {
        const unsigned len = lens[sorted[i]];
        const unsigned code = next[len]++;
        unsigned r = 0;
        for (unsigned b = 0; b < len; ++b) r |= ((code >> b) & 1u) << (len - 1 - b);
        rev[i] = r;
    }

    t.root = root;
    const std::uint32_t root_size = 1u << root, root_mask = root_size - 1;
    t.entries.assign(root_size, kInvalid);
    for (unsigned i = 0; i < used;) {
        const unsigned len = lens[sorted[i]];
        if (len <= root) {
            for (std::uint32_t r = rev[i]; r < root_size; r += 1u << len)
                t.entries[r] = sorted[i] | len << 16;
            ++i;
            continue;
        }
        // Codes longer than `root` sharing their first `root` bits are contiguous in
        // canonical order; the last one is the longest and sets the secondary table's size.
        const std::uint32_t prefix = rev[i] & root_mask;
        unsigned j = i;
        while (j + 1 < used && (rev[j + 1] & root_mask) == prefix) ++j;
        const unsigned sub_bits = lens[sorted[j]] - root;
        const std::size_t base = t.entries.size();
        t.entries.resize(base + (std::size_t{1} << sub_bits), kInvalid);
        t.entries[prefix] = static_cast<std::uint32_t>(base) | sub_bits << 16 | kLink;
        for (; i <= j; ++i) {
            const unsigned l = lens[sorted[i]];
            for (std::uint32_t r = rev[i] >> root; r < (1u << sub_bits); r += 1u << (l - root))
                t.entries[base + r] = sorted[i] | l << 16;
        }
    }
}

std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = v << 8 | p[i];  // compilers turn this into one load
    return v;
}

// Where decoded bytes go. buf.size() is the capacity; `size` bytes are filled. The window
// of the stream being decoded starts at `start` (each gzip member has its own).
struct Output {
    std::vector<std::uint8_t> buf;
    std::size_t size = 0;
    std::size_t start = 0;
    std::size_t max = 0;
};

// LSB-first bit reader. Copied into locals by the decoding loop so that the compiler can keep
// it in registers (stores of output bytes could otherwise alias it).
struct BitReader {
    const std::uint8_t* in;
    std::size_t n;
    std::size_t offset;        // position of in[0] in the caller's buffer, for messages
    std::size_t pos = 0;       // next byte to load into bits
    std::uint64_t bits = 0;    // buffered bits, next bit lowest
    unsigned count = 0;        // number of buffered bits that are real input

    // Byte position of the next unread bit, in the caller's buffer.
    std::size_t where() const { return offset + (pos * 8 - count) / 8; }

    [[noreturn]] void truncated() const {
        fail("inflate: unexpected end of input at byte " + std::to_string(offset + n) +
             " (the stream is truncated)");
    }

    // Afterwards at least 56 bits are buffered, or all that is left of the input.
    void refill() {
        if (n - pos >= 8) {
            bits |= load_le64(in + pos) << count;
            pos += (63 - count) >> 3;
            count |= 56;
        } else {
            while (count <= 56 && pos < n) {
                bits |= std::uint64_t{in[pos++]} << count;
                count += 8;
            }
        }
    }

    // Takes k ≤ 32 bits, which the caller has made sure are buffered (or the input ended).
    std::uint32_t take(unsigned k) {
        if (k > count) truncated();
        const auto v = static_cast<std::uint32_t>(bits & ((std::uint64_t{1} << k) - 1));
        bits >>= k;
        count -= k;
        return v;
    }

    unsigned decode(const Table& t, const char* what) {
        std::uint32_t e = t.entries[bits & ((1u << t.root) - 1)];
        if (e & kLink) {
            const unsigned sub = (e >> 16) & 0xFF;
            e = t.entries[(e & 0xFFFF) + ((bits >> t.root) & ((1u << sub) - 1))];
        }
        if (e & kInvalid) {
            if (count < kMaxBits && pos == n) truncated();
            fail(std::string("inflate: invalid ") + what + " code at byte " + std::to_string(where()));
        }
        const unsigned len = (e >> 16) & 0xFF;
        if (len > count) truncated();
        bits >>= len;
        count -= len;
        return e & 0xFFFF;
    }
};

class Inflater {
public:
    // `in` is the deflate data; `offset` is its position in the caller's buffer, for messages.
    Inflater(std::span<const std::uint8_t> in, std::size_t offset, Output& out)
        : br_{in.data(), in.size(), offset}, out_(out) {}

    // Decodes blocks up to the final one and returns the number of input bytes used.
    std::size_t run() {
        bool final = false;
        while (!final) {
            br_.refill();
            final = br_.take(1) != 0;
            switch (br_.take(2)) {
                case 0: stored_block(); break;
                case 1: huffman_block(fixed_tables().first, fixed_tables().second); break;
                case 2:
                    read_dynamic_tables();
                    huffman_block(lit_, dist_);
                    break;
                default: fail("inflate: invalid block type 3 at byte " + std::to_string(br_.where()));
            }
        }
        return (br_.pos * 8 - br_.count + 7) / 8;
    }

private:
    // Grows the output so that `k` more bytes fit, within the limit.
    void grow(std::size_t k) {
        const std::size_t need = out_.size + k;
        if (need > out_.max || need < k)
            fail("inflate: output exceeds the limit of " + std::to_string(out_.max) +
                 " bytes: a corrupt file or a decompression bomb");
        std::size_t cap = std::max<std::size_t>(out_.buf.size() * 2, 1 << 16);
        cap = std::max(need, std::min(cap, out_.max));
        out_.buf.resize(cap);
    }

    void stored_block() {
        BitReader& b = br_;
        // Skip to the byte boundary, then put the buffered whole bytes back.
        b.take(b.count % 8);
        b.pos -= b.count / 8;
        b.bits = 0;
        b.count = 0;
        if (b.n - b.pos < 4) b.truncated();
        const unsigned len = b.in[b.pos] | unsigned{b.in[b.pos + 1]} << 8;
        const unsigned nlen = b.in[b.pos + 2] | unsigned{b.in[b.pos + 3]} << 8;
        if (len != (~nlen & 0xFFFF))
            fail("inflate: stored block length " + std::to_string(len) +
                 " does not match its complement at byte " + std::to_string(b.offset + b.pos));
        b.pos += 4;
        if (b.n - b.pos < len) b.truncated();
        if (out_.buf.size() - out_.size < len) grow(len);
        if (len) std::memcpy(out_.buf.data() + out_.size, b.in + b.pos, len);
        out_.size += len;
        b.pos += len;
    }

    static const std::pair<Table, Table>& fixed_tables() {
        static const std::pair<Table, Table> tables = [] {
            std::array<std::uint8_t, 288> lit{};
            std::fill(lit.begin(), lit.begin() + 144, 8);
            std::fill(lit.begin() + 144, lit.begin() + 256, 9);
            std::fill(lit.begin() + 256, lit.begin() + 280, 7);
            std::fill(lit.begin() + 280, lit.end(), 8);
            std::array<std::uint8_t, 32> dist{};
            dist.fill(5);
            std::pair<Table, Table> t;
            build_table(t.first, lit.data(), 288, 9, Incomplete::refuse, "fixed literal/length", 0);
            build_table(t.second, dist.data(), 32, 5, Incomplete::refuse, "fixed distance", 0);
            return t;
        }();
        return tables;
    }

    void read_dynamic_tables() {
        BitReader& b = br_;
        const std::size_t at = b.where();
        b.refill();
        const unsigned hlit = b.take(5) + 257, hdist = b.take(5) + 1, hclen = b.take(4) + 4;
        if (hlit > 286 || hdist > 30)
            fail("inflate: dynamic block declares " + std::to_string(hlit) + " literal/length and " +
                 std::to_string(hdist) + " distance codes (at most 286 and 30) at byte " +
                 std::to_string(at));
        std::array<std::uint8_t, 19> cl{};
        for (unsigned i = 0; i < hclen; ++i) {
            b.refill();
            cl[kClOrder[i]] = static_cast<std::uint8_t>(b.take(3));
        }
        Table clt;
        build_table(clt, cl.data(), 19, 7, Incomplete::refuse, "code-length", at);

        std::array<std::uint8_t, 286 + 30> lens{};
        const unsigned total = hlit + hdist;
        for (unsigned i = 0; i < total;) {
            b.refill();
            const unsigned sym = b.decode(clt, "code-length");
            if (sym < 16) {
                lens[i++] = static_cast<std::uint8_t>(sym);
                continue;
            }
            unsigned rep = 0;
            std::uint8_t value = 0;
            if (sym == 16) {
                if (i == 0)
                    fail("inflate: code length repeat with no previous length at byte " +
                         std::to_string(b.where()));
                value = lens[i - 1];
                rep = 3 + b.take(2);
            } else if (sym == 17) {
                rep = 3 + b.take(3);
            } else {
                rep = 11 + b.take(7);
            }
            if (rep > total - i)
                fail("inflate: code length repeat runs past the " + std::to_string(total) +
                     " lengths at byte " + std::to_string(b.where()));
            std::fill(lens.begin() + i, lens.begin() + i + rep, value);
            i += rep;
        }
        if (lens[256] == 0)
            fail("inflate: dynamic block has no end-of-block code at byte " + std::to_string(at));
        build_table(lit_, lens.data(), hlit, 10, Incomplete::refuse, "literal/length", at);
        build_table(dist_, lens.data() + hlit, hdist, 8, Incomplete::allow_single_or_empty,
                    "distance", at);
    }

    void huffman_block(const Table& lit, const Table& dist) {
        BitReader b = br_;
        std::uint8_t* buf = out_.buf.data();  // [cap]
        std::size_t size = out_.size, cap = out_.buf.size();
        const std::size_t start = out_.start;
        auto make_room = [&](std::size_t k) {
            out_.size = size;
            grow(k);
            buf = out_.buf.data();
            cap = out_.buf.size();
        };
        for (;;) {
            b.refill();  // ≥ 56 bits unless the input ends: enough for one length/distance pair
            unsigned sym = b.decode(lit, "literal/length");
            if (sym < 256) {
                if (size == cap) make_room(1);
                buf[size++] = static_cast<std::uint8_t>(sym);
                continue;
            }
            if (sym == 256) break;
            sym -= 257;
            if (sym >= 29)
                fail("inflate: invalid literal/length symbol " + std::to_string(sym + 257) +
                     " at byte " + std::to_string(b.where()));
            const std::size_t len = kLenBase[sym] + b.take(kLenExtra[sym]);
            const unsigned dsym = b.decode(dist, "distance");
            if (dsym >= 30)
                fail("inflate: invalid distance symbol " + std::to_string(dsym) + " at byte " +
                     std::to_string(b.where()));
            const std::size_t d = kDistBase[dsym] + b.take(kDistExtra[dsym]);
            if (d > size - start)
                fail("inflate: invalid distance " + std::to_string(d) +
                     " past start of output at byte " + std::to_string(b.where()));
            if (cap - size < len) make_room(len);
            std::uint8_t* dst = buf + size;
            const std::uint8_t* src = dst - d;
            if (d >= len) {
                std::memcpy(dst, src, len);
            } else if (d == 1) {
                std::memset(dst, src[0], len);
            } else {
                for (std::size_t i = 0; i < len; ++i) dst[i] = src[i];
            }
            size += len;
        }
        br_ = b;
        out_.size = size;
    }

    BitReader br_;
    Output& out_;
    Table lit_, dist_;
};

Output make_output(std::size_t in_size, std::size_t max_out) {
    Output o;
    o.max = max_out;
    const std::size_t guess = in_size < (std::size_t{1} << 28) ? in_size * 4 : in_size;
    o.buf.resize(std::min(max_out, std::max<std::size_t>(guess, 4096)));
    return o;
}

std::vector<std::uint8_t> finish(Output& o) {
    o.buf.resize(o.size);
    o.buf.shrink_to_fit();
    return std::move(o.buf);
}

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
std::uint32_t le32(const std::uint8_t* p) {
    return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    static const char* digits = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) buf[i] = digits[(v >> (28 - 4 * i)) & 0xF];
    return "0x" + std::string(buf, 8);
}

}  // namespace

std::vector<std::uint8_t> inflate_raw(std::span<const std::uint8_t> in, std::size_t max_out) {
    Output out = make_output(in.size(), max_out);
    const std::size_t used = Inflater(in, 0, out).run();
    if (used != in.size())
        fail("inflate: " + std::to_string(in.size() - used) +
             " bytes of trailing data after the final block at byte " + std::to_string(used));
    return finish(out);
}

std::vector<std::uint8_t> zlib_decompress(std::span<const std::uint8_t> in, std::size_t max_out) {
    if (in.size() < 2) fail("zlib: input of " + std::to_string(in.size()) + " bytes is too short");
    const unsigned cmf = in[0], flg = in[1];
    if ((cmf & 0x0F) != 8)
        fail("zlib: unsupported compression method " + std::to_string(cmf & 0x0F) +
             " at byte 0 (only 8, deflate, exists)");
    if ((cmf >> 4) > 7)
        fail("zlib: invalid window size 2^" + std::to_string((cmf >> 4) + 8) + " at byte 0");
    if ((cmf * 256 + flg) % 31 != 0) fail("zlib: header check (FCHECK) failed at byte 1");
    if (flg & 0x20) fail("zlib: the stream needs a preset dictionary, which is not supported");
    Output out = make_output(in.size(), max_out);
    const std::size_t end = 2 + Inflater(in.subspan(2), 2, out).run();
    if (in.size() - end < 4)
        fail("zlib: unexpected end of input at byte " + std::to_string(in.size()) +
             " (the Adler-32 checksum is missing)");
    const std::uint32_t stored = be32(in.data() + end);
    const std::uint32_t actual = adler32(std::span(out.buf.data(), out.size));
    if (stored != actual)
        fail("zlib: Adler-32 mismatch at byte " + std::to_string(end) + " (stored " + hex32(stored) +
             ", computed " + hex32(actual) + "): the data is corrupt");
    if (end + 4 != in.size())
        fail("zlib: " + std::to_string(in.size() - end - 4) +
             " bytes of trailing garbage after the stream at byte " + std::to_string(end + 4));
    return finish(out);
}

bool is_gzip(std::span<const std::uint8_t> in) {
    return in.size() >= 2 && in[0] == 0x1F && in[1] == 0x8B;
}

std::vector<std::uint8_t> gzip_decompress(std::span<const std::uint8_t> in, std::size_t max_out) {
    enum : unsigned { kText = 1, kHcrc = 2, kExtra = 4, kName = 8, kComment = 16 };
    Output out = make_output(in.size(), max_out);
    std::size_t pos = 0;
    for (int member = 1; pos < in.size() || member == 1; ++member) {
        const std::string where = " of member " + std::to_string(member) + " at byte ";
        const std::size_t head = pos;
        auto need = [&](std::size_t k, const char* what) {
            if (in.size() - pos < k)
                fail(std::string("gzip: unexpected end of input in the ") + what + where +
                     std::to_string(pos) + " (the file is truncated)");
        };
        if (!is_gzip(in.subspan(pos))) {
            if (member == 1) fail("gzip: not a gzip file (no 1F 8B magic bytes at byte 0)");
            fail("gzip: " + std::to_string(in.size() - pos) + " bytes of trailing garbage after member " +
                 std::to_string(member - 1) + " at byte " + std::to_string(pos));
        }
        need(10, "header");
        if (in[pos + 2] != 8)
            fail("gzip: unsupported compression method " + std::to_string(in[pos + 2]) + where +
                 std::to_string(pos + 2));
        const unsigned flags = in[pos + 3];
        if (flags & 0xE0)
            fail("gzip: reserved header flags set" + where + std::to_string(pos + 3));
        pos += 10;
        if (flags & kExtra) {
            need(2, "extra field");
            const std::size_t xlen = in[pos] | unsigned{in[pos + 1]} << 8;
            pos += 2;
            need(xlen, "extra field");
            pos += xlen;
        }
        for (unsigned f : {unsigned{kName}, unsigned{kComment}}) {
            if (!(flags & f)) continue;
            const auto rest = in.subspan(pos);
            const auto zero = std::find(rest.begin(), rest.end(), 0);
            if (zero == rest.end()) need(rest.size() + 1, f == kName ? "file name" : "comment");
            pos += static_cast<std::size_t>(zero - rest.begin()) + 1;
        }
        if (flags & kHcrc) {
            need(2, "header CRC");
            const unsigned stored = in[pos] | unsigned{in[pos + 1]} << 8;
            const unsigned actual = crc32(in.subspan(head, pos - head)) & 0xFFFF;
            if (stored != actual) fail("gzip: header CRC mismatch" + where + std::to_string(pos));
            pos += 2;
        }
        out.start = out.size;
        pos += Inflater(in.subspan(pos), pos, out).run();
        need(8, "trailer (CRC-32 and size)");
        const std::uint32_t stored_crc = le32(in.data() + pos);
        const std::uint32_t actual_crc = crc32(std::span(out.buf.data() + out.start, out.size - out.start));
        if (stored_crc != actual_crc)
            fail("gzip: CRC-32 mismatch" + where + std::to_string(pos) + " (stored " +
                 hex32(stored_crc) + ", computed " + hex32(actual_crc) + "): the data is corrupt");
        const std::uint32_t stored_size = le32(in.data() + pos + 4);
        const auto actual_size = static_cast<std::uint32_t>(out.size - out.start);
        if (stored_size != actual_size)
            fail("gzip: size mismatch" + where + std::to_string(pos + 4) + " (stored " +
                 std::to_string(stored_size) + " bytes mod 2^32, decoded " +
                 std::to_string(actual_size) + "): the data is corrupt");
        pos += 8;
    }
    return finish(out);
}

}  // namespace nfvi::io
