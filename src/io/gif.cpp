// GIF89a encoding (LZW with variable code width, frame differencing) and the colour
// reduction of RGB frames to one shared palette.
#include "src/io/gif.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "src/io/files.h"

namespace nfvi::io {

namespace {

using plot::Rgb;

constexpr int kMaxCodes = 4096;       // GIF's LZW codes are at most 12 bits
constexpr int kMaxDimension = 65535;  // sizes and offsets are 16-bit fields

std::string size_str(int w, int h) { return std::to_string(w) + "x" + std::to_string(h); }

void put_le16(std::vector<std::uint8_t>& out, int v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
    out.push_back(static_cast<std::uint8_t>(v >> 8 & 0xFF));
}

void put_text(std::vector<std::uint8_t>& out, std::string_view text) {
    for (const char ch : text) out.push_back(static_cast<std::uint8_t>(ch));
}

// ---- LZW ---------------------------------------------------------------------------------------

// The string table as a hash from (prefix code, next index) to the code of the extended
// string: open addressing with linear probing, kSlots = 4x the most codes, so probes are short.
class LzwTable {
public:
    LzwTable() : keys_(kSlots, kEmpty), codes_(kSlots, 0) {}
    void clear() { std::fill(keys_.begin(), keys_.end(), kEmpty); }

    // The code of string (prefix, byte), or -1; `slot` is where to insert it if absent.
    int find(std::uint32_t key, std::size_t& slot) const {
        std::size_t s = (key * 0x9E3779B1u) >> (32 - kBits);
        while (keys_[s] != kEmpty) {
            if (keys_[s] == key) return codes_[s];
            s = (s + 1) & (kSlots - 1);
        }
        slot = s;
        return -1;
    }
    void insert(std::size_t slot, std::uint32_t key, int code) {
        keys_[slot] = key;
        codes_[slot] = static_cast<std::uint16_t>(code);
    }

private:
    static constexpr int kBits = 14;
    static constexpr std::size_t kSlots = std::size_t{1} << kBits;
    static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;  // keys are < 2^20

    std::vector<std::uint32_t> keys_;   // [kSlots] (prefix << 8 | byte), kEmpty if unused
    std::vector<std::uint16_t> codes_;  // [kSlots]
};

// Packs codes least significant bit first, as GIF requires.
class BitWriter {
public:
    explicit BitWriter(std::vector<std::uint8_t>& out) : out_(out) {}
    void put(int code, int width) {
        acc_ |= std::uint64_t(code) << nbits_;
        nbits_ += width;
        while (nbits_ >= 8) {
            out_.push_back(static_cast<std::uint8_t>(acc_));
            acc_ >>= 8;
            nbits_ -= 8;
        }
    }
    void flush() {
        if (nbits_ > 0) out_.push_back(static_cast<std::uint8_t>(acc_));
        acc_ = 0;
        nbits_ = 0;
    }

private:
    std::vector<std::uint8_t>& out_;
    std::uint64_t acc_ = 0;
    int nbits_ = 0;
};

// The LZW code stream of `idx` (all < 2^min_code_size), unblocked.
//
// Code widths: the decoder adds a table entry after every code but the first after a clear,
// so it is one entry behind the encoder, and it widens its codes once its next free code
// reaches 2^width. The encoder therefore widens after its own next free code passes 2^width.
// When the encoder has used code 4095 it sends a clear code (still 12 bits wide) and starts
// over, so no code is ever wider than 12 bits.
std::vector<std::uint8_t> lzw_encode(std::span<const std::uint8_t> idx, int min_code_size, LzwTable& table) {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(idx.size() / 2 + 16);
    BitWriter bits(bytes);
    const int clear = 1 << min_code_size, eoi = clear + 1;
    int width = min_code_size + 1, next = eoi + 1;
    table.clear();
    bits.put(clear, width);
    int prefix = idx[0];
    for (std::size_t i = 1; i < idx.size(); ++i) {
        const std::uint8_t c = idx[i];
        const std::uint32_t key = std::uint32_t(prefix) << 8 | c;
        std::size_t slot = 0;
        const int code = table.find(key, slot);
        if (code >= 0) {
            prefix = code;
            continue;
        }
        bits.put(prefix, width);
        table.insert(slot, key, next);
        ++next;
        if (next > (1 << width)) ++width;  // never past 12: next <= 4096
        if (next == kMaxCodes) {
            bits.put(clear, width);
            table.clear();
            width = min_code_size + 1;
            next = eoi + 1;
        }
        prefix = c;
    }
    bits.put(prefix, width);
    // The decoder adds an entry after reading that last code (unless it directly followed a
    // clear, in which case next is far below a width change anyway), and may widen.
    ++next;
    if (next > (1 << width) && width < 12) ++width;
    bits.put(eoi, width);
    bits.flush();
    return bytes;
}

// ---- colour reduction ------------------------------------------------------------------------

std::uint32_t key_of(Rgb c) { return std::uint32_t(c.r) << 16 | std::uint32_t(c.g) << 8 | c.b; }
Rgb rgb_of(std::uint32_t k) {
    return {static_cast<std::uint8_t>(k >> 16), static_cast<std::uint8_t>(k >> 8),
            static_cast<std::uint8_t>(k)};
}

// Colour -> pixel count: open addressing over 24-bit keys, doubled when half full.
class ColorCounts {
public:
    struct Slot {
        std::uint32_t key = kEmpty;
        std::uint64_t count = 0;
    };
    static constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

