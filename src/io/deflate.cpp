// DEFLATE compressor: hash-chain LZ77, then per block the cheapest of dynamic Huffman, fixed
// Huffman and stored, with code lengths limited by package-merge.
//
// Matching keeps the whole input in memory. head[h] holds the latest position (+1, 0 = none)
// whose next three bytes hash to h; prev[p mod 32768] the distance from p back to the previous
// position of its chain. Every candidate is verified byte by byte, so a colliding or reused
// entry can only cost time, never correctness; distances above 32768 end a chain.
#include "src/io/deflate.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>
#include <tuple>

#include "src/io/checksum.h"
#include "src/io/deflate_tables.h"

namespace nfvi::io {

namespace {

using namespace deflate_tables;


constexpr unsigned kWindow = 32768, kWindowMask = kWindow - 1;
constexpr unsigned kMinMatch = 3, kMaxMatch = 258;
constexpr unsigned kHashBits = 15;
constexpr unsigned kBlockSymbols = 16384;
constexpr unsigned kTooFar = 4096;  // a 3-byte match farther than this rarely pays
constexpr std::size_t kStoredMax = 65535;

// Symbol of each match length 3..258 (0..28, add 257), and of each distance: distance d uses
// kDistLo[d-1] when d ≤ 256, else kDistHi[(d-1) >> 7].
struct CodeTables {
    std::array<std::uint8_t, kMaxMatch + 1> len{};
    std::array<std::uint8_t, 256> dist_lo{}, dist_hi{};
};
constexpr CodeTables make_code_tables() {
    CodeTables t{};
    for (unsigned c = 0; c < 28; ++c)
        for (unsigned l = kLenBase[c]; l < kLenBase[c] + (1u << kLenExtra[c]) && l <= kMaxMatch; ++l)
            t.len[l] = static_cast<std::uint8_t>(c);
    t.len[kMaxMatch] = 28;  // 258 has its own symbol (285), never 284 with extra bits 31
    for (unsigned c = 0; c < 30; ++c)
        for (unsigned d = kDistBase[c]; d < kDistBase[c] + (1u << kDistExtra[c]); ++d) {
            if (d <= 256) t.dist_lo[d - 1] = static_cast<std::uint8_t>(c);
            else t.dist_hi[(d - 1) >> 7] = static_cast<std::uint8_t>(c);
        }
    return t;
}
constexpr CodeTables kCodes = make_code_tables();

unsigned dist_symbol(unsigned d) { return d <= 256 ? kCodes.dist_lo[d - 1] : kCodes.dist_hi[(d - 1) >> 7]; }

struct LevelParams {
    unsigned good;   // a previous match this long makes the search use a quarter of the chain
    unsigned lazy;   // lazy: do not look for a better match after one this long;
                     // greedy: do not index the inside of a match longer than this
    unsigned nice;   // stop searching at a match this long
    unsigned chain;  // candidates examined at most
    bool lazy_matching;
};
constexpr std::array<LevelParams, 10> kLevels = {{
    {0, 0, 0, 0, false},  // 0: stored only
    {4, 4, 8, 4, false},
    {4, 5, 16, 8, false},
    {4, 6, 32, 32, false},
    {4, 4, 16, 16, true},
    {8, 16, 32, 32, true},
    {8, 16, 128, 128, true},
    {8, 32, 128, 256, true},
    {32, 128, 258, 1024, true},
    {32, 258, 258, 4096, true},
}};

class BitWriter {
public:
    explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}

