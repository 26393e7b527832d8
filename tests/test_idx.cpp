// Tests of the IDX (MNIST) reader: encode→parse round trips, plain and gzip files, a tiny fake
// MNIST directory, and rejection of truncated, mislabelled, oversized and inconsistent data
// with messages that say what to do. Never uses the network.
//
// This suite replaces the global operator new to record the largest single allocation, so a
// header claiming 10^9 images can be shown to be refused without allocating its payload.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "src/io/deflate.h"
#include "src/io/files.h"
#include "src/io/idx.h"

namespace {
std::atomic<std::size_t> g_largest_alloc{0};  // the largest operator new request since reset
}  // namespace

namespace {
void* tracked_malloc(std::size_t n) noexcept {
    std::size_t prev = g_largest_alloc.load(std::memory_order_relaxed);
    while (n > prev && !g_largest_alloc.compare_exchange_weak(prev, n, std::memory_order_relaxed)) {
    }
    return std::malloc(n == 0 ? 1 : n);
}
}  // namespace

// Every unaligned form, so that no allocation made by another form meets free() below.
void* operator new(std::size_t n) {
    if (void* p = tracked_malloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    if (void* p = tracked_malloc(n)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return tracked_malloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return tracked_malloc(n); }
// GCC, inlining these into std::vector, warns that malloc'd memory meets operator delete;
// here operator new is malloc, so the pairing is right.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#pragma GCC diagnostic pop

using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// The FormatError message of f(), or "" (and a failed check) if it does not throw one.
std::string format_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const FormatError& e) {
        return e.what();
    }
    FAIL_CHECK("expected a FormatError");
    return "";
}

std::string io_error(const std::function<void()>& f) {
    try {
        f();
    } catch (const IoError& e) {
        return e.what();
    }
    FAIL_CHECK("expected an IoError");
    return "";
}

IdxImages make_images(int count, int rows, int cols, unsigned seed) {
    std::mt19937 rng(seed);
    IdxImages im{count, rows, cols, {}};
    im.pixels.resize(static_cast<std::size_t>(count) * rows * cols);  // [count, rows, cols]
    for (auto& p : im.pixels) p = static_cast<std::uint8_t>(rng() & 0xFF);
    return im;
}

IdxLabels make_labels(int count, unsigned seed) {
    std::mt19937 rng(seed);
    IdxLabels lb{count, {}};
    lb.labels.resize(static_cast<std::size_t>(count));  // [count]
    for (auto& l : lb.labels) l = static_cast<std::uint8_t>(rng() % 10);
    return lb;
}

// A header: 00 00 08 `dims`, then the given 32-bit sizes.
Bytes header(std::uint8_t dims, std::initializer_list<std::uint32_t> sizes) {
    Bytes b = {0, 0, 8, dims};
    for (std::uint32_t v : sizes)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
    return b;
}

// A fresh empty directory, removed at the end of the scope.
struct TempDir {
    fs::path path;
    TempDir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("nfvi_test_idx_" + std::to_string(rd()) + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::string write(const std::string& name, const Bytes& b) const {
        write_file_atomic(file(name), b);
        return file(name);
    }
};

bool same(const IdxImages& a, const IdxImages& b) {
    return a.count == b.count && a.rows == b.rows && a.cols == b.cols && a.pixels == b.pixels;
}
bool same(const IdxLabels& a, const IdxLabels& b) { return a.count == b.count && a.labels == b.labels; }

// A fake MNIST directory: 5 training and 3 test images of 28x28; the training images gzipped.
struct FakeMnist {
    TempDir dir;
    IdxImages train_images = make_images(5, 28, 28, 1), test_images = make_images(3, 28, 28, 2);
    IdxLabels train_labels = make_labels(5, 3), test_labels = make_labels(3, 4);
    FakeMnist() {
        dir.write("train-images-idx3-ubyte.gz", gzip_compress(encode_idx_images(train_images)));
        dir.write("train-labels-idx1-ubyte", encode_idx_labels(train_labels));
        dir.write("t10k-images-idx3-ubyte", encode_idx_images(test_images));
        dir.write("t10k-labels-idx1-ubyte", encode_idx_labels(test_labels));
    }
};

}  // namespace