    ColorCounts() : slots_(std::size_t{1} << 10) {}

    Slot& at(std::uint32_t key) {
        Slot* s = probe(key);
        if (s->key == kEmpty) {
            if (2 * (size_ + 1) > slots_.size()) {
                grow();
                s = probe(key);
            }
            s->key = key;
            ++size_;
        }
        return *s;
    }
    std::size_t size() const { return size_; }
    const std::vector<Slot>& slots() const { return slots_; }

private:
    Slot* probe(std::uint32_t key) {
        const std::size_t mask = slots_.size() - 1;
        std::size_t i = (key * 0x9E3779B1u) >> 7 & mask;
        while (slots_[i].key != kEmpty && slots_[i].key != key) i = (i + 1) & mask;
        return &slots_[i];
    }
    void grow() {
        std::vector<Slot> old(slots_.size() * 2);
        old.swap(slots_);
        for (const Slot& s : old)
            if (s.key != kEmpty) *probe(s.key) = s;
    }

    std::vector<Slot> slots_;  // [power of two]
    std::size_t size_ = 0;
};

// A distinct colour of the frames and how many pixels have it.
struct Entry {
    std::array<int, 3> c;
    std::uint64_t w;
    std::uint32_t key;
};

// Weighted sums over a set of entries: the squared error about the mean is
// sum_ch (s2 - s1^2 / w).
struct Moments {
    std::uint64_t w = 0;
    std::array<std::uint64_t, 3> s1{}, s2{};
    void add(const std::array<int, 3>& c, std::uint64_t n) {
        w += n;
        for (int ch = 0; ch < 3; ++ch) {
            s1[ch] += n * std::uint64_t(c[ch]);
            s2[ch] += n * std::uint64_t(c[ch] * c[ch]);
        }
    }
    void add(const Entry& e) { add(e.c, e.w); }
    void add(const Moments& o) {
        w += o.w;
        for (int ch = 0; ch < 3; ++ch) {
            s1[ch] += o.s1[ch];
            s2[ch] += o.s2[ch];
        }
    }
    // sum_ch s1^2 / w: the larger, the smaller the squared error (s2 is fixed by the set).
    double explained() const {
        double e = 0;
        for (int ch = 0; ch < 3; ++ch) e += double(s1[ch]) * double(s1[ch]) / double(w);
        return e;
    }
    double sse() const {
        double s = 0;
        for (int ch = 0; ch < 3; ++ch) s += double(s2[ch]);
        return std::max(0.0, s - explained());
    }
    Moments minus(const Moments& o) const {
        Moments d;
        d.w = w - o.w;
        for (int ch = 0; ch < 3; ++ch) {
            d.s1[ch] = s1[ch] - o.s1[ch];
            d.s2[ch] = s2[ch] - o.s2[ch];
        }
        return d;
    }
    Rgb mean() const {
        std::array<std::uint8_t, 3> m{};
        for (int ch = 0; ch < 3; ++ch) m[ch] = static_cast<std::uint8_t>((s1[ch] + w / 2) / w);
        return {m[0], m[1], m[2]};
    }
};

// The colours of the frames with their pixel counts. Exact while there are at most
// kMaxExact distinct colours; beyond that (photographs, noise) the colours are pooled into
// cells of 8 values per channel (32^3 cells), each represented by its pixels' mean, which
// bounds the cost of the colour reduction whatever the images are. Each pixel is still
// mapped to its own nearest palette colour at the end.
class Histogram {
public:
    static constexpr std::size_t kMaxExact = std::size_t{1} << 16;