    void put(std::uint32_t bits, unsigned k) {  // k ≤ 32; bits above k must be zero
        acc_ |= std::uint64_t{bits} << n_;
        n_ += k;
        if (n_ >= 32) {
            const std::uint8_t b[4] = {std::uint8_t(acc_), std::uint8_t(acc_ >> 8),
                                       std::uint8_t(acc_ >> 16), std::uint8_t(acc_ >> 24)};
            out_.insert(out_.end(), b, b + 4);
            acc_ >>= 32;
            n_ -= 32;
        }
    }
    // Pads with zero bits to a byte boundary and writes out the buffered bytes.
    void align() {
        if (n_ % 8) put(0, 8 - n_ % 8);
        for (; n_ > 0; n_ -= 8, acc_ >>= 8) out_.push_back(static_cast<std::uint8_t>(acc_));
    }
    std::uint64_t bit_count() const { return std::uint64_t{out_.size()} * 8 + n_; }
    std::vector<std::uint8_t>& bytes() { return out_; }

private:
    std::vector<std::uint8_t>& out_;
    std::uint64_t acc_ = 0;
    unsigned n_ = 0;
};

// Optimal code lengths no longer than `limit` for freq[0..n) by package-merge; unused
// symbols get 0. With a single used symbol it gets length 1.
void limited_lengths(const std::uint32_t* freq, unsigned n, unsigned limit, std::uint8_t* lens) {
    std::fill(lens, lens + n, 0);
    std::vector<std::uint16_t> leaf;  // used symbols by increasing frequency
    for (unsigned s = 0; s < n; ++s)
        if (freq[s]) leaf.push_back(static_cast<std::uint16_t>(s));
    const std::size_t m = leaf.size();
    if (m == 0) return;
    if (m == 1) {
        lens[leaf[0]] = 1;
        return;
    }
    std::stable_sort(leaf.begin(), leaf.end(), [&](auto a, auto b) { return freq[a] < freq[b]; });

    // List of depth `limit` holds the leaves; each shallower list merges the leaves with the
    // pairs ("packages") of the list below. Only the first 2m−2 items of a list can be
    // selected, so longer lists are cut. is_leaf[d] records which items of list d are leaves.
    const std::size_t keep = 2 * m - 2;
    std::vector<std::vector<std::uint8_t>> is_leaf(limit + 1);
    std::vector<std::uint64_t> below(m), cur;
    for (std::size_t i = 0; i < m; ++i) below[i] = freq[leaf[i]];
    is_leaf[limit].assign(std::min(m, keep), 1);
    below.resize(std::min(m, keep));
    for (unsigned d = limit - 1; d >= 1; --d) {
        cur.clear();
        is_leaf[d].clear();
        std::size_t li = 0, pi = 0;
        const std::size_t packages = below.size() / 2;
        while (cur.size() < keep && (li < m || pi < packages)) {
            const bool take_leaf =
                pi == packages || (li < m && freq[leaf[li]] <= below[2 * pi] + below[2 * pi + 1]);
            if (take_leaf) {
                cur.push_back(freq[leaf[li++]]);
                is_leaf[d].push_back(1);
            } else {
                cur.push_back(below[2 * pi] + below[2 * pi + 1]);
                ++pi;
                is_leaf[d].push_back(0);
            }
        }
        below.swap(cur);
    }
    // Select the first 2m−2 items of the top list; a selected package selects the two items
    // it was made of in the list below. Each selection of a leaf adds one to its length.
    std::size_t take = keep;
    for (unsigned d = 1; d <= limit && take > 0; ++d) {
        std::size_t leaves = 0;
        for (std::size_t i = 0; i < take; ++i) leaves += is_leaf[d][i];
        for (std::size_t i = 0; i < leaves; ++i) ++lens[leaf[i]];
        take = 2 * (take - leaves);
    }
}

// Canonical codes (RFC 1951 3.2.2) for lens[0..n), bit-reversed for LSB-first output.
void canonical_codes(const std::uint8_t* lens, unsigned n, std::uint16_t* codes) {
    std::array<unsigned, 17> count{}, next{};
    for (unsigned s = 0; s < n; ++s) ++count[lens[s]];
    count[0] = 0;
    for (unsigned len = 1, code = 0; len <= 16; ++len) {
        code = (code + count[len - 1]) << 1;
        next[len] = code;
    }
    for (unsigned s = 0; s < n; ++s) {
        const unsigned len = lens[s];
        if (!len) {
            codes[s] = 0;
            continue;
        }
        const unsigned code = next[len]++;
        unsigned r = 0;
        for (unsigned b = 0; b < len; ++b) r |= ((code >> b) & 1u) << (len - 1 - b);
        codes[s] = static_cast<std::uint16_t>(r);
    }
}

struct Sym {
    std::uint16_t len;   // literal byte when dist == 0, else match length 3..258
    std::uint16_t dist;  // 0, or match distance 1..32768
};

// One Huffman code: lengths and reversed codes for up to 288 symbols.
struct Code {
    std::array<std::uint8_t, 288> len{};
    std::array<std::uint16_t, 288> bits{};
};

const Code& fixed_litlen() {
    static const Code c = [] {
        Code k;
        std::fill(k.len.begin(), k.len.begin() + 144, 8);
        std::fill(k.len.begin() + 144, k.len.begin() + 256, 9);
        std::fill(k.len.begin() + 256, k.len.begin() + 280, 7);
        std::fill(k.len.begin() + 280, k.len.end(), 8);
        canonical_codes(k.len.data(), 288, k.bits.data());
        return k;
    }();
    return c;
}
const Code& fixed_dist() {
    static const Code c = [] {
        Code k;
        std::fill(k.len.begin(), k.len.begin() + 32, 5);
        canonical_codes(k.len.data(), 32, k.bits.data());
        return k;
    }();
    return c;
}

class Deflater {
public:
    Deflater(std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out)
        : in_(in), p_(kLevels[static_cast<std::size_t>(level)]), bw_(out) {}

