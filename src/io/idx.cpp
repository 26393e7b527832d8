// IDX (MNIST) parsing, encoding and loading: header checks against IdxLimits before any
// allocation, exact payload sizes, gzip detection by content, and the four-file MNIST layout.
#include "src/io/idx.h"

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "src/io/files.h"
#include "src/io/inflate.h"

namespace nfvi::io {

namespace {

constexpr std::uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr std::uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr std::size_t kImagesHeader = 16, kLabelsHeader = 8;
constexpr const char* kFetchAgain = "fetch it again with scripts/fetch-mnist.sh";

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
    return buf;
}

// a·b, or SIZE_MAX when it overflows.
std::size_t sat_mul(std::size_t a, std::size_t b) {
    return (a != 0 && b > SIZE_MAX / a) ? SIZE_MAX : a * b;
}
std::size_t sat_add(std::size_t a, std::size_t b) { return b > SIZE_MAX - a ? SIZE_MAX : a + b; }

// The limits as unsigned bounds (a negative limit allows nothing).
std::uint64_t max_items_of(const IdxLimits& l) {
    const std::uint64_t m = l.max_items < 0 ? 0 : static_cast<std::uint64_t>(l.max_items);
    return std::min<std::uint64_t>(m, INT_MAX);  // counts are stored as int
}
std::uint64_t max_side_of(const IdxLimits& l) { return l.max_side < 0 ? 0 : static_cast<std::uint64_t>(l.max_side); }

// First non-blank byte is '<': an HTML or XML page (an error page saved in place of the file).
bool looks_like_html(std::span<const std::uint8_t> b) {
    std::size_t i = 0;
    if (b.size() >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) i = 3;  // UTF-8 BOM
    while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) ++i;
    return i < b.size() && b[i] == '<';
}

struct Context {
    std::string who;  // "'path'" or "IDX data"
    const char* kind;  // "image" or "label"
    [[noreturn]] void fail(const std::string& what) const { throw FormatError(who + ": " + what); }
};

// Why the first bytes are not the expected magic, with a hint at the likely cause.
[[noreturn]] void bad_magic(const Context& c, std::span<const std::uint8_t> b, std::uint32_t want) {
    const std::uint32_t got = be32(b.data());
    const std::uint32_t want_dims = want & 0xFF, got_dims = got & 0xFF;
    std::string msg = "not an IDX " + std::string(c.kind) + " file: the magic number is " + hex32(got) +
                      ", expected " + hex32(want) + " (unsigned bytes, " + std::to_string(want_dims) +
                      (want_dims == 1 ? " dimension)" : " dimensions)");
    if (is_gzip(b)) {
        msg += "; the data is gzip-compressed and was not decompressed (read the file with read_idx_"
               + std::string(c.kind) + "s, which decompresses it, or gunzip it)";
    } else if (looks_like_html(b)) {
        msg += "; the file looks like an HTML page, not MNIST data: the download probably saved an "
               "error page; " + std::string(kFetchAgain);
    } else if ((got >> 8) == 0x000008) {
        if (got == kLabelsMagic && want == kImagesMagic)
            msg += "; this is a label file (1 dimension): are the image and label files swapped?";
        else if (got == kImagesMagic && want == kLabelsMagic)
            msg += "; this is an image file (3 dimensions): are the image and label files swapped?";
        else
            msg += "; it has " + std::to_string(got_dims) + " dimensions, expected " + std::to_string(want_dims);
    } else if ((got >> 16) == 0) {
        msg += "; element type 0x" + hex32((got >> 8) & 0xFF).substr(8) +
               " is not supported (only unsigned bytes, type 0x08)";
    } else {
        msg += "; the file is not IDX data or is corrupt: " + std::string(kFetchAgain);
    }
    c.fail(msg);
}

// Checks the magic and that the whole header is present; returns the header size.
std::size_t check_header(const Context& c, std::span<const std::uint8_t> b, std::uint32_t magic) {
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(magic & 0xFF);
    if (b.size() < 4) {
        std::string msg = "only " + std::to_string(b.size()) + " bytes, too short for an IDX header (" +
                          std::to_string(header) + " bytes) — the file is truncated or empty; " + kFetchAgain;
        if (looks_like_html(b)) msg += " (it starts with '<': an HTML page?)";
        c.fail(msg);
    }
    if (be32(b.data()) != magic) bad_magic(c, b, magic);
    if (b.size() < header)
        c.fail("expected " + std::to_string(header) + " bytes of header, found " + std::to_string(b.size()) +
               " — the file is truncated or corrupt; " + kFetchAgain);
    return header;
}

// Exactly `want` payload bytes must follow the header.
void check_payload(const Context& c, std::size_t have, std::uint64_t want, const char* what) {
    if (have < want)
        c.fail("expected " + std::to_string(want) + " bytes of " + what + ", found " + std::to_string(have) +
               " — the file is truncated or corrupt; " + kFetchAgain);
    if (have > want)
        c.fail(std::to_string(have - want) + " trailing bytes after the " + std::to_string(want) + " bytes of " +
               what + " the header announces — the file is corrupt or not a single IDX file; " + kFetchAgain);
}