    void add(Rgb c, std::uint64_t n) {
        if (cells_.empty()) {
            exact_.at(key_of(c)).count += n;
            if (exact_.size() > kMaxExact) pool();
        } else {
            cells_[cell_of(c)].add({c.r, c.g, c.b}, n);
        }
    }
    bool exact() const { return cells_.empty(); }

    // The distinct colours (or cells' means) sorted by key.
    std::vector<Entry> entries() const {
        std::vector<Entry> out;
        if (exact()) {
            for (const ColorCounts::Slot& s : exact_.slots())
                if (s.key != ColorCounts::kEmpty) {
                    const Rgb c = rgb_of(s.key);
                    out.push_back({{c.r, c.g, c.b}, s.count, s.key});
                }
        } else {
            for (const Moments& m : cells_)
                if (m.w > 0) {
                    const Rgb c = m.mean();
                    out.push_back({{c.r, c.g, c.b}, m.w, key_of(c)});
                }
        }
        std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
        return out;
    }

private:
    static std::size_t cell_of(Rgb c) {
        return std::size_t(c.r >> 3) << 10 | std::size_t(c.g >> 3) << 5 | (c.b >> 3);
    }
    void pool() {
        cells_.resize(std::size_t{1} << 15);
        for (const ColorCounts::Slot& s : exact_.slots())
            if (s.key != ColorCounts::kEmpty) {
                const Rgb c = rgb_of(s.key);
                cells_[cell_of(c)].add({c.r, c.g, c.b}, s.count);
            }
        exact_ = ColorCounts();
    }