    void run() {
        if (p_.chain == 0) {
            store(0, in_.size(), true);
        } else {
            head_.assign(std::size_t{1} << kHashBits, 0);
            prev_.assign(kWindow, 0);
            syms_.reserve(kBlockSymbols);
            if (p_.lazy_matching) lazy();
            else greedy();
            flush_block(true);
        }
        bw_.align();
    }

private:
    std::uint32_t hash(std::size_t pos) const {
        const std::uint32_t v = std::uint32_t{in_[pos]} | std::uint32_t{in_[pos + 1]} << 8 |
                                std::uint32_t{in_[pos + 2]} << 16;
        return (v * 0x9E3779B1u) >> (32 - kHashBits);
    }

    // Adds pos (which has three bytes after it) to its chain; returns the distance back to
    // the previous position in the chain, 0 if there is none within the window.
    unsigned insert(std::size_t pos) {
        const std::uint32_t h = hash(pos);
        const auto here = static_cast<std::uint32_t>(pos + 1);  // wraps after 4 GiB: harmless
        const std::uint32_t old = head_[h];
        const std::uint32_t d = here - old;
        const unsigned dist = (old != 0 && d <= kWindow) ? d : 0;
        prev_[pos & kWindowMask] = static_cast<std::uint16_t>(dist);
        head_[h] = here;
        return dist;
    }

    unsigned match_length(std::size_t a, std::size_t b, unsigned max) const {
        const std::uint8_t* x = in_.data() + a;
        const std::uint8_t* y = in_.data() + b;
        unsigned i = 0;
        if constexpr (std::endian::native == std::endian::little) {
            for (; i + 8 <= max; i += 8) {
                std::uint64_t u, v;
                std::memcpy(&u, x + i, 8);
                std::memcpy(&v, y + i, 8);
                if (u != v) return i + static_cast<unsigned>(std::countr_zero(u ^ v)) / 8;
            }
        }
        while (i < max && x[i] == y[i]) ++i;
        return i;
    }

    // Longest match for `pos` longer than `best`, walking the chain from distance `d`.
    // Returns {length, distance}, or {0, 0} if none beats `best`.
    std::pair<unsigned, unsigned> longest_match(std::size_t pos, unsigned d, unsigned best,
                                                unsigned chain) const {
        const unsigned max = static_cast<unsigned>(std::min<std::size_t>(kMaxMatch, in_.size() - pos));
        unsigned best_len = best, best_dist = 0;
        const std::uint8_t* w = in_.data();
        // d ≤ kWindow also ends a chain that runs into a slot reused by a newer position
        // (only the slot of pos − kWindow, rewritten by pos itself, can be reached).
        while (d != 0 && d <= kWindow && chain-- > 0 && best_len < max) {
            const std::size_t c = pos - d;
            if (w[c + best_len] == w[pos + best_len] && w[c] == w[pos]) {
                const unsigned len = match_length(c, pos, max);
                if (len > best_len) {
                    best_len = len;
                    best_dist = d;
                    if (len >= p_.nice) break;
                }
            }
            const unsigned step = prev_[c & kWindowMask];
            if (step == 0) break;
            d += step;
        }
        if (best_dist == 0) return {0, 0};
        if (best_len == kMinMatch && best_dist > kTooFar) return {0, 0};
        return {best_len, best_dist};
    }

    void literal(std::uint8_t b) {
        syms_.push_back({b, 0});
        ++lit_freq_[b];
        ++covered_;
        if (syms_.size() == kBlockSymbols) flush_block(false);
    }
    void match(unsigned len, unsigned dist) {
        syms_.push_back({static_cast<std::uint16_t>(len), static_cast<std::uint16_t>(dist)});
        ++lit_freq_[257 + kCodes.len[len]];
        ++dist_freq_[dist_symbol(dist)];
        covered_ += len;
        if (syms_.size() == kBlockSymbols) flush_block(false);
    }