void check_count(const Context& c, std::uint64_t count, const IdxLimits& limits) {
    if (count > max_items_of(limits))
        c.fail("the header claims " + std::to_string(count) + " " + c.kind + "s, more than the limit of " +
               std::to_string(max_items_of(limits)) +
               " (IdxLimits::max_items) — the file is corrupt, or raise the limit if it is genuine");
}

IdxImages parse_images(std::span<const std::uint8_t> b, const IdxLimits& limits, const Context& c) {
    const std::size_t header = check_header(c, b, kImagesMagic);
    const std::uint64_t count = be32(b.data() + 4), rows = be32(b.data() + 8), cols = be32(b.data() + 12);
    if (rows == 0 || cols == 0)
        c.fail("the header claims images of " + std::to_string(rows) + " x " + std::to_string(cols) +
               " pixels; both sides must be at least 1 — the file is corrupt; " + kFetchAgain);
    if (rows > max_side_of(limits) || cols > max_side_of(limits))
        c.fail("the header claims images of " + std::to_string(rows) + " x " + std::to_string(cols) +
               " pixels, larger than the limit of " + std::to_string(max_side_of(limits)) +
               " per side (IdxLimits::max_side) — the file is corrupt, or raise the limit if it is genuine");
    check_count(c, count, limits);
    const std::uint64_t per_image = rows * cols;  // ≤ 2^62: both sides are 32-bit
    if (count > limits.max_bytes / per_image)
        c.fail("the header claims " + std::to_string(count) + " images of " + std::to_string(rows) + " x " +
               std::to_string(cols) + " pixels, more than the limit of " + std::to_string(limits.max_bytes) +
               " bytes (IdxLimits::max_bytes) — the file is corrupt, or raise the limit if it is genuine");
    const std::uint64_t n = count * per_image;  // ≤ max_bytes
    check_payload(c, b.size() - header, n, "pixels");

    IdxImages out;
    out.count = static_cast<int>(count);
    out.rows = static_cast<int>(rows);
    out.cols = static_cast<int>(cols);
    out.pixels.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());  // [count, rows, cols]
    return out;
}

IdxLabels parse_labels(std::span<const std::uint8_t> b, const IdxLimits& limits, const Context& c) {
    const std::size_t header = check_header(c, b, kLabelsMagic);
    const std::uint64_t count = be32(b.data() + 4);
    check_count(c, count, limits);
    if (count > limits.max_bytes)
        c.fail("the header claims " + std::to_string(count) + " labels, more than the limit of " +
               std::to_string(limits.max_bytes) +
               " bytes (IdxLimits::max_bytes) — the file is corrupt, or raise the limit if it is genuine");
    check_payload(c, b.size() - header, count, "labels");

    IdxLabels out;
    out.count = static_cast<int>(count);
    out.labels.assign(b.begin() + static_cast<std::ptrdiff_t>(header), b.end());  // [count]
    return out;
}

// The hint appended when a file cannot be opened.
std::string fetch_hint(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    return "to download MNIST into '" + dir + "', run scripts/fetch-mnist.sh " + dir;
}

// The file's bytes, decompressed when they are gzip; `max_out` bounds the decompressed size.
std::vector<std::uint8_t> load(const std::string& path, std::size_t max_out) {
    std::vector<std::uint8_t> raw;
    try {
        // A compressed file is at most slightly larger than its content; allow generous slack
        // for gzip headers and stored blocks, and let a plain file's excess be reported as
        // trailing bytes.
        raw = read_file(path, sat_add(sat_mul(max_out, 2), 1 << 16));
    } catch (const IoError& e) {
        throw IoError(std::string(e.what()) + " — " + fetch_hint(path));
    }
    if (!is_gzip(raw)) return raw;
    try {
        return gzip_decompress(raw, max_out);
    } catch (const FormatError& e) {
        throw FormatError("'" + path + "' is gzip-compressed but could not be decompressed (" + e.what() +
                          ") — if the download is truncated or corrupt, " + kFetchAgain +
                          "; if it exceeds the limit, it is not MNIST data or IdxLimits must be raised");
    }
}

void check_encodable(std::size_t n, std::size_t have, const char* what) {
    if (n != have)
        throw std::invalid_argument("encode_idx_" + std::string(what) + ": the buffer holds " + std::to_string(have) +
                                    " bytes but the shape needs " + std::to_string(n));
}

std::string join(const std::string& dir, const std::string& name) {
    return (std::filesystem::path(dir) / name).string();
}

// `dir/base`, or `dir/base.gz` when only that exists; IoError when neither does.
std::string find_mnist_file(const std::string& dir, const std::string& base) {
    const std::string plain = join(dir, base), gz = plain + ".gz";
    std::error_code ec;
    if (std::filesystem::exists(plain, ec)) return plain;
    if (std::filesystem::exists(gz, ec)) return gz;
    throw IoError("MNIST file '" + plain + "' (or '" + gz + "') not found — download the data set with "
                  "scripts/fetch-mnist.sh " + dir);
}