    ColorCounts exact_;
    std::vector<Moments> cells_;  // [32 * 32 * 32], used once pooled
};

struct Box {
    std::size_t begin, end;  // entries [begin, end)
    Moments m;
    double sse;
    bool single() const { return end - begin < 2; }
};

// Splits the histogram into at most k boxes, always cutting the box of largest squared error,
// along the axis and between the two adjacent values of that axis that leave the two halves
// the least total error. Each split costs O(entries in the box): the box's entries are
// binned by their value on each axis, the cuts evaluated on the bins, the entries partitioned.
std::vector<Box> split_boxes(std::vector<Entry>& entries, int k) {
    Box all{0, entries.size(), {}, 0};
    for (const Entry& e : entries) all.m.add(e);
    all.sse = all.m.sse();
    std::vector<Box> boxes{all};
    std::vector<Moments> bins(256);  // [value] moments of the box's entries with that value on an axis
    while (static_cast<int>(boxes.size()) < k) {
        std::size_t pick = boxes.size();
        for (std::size_t i = 0; i < boxes.size(); ++i)
            if (!boxes[i].single() && (pick == boxes.size() || boxes[i].sse > boxes[pick].sse)) pick = i;
        if (pick == boxes.size()) break;  // every box is a single colour
        const Box b = boxes[pick];
        const auto first = entries.begin() + static_cast<std::ptrdiff_t>(b.begin);
        const auto last = entries.begin() + static_cast<std::ptrdiff_t>(b.end);
        int best_axis = -1, best_value = 0;  // the cut: value <= best_value goes low
        double best_gain = 0;
        Moments best_low;
        for (int axis = 0; axis < 3; ++axis) {
            std::fill(bins.begin(), bins.end(), Moments{});
            for (auto it = first; it != last; ++it) bins[static_cast<std::size_t>(it->c[axis])].add(*it);
            Moments low;
            for (int v = 0; v < 255; ++v) {
                if (bins[static_cast<std::size_t>(v)].w == 0) continue;
                low.add(bins[static_cast<std::size_t>(v)]);
                if (low.w == b.m.w) break;
                const double gain = low.explained() + b.m.minus(low).explained();
                if (best_axis < 0 || gain > best_gain) {
                    best_axis = axis;
                    best_value = v;
                    best_gain = gain;
                    best_low = low;
                }
            }
        }
        // A box of two or more colours differs on some axis, so a cut was found.
        const auto mid =
            std::partition(first, last, [&](const Entry& e) { return e.c[best_axis] <= best_value; });
        const std::size_t cut = static_cast<std::size_t>(mid - entries.begin());
        const Box lo{b.begin, cut, best_low, best_low.sse()};
        const Moments high = b.m.minus(best_low);
        boxes[pick] = lo;
        boxes.push_back({cut, b.end, high, high.sse()});
    }
    return boxes;
}

// Nearest-colour queries against a palette. The RGB cube is divided into 16^3 cells; for each
// cell used, the palette colours that can be nearest to some point of it are listed once:
// those whose distance to the cell is at most the smallest "farthest distance" to the cell
// of any palette colour. A query then only scans its cell's list.
class Nearest {
public:
    explicit Nearest(const std::vector<Rgb>& palette) : cells_(kCells) {
        for (const Rgb c : palette) colors_.push_back({c.r, c.g, c.b});
    }

    // The index of the palette colour nearest to c (squared RGB distance; ties: lowest index).
    int operator()(const std::array<int, 3>& c) {
        const std::size_t cell = static_cast<std::size_t>((c[0] >> kShift) << (2 * kBits) |
                                                          (c[1] >> kShift) << kBits | (c[2] >> kShift));
        std::vector<std::uint8_t>& cand = cells_[cell];
        if (cand.empty()) list_candidates(c, cand);
        int best = -1, best_d = 0;
        for (const std::uint8_t i : cand) {  // in increasing index order
            const std::array<int, 3>& p = colors_[i];
            const int d =
                (p[0] - c[0]) * (p[0] - c[0]) + (p[1] - c[1]) * (p[1] - c[1]) + (p[2] - c[2]) * (p[2] - c[2]);
            if (best < 0 || d < best_d) {
                best = i;
                best_d = d;
            }
        }
        return best;
    }

private:
    static constexpr int kBits = 4, kShift = 8 - kBits, kSide = 1 << kShift;
    static constexpr std::size_t kCells = std::size_t{1} << (3 * kBits);

    void list_candidates(const std::array<int, 3>& c, std::vector<std::uint8_t>& cand) const {
        std::vector<int> near(colors_.size());  // [palette] squared distance to the cell
        int bound = -1;                         // smallest squared farthest distance
        for (std::size_t i = 0; i < colors_.size(); ++i) {
            int dn = 0, df = 0;
            for (int ch = 0; ch < 3; ++ch) {
                const int lo = c[ch] >> kShift << kShift, hi = lo + kSide - 1, p = colors_[i][ch];
                const int n = p < lo ? lo - p : p > hi ? p - hi : 0;
                const int f = std::max(p - lo, hi - p);
                dn += n * n;
                df += f * f;
            }
            near[i] = dn;
            if (bound < 0 || df < bound) bound = df;
        }
        for (std::size_t i = 0; i < colors_.size(); ++i)
            if (near[i] <= bound) cand.push_back(static_cast<std::uint8_t>(i));
    }