TEST_CASE("idx: encode writes the big-endian header and parse reads it back") {
    const IdxImages im = make_images(3, 4, 5, 7);
    const Bytes b = encode_idx_images(im);
    REQUIRE(b.size() == 16 + 60);
    CHECK(Bytes(b.begin(), b.begin() + 16) == header(3, {3, 4, 5}));
    CHECK(Bytes(b.begin() + 16, b.end()) == im.pixels);
    CHECK(same(parse_idx_images(b), im));

    const IdxLabels lb = make_labels(300, 8);  // a count above 255 exercises the byte order
    const Bytes l = encode_idx_labels(lb);
    REQUIRE(l.size() == 8 + 300);
    CHECK(Bytes(l.begin(), l.begin() + 8) == Bytes{0, 0, 8, 1, 0, 0, 1, 44});
    CHECK(same(parse_idx_labels(l), lb));
}

TEST_CASE("idx: a count of 0 is a well-formed file and round-trips") {
    const IdxImages im{0, 28, 28, {}};
    const IdxImages back = parse_idx_images(encode_idx_images(im));
    CHECK(back.count == 0);
    CHECK(back.rows == 28);
    CHECK(back.cols == 28);
    CHECK(back.pixels.empty());
    CHECK(parse_idx_labels(encode_idx_labels(IdxLabels{})).count == 0);
}

TEST_CASE("idx: encode refuses inconsistent shapes") {
    IdxImages im = make_images(2, 3, 3, 1);
    im.pixels.pop_back();
    CHECK_THROWS_AS(encode_idx_images(im), std::invalid_argument);
    CHECK_THROWS_AS(encode_idx_images(IdxImages{1, 0, 3, {}}), std::invalid_argument);
    CHECK_THROWS_AS(encode_idx_labels(IdxLabels{3, {1, 2}}), std::invalid_argument);
    CHECK_THROWS_AS(encode_idx_labels(IdxLabels{-1, {}}), std::invalid_argument);
}

TEST_CASE("idx: plain and gzip files read the same, detected by content not name") {
    TempDir dir;
    const IdxImages im = make_images(4, 7, 9, 11);
    const IdxLabels lb = make_labels(4, 12);
    const std::string plain = dir.write("images", encode_idx_images(im));
    const std::string gz = dir.write("images.gz", gzip_compress(encode_idx_images(im), 9, "images"));
    const std::string gz_no_ext = dir.write("images-compressed", gzip_compress(encode_idx_images(im)));
    CHECK(same(read_idx_images(plain), im));
    CHECK(same(read_idx_images(gz), im));
    CHECK(same(read_idx_images(gz_no_ext), im));
    CHECK(same(read_idx_labels(dir.write("labels", encode_idx_labels(lb))), lb));
    CHECK(same(read_idx_labels(dir.write("labels.gz", gzip_compress(encode_idx_labels(lb)))), lb));
}

TEST_CASE("idx: read_mnist loads a tiny fake directory") {
    FakeMnist f;
    const Mnist m = read_mnist(f.dir.path.string());
    CHECK(same(m.train.images, f.train_images));
    CHECK(same(m.train.labels, f.train_labels));
    CHECK(same(m.test.images, f.test_images));
    CHECK(same(m.test.labels, f.test_labels));
}

TEST_CASE("idx: every truncation of a valid file is refused") {
    const Bytes im = encode_idx_images(make_images(2, 3, 4, 5));  // 16 + 24 bytes
    for (std::size_t n = 0; n < im.size(); ++n) {
        CAPTURE(n);
        const std::string msg = format_error([&] { parse_idx_images(std::span(im).first(n)); });
        CHECK(contains(msg, "truncated"));
        CHECK(contains(msg, "scripts/fetch-mnist.sh"));
    }
    CHECK(contains(format_error([&] { parse_idx_images(std::span(im).first(26)); }),
                   "expected 24 bytes of pixels, found 10 — the file is truncated or corrupt"));
    const Bytes lb = encode_idx_labels(make_labels(6, 5));  // 8 + 6 bytes
    for (std::size_t n = 0; n < lb.size(); ++n) {
        CAPTURE(n);
        CHECK(contains(format_error([&] { parse_idx_labels(std::span(lb).first(n)); }), "truncated"));
    }
    CHECK(contains(format_error([&] { parse_idx_labels(std::span(lb).first(10)); }),
                   "expected 6 bytes of labels, found 2"));

    // A truncated gzip file names the path and says what to do.
    TempDir dir;
    Bytes gz = gzip_compress(im);
    gz.erase(gz.end() - 5, gz.end());  // cut into the trailer
    const std::string path = dir.write("cut.gz", gz);
    const std::string msg = format_error([&] { read_idx_images(path); });
    CHECK(contains(msg, path));
    CHECK(contains(msg, "gzip-compressed but could not be decompressed"));
    CHECK(contains(msg, "fetch-mnist.sh"));
}