MnistSplit read_split(const std::string& dir, const std::string& prefix) {
    const std::string ipath = find_mnist_file(dir, prefix + "-images-idx3-ubyte");
    const std::string lpath = find_mnist_file(dir, prefix + "-labels-idx1-ubyte");
    MnistSplit s{read_idx_images(ipath), read_idx_labels(lpath)};
    if (s.images.count == 0)
        throw FormatError("'" + ipath + "' holds no images — the file is corrupt; " + kFetchAgain + " " + dir);
    if (s.images.count != s.labels.count)
        throw FormatError("'" + ipath + "' holds " + std::to_string(s.images.count) + " images but '" + lpath +
                          "' holds " + std::to_string(s.labels.count) +
                          " labels — the files belong to different sets or one is corrupt; fetch them again "
                          "with scripts/fetch-mnist.sh " + dir);
    for (std::size_t i = 0; i < s.labels.labels.size(); ++i) {
        if (s.labels.labels[i] > 9)
            throw FormatError("'" + lpath + "': label " + std::to_string(s.labels.labels[i]) + " at index " +
                              std::to_string(i) + " is not a digit 0..9 — these are not MNIST labels or the "
                              "file is corrupt; " + kFetchAgain + " " + dir);
    }
    return s;
}

}  // namespace

IdxImages parse_idx_images(std::span<const std::uint8_t> bytes, const IdxLimits& limits) {
    return parse_images(bytes, limits, Context{"IDX data", "image"});
}

IdxLabels parse_idx_labels(std::span<const std::uint8_t> bytes, const IdxLimits& limits) {
    return parse_labels(bytes, limits, Context{"IDX data", "label"});
}

IdxImages read_idx_images(const std::string& path, const IdxLimits& limits) {
    const auto side = static_cast<std::size_t>(max_side_of(limits));
    const std::size_t payload = std::min(limits.max_bytes, sat_mul(static_cast<std::size_t>(max_items_of(limits)),
                                                                   sat_mul(side, side)));
    const std::vector<std::uint8_t> bytes = load(path, sat_add(payload, kImagesHeader));
    return parse_images(bytes, limits, Context{"'" + path + "'", "image"});
}

IdxLabels read_idx_labels(const std::string& path, const IdxLimits& limits) {
    const std::size_t payload = std::min<std::size_t>(limits.max_bytes, max_items_of(limits));
    const std::vector<std::uint8_t> bytes = load(path, sat_add(payload, kLabelsHeader));
    return parse_labels(bytes, limits, Context{"'" + path + "'", "label"});
}

std::vector<std::uint8_t> encode_idx_images(const IdxImages& images) {
    if (images.count < 0 || images.rows < 1 || images.cols < 1)
        throw std::invalid_argument("encode_idx_images: count must be ≥ 0 and rows, cols ≥ 1, got " +
                                    std::to_string(images.count) + " x " + std::to_string(images.rows) + " x " +
                                    std::to_string(images.cols));
    const std::size_t n = sat_mul(sat_mul(static_cast<std::size_t>(images.count), static_cast<std::size_t>(images.rows)),
                                  static_cast<std::size_t>(images.cols));
    check_encodable(n, images.pixels.size(), "images");
    std::vector<std::uint8_t> out;
    out.reserve(kImagesHeader + n);
    put_be32(out, kImagesMagic);
    put_be32(out, static_cast<std::uint32_t>(images.count));
    put_be32(out, static_cast<std::uint32_t>(images.rows));
    put_be32(out, static_cast<std::uint32_t>(images.cols));
    out.insert(out.end(), images.pixels.begin(), images.pixels.end());
    return out;
}

std::vector<std::uint8_t> encode_idx_labels(const IdxLabels& labels) {
    if (labels.count < 0)
        throw std::invalid_argument("encode_idx_labels: count must be ≥ 0, got " + std::to_string(labels.count));
    check_encodable(static_cast<std::size_t>(labels.count), labels.labels.size(), "labels");
    std::vector<std::uint8_t> out;
    out.reserve(kLabelsHeader + labels.labels.size());
    put_be32(out, kLabelsMagic);
    put_be32(out, static_cast<std::uint32_t>(labels.count));
    out.insert(out.end(), labels.labels.begin(), labels.labels.end());
    return out;
}

Mnist read_mnist(const std::string& dir) {
    Mnist m{read_split(dir, "train"), read_split(dir, "t10k")};
    if (m.train.images.rows != m.test.images.rows || m.train.images.cols != m.test.images.cols)
        throw FormatError("MNIST in '" + dir + "': training images are " + std::to_string(m.train.images.rows) +
                          " x " + std::to_string(m.train.images.cols) + " but test images are " +
                          std::to_string(m.test.images.rows) + " x " + std::to_string(m.test.images.cols) +
                          " — the files come from different data sets; fetch them again with "
                          "scripts/fetch-mnist.sh " + dir);
    return m;
}

}  // namespace nfvi::io