    void greedy() {
        const std::size_t n = in_.size();
        std::size_t pos = 0;
        while (pos < n) {
            unsigned len = 0, dist = 0;
            if (n - pos >= kMinMatch) {
                const unsigned d = insert(pos);
                if (d) std::tie(len, dist) = longest_match(pos, d, kMinMatch - 1, p_.chain);
            }
            if (len >= kMinMatch) {
                match(len, dist);
                if (len <= p_.lazy) {
                    for (std::size_t q = pos + 1; q < pos + len && n - q >= kMinMatch; ++q) insert(q);
                } else if (n - (pos + len - 1) >= kMinMatch) {
                    insert(pos + len - 1);  // so that a run continues at distance 1
                }
                pos += len;
            } else {
                literal(in_[pos]);
                ++pos;
            }
        }
    }

    // Lazy matching: a match found at pos−1 is kept back while the match at pos is longer;
    // then pos−1 goes out as a literal and the later match takes its place.
    void lazy() {
        const std::size_t n = in_.size();
        std::size_t pos = 0;
        unsigned prev_len = 0, prev_dist = 0;
        bool pending = false;  // in_[pos−1] is not yet emitted
        while (pos < n) {
            unsigned len = 0, dist = 0;
            if (n - pos >= kMinMatch) {
                const unsigned d = insert(pos);
                if (d && prev_len < p_.lazy) {
                    const unsigned chain = prev_len >= p_.good ? p_.chain / 4 : p_.chain;
                    std::tie(len, dist) =
                        longest_match(pos, d, std::max(prev_len, kMinMatch - 1), chain);
                }
            }
            if (prev_len >= kMinMatch && len <= prev_len) {
                match(prev_len, prev_dist);
                const std::size_t end = pos - 1 + prev_len;
                for (std::size_t q = pos + 1; q < end && n - q >= kMinMatch; ++q) insert(q);
                pos = end;
                pending = false;
                prev_len = 0;
                continue;
            }
            if (pending) literal(in_[pos - 1]);
            pending = true;
            prev_len = len;
            prev_dist = dist;
            ++pos;
        }
        if (pending) literal(in_[pos - 1]);
    }

    // Stored blocks for in_[begin, end), at most 65535 bytes each (one empty block if empty).
    void store(std::size_t begin, std::size_t end, bool final) {
        do {
            const std::size_t len = std::min(end - begin, kStoredMax);
            const bool last = begin + len == end;
            bw_.put((final && last) ? 1 : 0, 1);
            bw_.put(0, 2);
            bw_.align();
            const std::uint8_t hdr[4] = {std::uint8_t(len), std::uint8_t(len >> 8),
                                         std::uint8_t(~len), std::uint8_t(~len >> 8)};
            auto& out = bw_.bytes();
            out.insert(out.end(), hdr, hdr + 4);
            out.insert(out.end(), in_.begin() + static_cast<std::ptrdiff_t>(begin),
                       in_.begin() + static_cast<std::ptrdiff_t>(begin + len));
            begin += len;
        } while (begin < end);
    }

    std::uint64_t stored_bits(std::size_t bytes) const {
        const std::uint64_t pad = (8 - (bw_.bit_count() + 3) % 8) % 8;
        const std::uint64_t blocks = bytes == 0 ? 1 : (bytes + kStoredMax - 1) / kStoredMax;
        return 3 + pad + 32 + 8 * std::uint64_t{bytes} + (blocks - 1) * 40;
    }

    // Bits of the block's symbols (end-of-block included) with the given codes.
    std::uint64_t data_bits(const Code& lit, const Code& dist) const {
        std::uint64_t bits = 0;
        for (unsigned s = 0; s < 286; ++s) bits += std::uint64_t{lit_freq_[s]} * lit.len[s];
        for (unsigned s = 0; s < 30; ++s) bits += std::uint64_t{dist_freq_[s]} * dist.len[s];
        for (unsigned c = 0; c < 29; ++c) bits += std::uint64_t{lit_freq_[257 + c]} * kLenExtra[c];
        for (unsigned c = 0; c < 30; ++c) bits += std::uint64_t{dist_freq_[c]} * kDistExtra[c];
        return bits;
    }