TEST_CASE("idx: trailing bytes are refused") {
    Bytes im = encode_idx_images(make_images(2, 3, 4, 5));
    im.push_back(0);
    CHECK(contains(format_error([&] { parse_idx_images(im); }), "1 trailing bytes after the 24 bytes of pixels"));
    Bytes lb = encode_idx_labels(make_labels(6, 5));
    lb.insert(lb.end(), {0, 0, 0});
    CHECK(contains(format_error([&] { parse_idx_labels(lb); }), "3 trailing bytes"));
}

TEST_CASE("idx: a wrong magic says what was expected, what was found, and the likely cause") {
    const Bytes labels = encode_idx_labels(make_labels(4, 1));
    const Bytes images = encode_idx_images(make_images(1, 2, 2, 1));
    std::string msg = format_error([&] { parse_idx_images(labels); });
    CHECK(contains(msg, "magic number is 0x00000801, expected 0x00000803"));
    CHECK(contains(msg, "swapped"));
    CHECK(contains(format_error([&] { parse_idx_labels(images); }), "expected 0x00000801"));

    // An error page saved in place of the file.
    const std::string html = "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head></html>\n";
    TempDir dir;
    const std::string path = dir.write("train-images-idx3-ubyte", Bytes(html.begin(), html.end()));
    msg = format_error([&] { read_idx_images(path); });
    CHECK(contains(msg, path));
    CHECK(contains(msg, "HTML page"));
    CHECK(contains(msg, "fetch-mnist.sh"));

    // Compressed bytes handed to the in-memory parser.
    CHECK(contains(format_error([&] { parse_idx_images(gzip_compress(images)); }), "gzip-compressed"));

    // Another element type (0x0D = float), and garbage.
    Bytes floats = images;
    floats[2] = 0x0D;
    CHECK(contains(format_error([&] { parse_idx_images(floats); }), "element type 0x0D"));
    CHECK(contains(format_error([&] { parse_idx_labels(Bytes{'P', 'K', 3, 4, 0, 0, 0, 0}); }), "not IDX data"));
}

TEST_CASE("idx: dimension count and sides are checked") {
    Bytes two_dims = header(2, {1, 2});
    two_dims.insert(two_dims.end(), {1, 2});
    CHECK(contains(format_error([&] { parse_idx_images(two_dims); }), "2 dimensions, expected 3"));
    CHECK(contains(format_error([&] { parse_idx_labels(two_dims); }), "2 dimensions, expected 1"));
    CHECK(contains(format_error([&] { parse_idx_images(header(3, {1, 0, 4})); }), "at least 1"));
    CHECK(contains(format_error([&] { parse_idx_images(header(3, {1, 4, 0})); }), "at least 1"));
    CHECK(contains(format_error([&] { parse_idx_images(header(3, {1, 5000, 2})); }), "IdxLimits::max_side"));
    // Within the limits, but the payload the header promises is missing.
    CHECK(contains(format_error([&] { parse_idx_images(header(3, {1, 28, 28})); }),
                   "expected 784 bytes of pixels, found 0"));
}