    std::vector<std::array<int, 3>> colors_;        // [palette]
    std::vector<std::vector<std::uint8_t>> cells_;  // [kCells] candidate indices, increasing
};

// k colours for the weighted histogram: box splitting, then Lloyd's k-means rounds (each
// colour to its nearest palette entry, each entry to the mean of its colours) until nothing
// changes or kRounds are done. Duplicate colours are removed; the palette is sorted.
std::vector<Rgb> reduce_colors(std::vector<Entry> entries, int k) {
    constexpr int kRounds = 8;
    std::vector<Rgb> palette;
    for (const Box& b : split_boxes(entries, k)) palette.push_back(b.m.mean());
    for (int round = 0; round < kRounds; ++round) {
        Nearest nearest(palette);
        std::vector<Moments> sums(palette.size());
        for (const Entry& e : entries) sums[static_cast<std::size_t>(nearest(e.c))].add(e);
        bool changed = false;
        for (std::size_t i = 0; i < palette.size(); ++i) {
            if (sums[i].w == 0) continue;  // an unused colour stays where it is
            const Rgb m = sums[i].mean();
            changed |= !(m == palette[i]);
            palette[i] = m;
        }
        if (!changed) break;
    }
    std::sort(palette.begin(), palette.end(), [](Rgb a, Rgb b) { return key_of(a) < key_of(b); });
    palette.erase(std::unique(palette.begin(), palette.end()), palette.end());
    return palette;
}

void check_frame_sizes(std::span<const plot::Image> frames, const char* who) {
    if (frames.empty())
        throw std::invalid_argument(std::string(who) + ": no frames (give at least one image)");
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const plot::Image& f = frames[i];
        if (f.width() < 1 || f.height() < 1)
            throw std::invalid_argument(std::string(who) + ": frame " + std::to_string(i) + " is empty (" +
                                        size_str(f.width(), f.height()) + ")");
    }
}

void check_options(int delay_centiseconds, int loops) {
    if (delay_centiseconds < 0 || delay_centiseconds > 65535)
        throw std::invalid_argument("encode_gif: delay of " + std::to_string(delay_centiseconds) +
                                    " centiseconds is out of range (use 0 to 65535)");
    if (loops < 0 || loops > 65535)
        throw std::invalid_argument("encode_gif: loop count " + std::to_string(loops) +
                                    " is out of range (use 0 for forever, or up to 65535)");
}

void check_screen(int w, int h) {
    if (w < 1 || h < 1 || w > kMaxDimension || h > kMaxDimension)
        throw std::invalid_argument("encode_gif: frame size " + size_str(w, h) +
                                    " is out of range (GIF allows 1 to 65535 pixels per side)");
}

}  // namespace

IndexedFrames quantize(std::span<const plot::Image> frames, int max_colors) {
    check_frame_sizes(frames, "quantize");
    if (max_colors < 2 || max_colors > 256)
        throw std::invalid_argument("quantize: max_colors " + std::to_string(max_colors) +
                                    " is out of range (use 2 to 256)");
    Histogram hist;
    for (const plot::Image& f : frames) {
        const Rgb* px = reinterpret_cast<const Rgb*>(f.data());
        const std::size_t n = static_cast<std::size_t>(f.width()) * static_cast<std::size_t>(f.height());
        // Runs of one colour (common in plots) are counted at once.
        Rgb last = px[0];
        std::uint64_t run = 0;  // pixels of colour `last` not yet counted
        for (std::size_t i = 0; i < n; ++i) {
            if (!(px[i] == last)) {
                hist.add(last, run);
                last = px[i];
                run = 0;
            }
            ++run;
        }
        hist.add(last, run);
    }

    IndexedFrames out;
    const std::vector<Entry> entries = hist.entries();
    if (hist.exact() && entries.size() <= static_cast<std::size_t>(max_colors)) {
        for (const Entry& e : entries) out.palette.push_back(rgb_of(e.key));
    } else {
        out.palette = reduce_colors(entries, max_colors);
    }

    // Each pixel to its nearest palette colour, remembered for the last pixel and in a small
    // direct-mapped cache (key -> index) in front of the search.
    Nearest nearest(out.palette);
    constexpr std::size_t kCacheBits = 12;
    std::vector<std::uint32_t> cache_key(std::size_t{1} << kCacheBits, ColorCounts::kEmpty);  // [4096]
    std::vector<std::uint8_t> cache_index(std::size_t{1} << kCacheBits, 0);                   // [4096]
    out.frames.reserve(frames.size());
    for (const plot::Image& f : frames) {
        GifFrame g{f.width(), f.height(), {}};
        const Rgb* px = reinterpret_cast<const Rgb*>(f.data());
        g.indices.resize(static_cast<std::size_t>(f.width()) * static_cast<std::size_t>(f.height()));
        std::uint32_t last = ColorCounts::kEmpty;
        std::uint8_t last_index = 0;
        for (std::size_t i = 0; i < g.indices.size(); ++i) {
            const std::uint32_t k = key_of(px[i]);
            if (k != last) {
                last = k;
                const std::size_t slot = (k * 0x9E3779B1u) >> (32 - kCacheBits);
                if (cache_key[slot] != k) {
                    cache_key[slot] = k;
                    cache_index[slot] = static_cast<std::uint8_t>(nearest({px[i].r, px[i].g, px[i].b}));
                }
                last_index = cache_index[slot];
            }
            g.indices[i] = last_index;
        }
        out.frames.push_back(std::move(g));
    }
    return out;
}