    // Builds a code for freq[0..n) whose lengths are ≤ limit, giving dummy counts to unused
    // symbols until at least two are used, so that the code is complete (a lone code would
    // leave half of the code space unused, which strict decoders refuse).
    static void build_code(const std::uint32_t* freq, unsigned n, unsigned limit, Code& code) {
        std::array<std::uint32_t, 288> f{};
        std::copy(freq, freq + n, f.begin());
        unsigned used = 0;
        for (unsigned s = 0; s < n; ++s) used += f[s] != 0;
        for (unsigned s = 0; s < n && used < 2; ++s)
            if (!f[s]) {
                f[s] = 1;
                ++used;
            }
        limited_lengths(f.data(), n, limit, code.len.data());
        canonical_codes(code.len.data(), n, code.bits.data());
    }

    void write_symbols(const Code& lit, const Code& dist) {
        for (const Sym& s : syms_) {
            if (s.dist == 0) {
                bw_.put(lit.bits[s.len], lit.len[s.len]);
                continue;
            }
            const unsigned lc = kCodes.len[s.len];
            bw_.put(lit.bits[257 + lc], lit.len[257 + lc]);
            bw_.put(s.len - kLenBase[lc], kLenExtra[lc]);
            const unsigned dc = dist_symbol(s.dist);
            bw_.put(dist.bits[dc], dist.len[dc]);
            bw_.put(s.dist - kDistBase[dc], kDistExtra[dc]);
        }
        bw_.put(lit.bits[256], lit.len[256]);
    }

    void flush_block(bool final) {
        lit_freq_[256] = 1;
        Code lit, dist;
        build_code(lit_freq_.data(), 286, 15, lit);
        build_code(dist_freq_.data(), 30, 15, dist);

        // Header of a dynamic block: the code lengths, run-length coded with symbols 16
        // (repeat the previous length 3-6 times), 17 (3-10 zeros) and 18 (11-138 zeros).
        unsigned hlit = 286, hdist = 30;
        while (hlit > 257 && lit.len[hlit - 1] == 0) --hlit;
        while (hdist > 1 && dist.len[hdist - 1] == 0) --hdist;
        std::array<std::uint8_t, 286 + 30> lens{};  // [hlit + hdist]
        std::copy(lit.len.begin(), lit.len.begin() + hlit, lens.begin());
        std::copy(dist.len.begin(), dist.len.begin() + hdist, lens.begin() + hlit);
        const unsigned total = hlit + hdist;
        struct Rle {
            std::uint8_t sym, extra;
        };
        std::vector<Rle> rle;
        std::array<std::uint32_t, 19> cl_freq{};
        auto emit = [&](unsigned sym, unsigned extra) {
            rle.push_back({static_cast<std::uint8_t>(sym), static_cast<std::uint8_t>(extra)});
            ++cl_freq[sym];
        };
        for (unsigned i = 0; i < total;) {
            const unsigned v = lens[i];
            unsigned run = 1;
            while (i + run < total && lens[i + run] == v) ++run;
            i += run;
            if (v == 0) {
                for (; run >= 11; ) {
                    const unsigned r = std::min(run, 138u);
                    emit(18, r - 11);
                    run -= r;
                }
                if (run >= 3) {
                    emit(17, run - 3);
                    run = 0;
                }
            } else {
                emit(v, 0);
                --run;
                for (; run >= 3;) {
                    const unsigned r = std::min(run, 6u);
                    emit(16, r - 3);
                    run -= r;
                }
            }
            for (; run > 0; --run) emit(v, 0);
        }
        Code cl;
        build_code(cl_freq.data(), 19, 7, cl);
        unsigned hclen = 19;
        while (hclen > 4 && cl.len[kClOrder[hclen - 1]] == 0) --hclen;

        std::uint64_t dynamic_bits = 3 + 5 + 5 + 4 + 3 * hclen + data_bits(lit, dist);
        for (unsigned s = 0; s < 19; ++s) dynamic_bits += std::uint64_t{cl_freq[s]} * cl.len[s];
        dynamic_bits += 2 * cl_freq[16] + 3 * cl_freq[17] + 7 * cl_freq[18];
        const std::uint64_t fixed_bits = 3 + data_bits(fixed_litlen(), fixed_dist());
        const std::uint64_t store_bits = stored_bits(covered_ - block_start_);

        if (store_bits <= std::min(dynamic_bits, fixed_bits)) {
            store(block_start_, covered_, final);
        } else if (fixed_bits <= dynamic_bits) {
            bw_.put(final ? 1 : 0, 1);
            bw_.put(1, 2);
            write_symbols(fixed_litlen(), fixed_dist());
        } else {
            bw_.put(final ? 1 : 0, 1);
            bw_.put(2, 2);
            bw_.put(hlit - 257, 5);
            bw_.put(hdist - 1, 5);
            bw_.put(hclen - 4, 4);
            for (unsigned i = 0; i < hclen; ++i) bw_.put(cl.len[kClOrder[i]], 3);
            static constexpr std::array<std::uint8_t, 19> kRleExtraBits = {
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7};
            for (const Rle& r : rle) {
                bw_.put(cl.bits[r.sym], cl.len[r.sym]);
                bw_.put(r.extra, kRleExtraBits[r.sym]);
            }
            write_symbols(lit, dist);
        }
        syms_.clear();
        lit_freq_.fill(0);
        dist_freq_.fill(0);
        block_start_ = covered_;
    }