TEST_CASE("idx: a header claiming 10^9 images is refused at once, without allocating") {
    const Bytes h = header(3, {1'000'000'000, 28, 28});
    g_largest_alloc = 0;
    std::string msg = format_error([&] { parse_idx_images(h); });
    CHECK(g_largest_alloc.load() < 4096);  // only the message; no 784 GB buffer
    CHECK(contains(msg, "1000000000 images"));
    CHECK(contains(msg, "limit of 10000000"));
    CHECK(contains(msg, "IdxLimits::max_items"));

    TempDir dir;
    const std::string path = dir.write("huge", h);
    g_largest_alloc = 0;
    msg = format_error([&] { read_idx_images(path); });
    CHECK(g_largest_alloc.load() < 1 << 20);  // read_file's buffer at most
    CHECK(contains(msg, path));
    CHECK(contains(msg, "limit"));

    g_largest_alloc = 0;
    msg = format_error([&] { parse_idx_labels(header(1, {1'000'000'000})); });
    CHECK(g_largest_alloc.load() < 4096);
    CHECK(contains(msg, "IdxLimits::max_items"));

    // Within max_items and max_side, but count·rows·cols exceeds max_bytes.
    g_largest_alloc = 0;
    msg = format_error([&] { parse_idx_images(header(3, {1'000'000, 4096, 4096})); });
    CHECK(g_largest_alloc.load() < 4096);
    CHECK(contains(msg, "IdxLimits::max_bytes"));

    // Custom limits apply.
    IdxLimits small;
    small.max_items = 3;
    CHECK(contains(format_error([&] { parse_idx_labels(encode_idx_labels(make_labels(4, 1)), small); }),
                   "limit of 3"));
    CHECK_NOTHROW(parse_idx_labels(encode_idx_labels(make_labels(3, 1)), small));
}

TEST_CASE("idx: a gzip bomb is refused by the limit") {
    // 8 + 4 MB of labels compress to a few kilobytes.
    const Bytes big = encode_idx_labels(IdxLabels{4'000'000, Bytes(4'000'000, 0)});
    TempDir dir;
    const std::string path = dir.write("bomb.gz", gzip_compress(big, 9));
    IdxLimits limits;
    limits.max_items = 1000;
    g_largest_alloc = 0;
    const std::string msg = format_error([&] { read_idx_labels(path, limits); });
    CHECK(g_largest_alloc.load() < 1 << 17);  // never grew toward 4 MB
    CHECK(contains(msg, path));
    CHECK(contains(msg, "exceeds the limit of 1008 bytes"));
}

TEST_CASE("idx: read_mnist refuses inconsistent directories") {
    SUBCASE("image and label counts differ") {
        FakeMnist f;
        f.dir.write("t10k-labels-idx1-ubyte", encode_idx_labels(make_labels(4, 1)));
        const std::string msg = format_error([&] { read_mnist(f.dir.path.string()); });
        CHECK(contains(msg, "holds 3 images"));
        CHECK(contains(msg, "holds 4 labels"));
    }
    SUBCASE("a label of 10") {
        FakeMnist f;
        IdxLabels bad = f.train_labels;
        bad.labels[2] = 10;
        f.dir.write("train-labels-idx1-ubyte", encode_idx_labels(bad));
        const std::string msg = format_error([&] { read_mnist(f.dir.path.string()); });
        CHECK(contains(msg, "label 10 at index 2 is not a digit 0..9"));
        CHECK(contains(msg, "train-labels-idx1-ubyte"));
    }
    SUBCASE("an empty split") {
        FakeMnist f;
        f.dir.write("t10k-images-idx3-ubyte", encode_idx_images(IdxImages{0, 28, 28, {}}));
        f.dir.write("t10k-labels-idx1-ubyte", encode_idx_labels(IdxLabels{}));
        CHECK(contains(format_error([&] { read_mnist(f.dir.path.string()); }), "holds no images"));
    }
    SUBCASE("train and test images of different sizes") {
        FakeMnist f;
        f.dir.write("t10k-images-idx3-ubyte", encode_idx_images(make_images(3, 14, 14, 1)));
        CHECK(contains(format_error([&] { read_mnist(f.dir.path.string()); }), "different data sets"));
    }
    SUBCASE("a missing file") {
        FakeMnist f;
        fs::remove(f.dir.path / "t10k-images-idx3-ubyte");
        const std::string msg = io_error([&] { read_mnist(f.dir.path.string()); });
        CHECK(contains(msg, "t10k-images-idx3-ubyte"));
        CHECK(contains(msg, "scripts/fetch-mnist.sh " + f.dir.path.string()));
    }
}

TEST_CASE("idx: a missing file is an IoError that suggests the fetch script") {
    TempDir dir;
    const std::string path = dir.file("train-images-idx3-ubyte");
    std::string msg = io_error([&] { read_idx_images(path); });
    CHECK(contains(msg, path));
    CHECK(contains(msg, "scripts/fetch-mnist.sh " + dir.path.string()));
    msg = io_error([&] { read_idx_labels(dir.file("labels")); });
    CHECK(contains(msg, "fetch-mnist.sh"));
}