std::vector<std::uint8_t> encode_gif(std::span<const GifFrame> frames, std::span<const Rgb> palette,
                                     int delay_centiseconds, int loops) {
    if (frames.empty()) throw std::invalid_argument("encode_gif: no frames (give at least one)");
    if (palette.empty() || palette.size() > 256)
        throw std::invalid_argument("encode_gif: a palette of " + std::to_string(palette.size()) +
                                    " colours (GIF needs 1 to 256; reduce the colours with quantize)");
    check_options(delay_centiseconds, loops);
    const int w = frames[0].width, h = frames[0].height;
    check_screen(w, h);
    const std::size_t npix = static_cast<std::size_t>(w) * static_cast<std::size_t>(h);
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const GifFrame& f = frames[i];
        const std::string which = "encode_gif: frame " + std::to_string(i);
        if (f.width != w || f.height != h)
            throw std::invalid_argument(which + " is " + size_str(f.width, f.height) + " but frame 0 is " +
                                        size_str(w, h) + " (all frames must have the same size)");
        if (f.indices.size() != npix)
            throw std::invalid_argument(which + " has " + std::to_string(f.indices.size()) + " indices for " +
                                        size_str(w, h) + " pixels (give width * height)");
        const std::uint8_t top = *std::max_element(f.indices.begin(), f.indices.end());
        if (top >= palette.size())
            throw std::invalid_argument(which + " uses colour index " + std::to_string(top) +
                                        " but the palette has " + std::to_string(palette.size()) +
                                        " colours");
    }

    int table_bits = 1;  // global colour table of 2^table_bits entries
    while ((std::size_t{1} << table_bits) < palette.size()) ++table_bits;
    const int min_code_size = std::max(2, table_bits);

    std::vector<std::uint8_t> out;
    put_text(out, "GIF89a");
    // Logical screen: size, then flags: global table present (0x80), 8 bits per primary
    // (7 << 4), not sorted, table size 2^(table_bits); background index 0; square pixels.
    put_le16(out, w);
    put_le16(out, h);
    out.push_back(static_cast<std::uint8_t>(0x80 | 7 << 4 | (table_bits - 1)));
    out.push_back(0);
    out.push_back(0);
    for (std::size_t i = 0; i < (std::size_t{1} << table_bits); ++i) {
        const Rgb c = i < palette.size() ? palette[i] : plot::kBlack;
        out.insert(out.end(), {c.r, c.g, c.b});
    }
    // NETSCAPE2.0 application extension: sub-block {1, loop count}.
    out.insert(out.end(), {0x21, 0xFF, 11});
    put_text(out, "NETSCAPE2.0");
    out.insert(out.end(), {3, 1});
    put_le16(out, loops);
    out.push_back(0);

    LzwTable table;
    std::vector<std::uint8_t> rect;  // [rh, rw] the indices of the part of a frame that is stored
    for (std::size_t fi = 0; fi < frames.size(); ++fi) {
        const std::vector<std::uint8_t>& cur = frames[fi].indices;
        // The bounding box of the pixels that differ from the previous frame (all of frame 0).
        int x0 = 0, y0 = 0, x1 = w, y1 = h;  // [x0, x1) x [y0, y1)
        if (fi > 0) {
            const std::vector<std::uint8_t>& prev = frames[fi - 1].indices;
            x0 = w, y0 = h, x1 = 0, y1 = 0;
            for (int y = 0; y < h; ++y) {
                const std::uint8_t* a = cur.data() + static_cast<std::size_t>(y) * w;
                const std::uint8_t* b = prev.data() + static_cast<std::size_t>(y) * w;
                int first = 0;
                while (first < w && a[first] == b[first]) ++first;
                if (first == w) continue;
                int last = w - 1;
                while (a[last] == b[last]) --last;
                x0 = std::min(x0, first);
                x1 = std::max(x1, last + 1);
                y0 = std::min(y0, y);
                y1 = y + 1;
            }
            if (x1 == 0) x0 = 0, y0 = 0, x1 = 1, y1 = 1;  // unchanged: redraw one pixel as it is
        }
        const int rw = x1 - x0, rh = y1 - y0;
        rect.resize(static_cast<std::size_t>(rw) * static_cast<std::size_t>(rh));
        for (int y = 0; y < rh; ++y) {
            const auto src = cur.begin() + static_cast<std::ptrdiff_t>(y0 + y) * w + x0;
            std::copy(src, src + rw, rect.begin() + static_cast<std::ptrdiff_t>(y) * rw);
        }

        // Graphic control extension: disposal 1 (leave the frame in place), no user input,
        // no transparency; the delay.
        out.insert(out.end(), {0x21, 0xF9, 4, 1 << 2});
        put_le16(out, delay_centiseconds);
        out.insert(out.end(), {0, 0});
        // Image descriptor: position and size, no local colour table, not interlaced.
        out.push_back(0x2C);
        put_le16(out, x0);
        put_le16(out, y0);
        put_le16(out, rw);
        put_le16(out, rh);
        out.push_back(0);
        // Image data: the minimum code size, then the code stream in sub-blocks of <= 255 bytes.
        const std::vector<std::uint8_t> codes = lzw_encode(rect, min_code_size, table);
        out.push_back(static_cast<std::uint8_t>(min_code_size));
        for (std::size_t at = 0; at < codes.size(); at += 255) {
            const std::size_t n = std::min<std::size_t>(255, codes.size() - at);
            out.push_back(static_cast<std::uint8_t>(n));
            out.insert(out.end(), codes.begin() + static_cast<std::ptrdiff_t>(at),
                       codes.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        out.push_back(0);
    }
    out.push_back(0x3B);
    return out;
}

std::vector<std::uint8_t> encode_gif(std::span<const plot::Image> frames, int delay_centiseconds, int loops) {
    check_frame_sizes(frames, "encode_gif");
    for (std::size_t i = 1; i < frames.size(); ++i)
        if (frames[i].width() != frames[0].width() || frames[i].height() != frames[0].height())
            throw std::invalid_argument("encode_gif: frame " + std::to_string(i) + " is " +
                                        size_str(frames[i].width(), frames[i].height()) + " but frame 0 is " +
                                        size_str(frames[0].width(), frames[0].height()) +
                                        " (all frames must have the same size)");
    // The cheap checks before the colour reduction.
    check_options(delay_centiseconds, loops);
    check_screen(frames[0].width(), frames[0].height());
    const IndexedFrames q = quantize(frames, 256);
    return encode_gif(q.frames, q.palette, delay_centiseconds, loops);
}

void write_gif(const std::string& path, std::span<const plot::Image> frames, int delay_centiseconds,
               int loops) {
    write_file_atomic(path, encode_gif(frames, delay_centiseconds, loops));
}

}  // namespace nfvi::io