    std::span<const std::uint8_t> in_;
    LevelParams p_;
    BitWriter bw_;
    std::vector<std::uint32_t> head_;  // [2^kHashBits] latest position + 1 (mod 2^32) per hash, 0 = none
    std::vector<std::uint16_t> prev_;  // [kWindow] distance from p back to the previous position
                                       // of p's chain, at p mod kWindow; 0 = none
    std::vector<Sym> syms_;          // symbols of the current block
    std::array<std::uint32_t, 286> lit_freq_{};
    std::array<std::uint32_t, 30> dist_freq_{};
    std::size_t block_start_ = 0;  // first input byte of the current block
    std::size_t covered_ = 0;      // input bytes covered by the symbols so far
};

void check_level(int level) {
    if (level < 0 || level > 9)
        throw std::invalid_argument("deflate: compression level " + std::to_string(level) +
                                    " is out of range (use 0 to 9)");
}

void deflate_into(std::span<const std::uint8_t> in, int level, std::vector<std::uint8_t>& out) {
    check_level(level);
    out.reserve(out.size() + in.size() + in.size() / kStoredMax * 5 + 64);
    Deflater(in, level, out).run();
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 0; s < 32; s += 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

}  // namespace

std::vector<std::uint8_t> deflate_raw(std::span<const std::uint8_t> in, int level) {
    std::vector<std::uint8_t> out;
    deflate_into(in, level, out);
    return out;
}

std::vector<std::uint8_t> zlib_compress(std::span<const std::uint8_t> in, int level) {
    check_level(level);
    const unsigned cmf = 0x78;  // method 8, 32 KiB window
    const unsigned flevel = level < 2 ? 0 : level < 6 ? 1 : level == 6 ? 2 : 3;
    unsigned flg = flevel << 6;
    flg += (31 - (cmf * 256 + flg) % 31) % 31;  // FCHECK
    std::vector<std::uint8_t> out = {static_cast<std::uint8_t>(cmf), static_cast<std::uint8_t>(flg)};
    deflate_into(in, level, out);
    put_be32(out, adler32(in));
    return out;
}

std::vector<std::uint8_t> gzip_compress(std::span<const std::uint8_t> in, int level,
                                        std::string_view file_name) {
    check_level(level);
    if (file_name.find('\0') != std::string_view::npos)
        throw std::invalid_argument("gzip: the file name contains a zero byte");
    const std::uint8_t flags = file_name.empty() ? 0 : 8;  // FNAME
    const std::uint8_t xfl = level == 9 ? 2 : level == 1 ? 4 : 0;
    // ID1 ID2 CM FLG MTIME(4) XFL OS
    const std::uint8_t header[10] = {0x1F, 0x8B, 8, flags, 0, 0, 0, 0, xfl, 255};
    std::vector<std::uint8_t> out(std::begin(header), std::end(header));
    for (char c : file_name) out.push_back(static_cast<std::uint8_t>(c));
    if (!file_name.empty()) out.push_back(0);
    deflate_into(in, level, out);
    put_le32(out, crc32(in));
    put_le32(out, static_cast<std::uint32_t>(in.size()));
    return out;
}

}  // namespace nfvi::io
