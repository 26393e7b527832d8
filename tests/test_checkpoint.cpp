// Tests of the checkpoint container (src/io/checkpoint.h): round trips of every kind of
// section, the byte layout against an encoder written here from the documented format, files
// written and replaced on disk, and rejection of truncated, bit-flipped, foreign, newer,
// over-limit and hostile files with messages that say what is wrong and what to do.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "autodiff/tensor.h"
#include "src/io/checkpoint.h"
#include "src/io/checksum.h"
#include "src/io/files.h"
#include "tests/test_util.h"

using namespace nfvi;
using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;

namespace {

bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

// The message of the FormatError `f` throws, or a marker that fails every content check.
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const FormatError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("<not a FormatError: ") + e.what() + ">";
    }
    return "<no error>";
}

std::string parse_error(const Bytes& b) { return error_of([&] { Checkpoint::parse(b, "ck.bin"); }); }

// A checkpoint encoded by hand from the format in checkpoint.h (native byte order), to pin
// the writer's layout and to build files the writer refuses to make.
struct Raw {
    Bytes b;
    template <class T>
    Raw& num(T v) {
        std::uint8_t x[sizeof v];
        std::memcpy(x, &v, sizeof v);
        b.insert(b.end(), x, x + sizeof v);
        return *this;
    }
    Raw& str(std::string_view s) {
        b.insert(b.end(), s.begin(), s.end());
        return *this;
    }
    Raw& header(std::uint32_t count, std::uint32_t version = 1, std::uint32_t tag = 0x01020304) {
        return str("NFVICKPT").num(version).num(tag).num(count);
    }
    Raw& section(std::string_view name, std::string_view payload) {
        return num(static_cast<std::uint32_t>(name.size())).str(name).num(std::uint64_t{payload.size()}).str(payload);
    }
    Bytes finish() const {  // appends the CRC of everything so far
        Bytes out = b;
        const std::uint32_t crc = crc32(out);
        std::uint8_t x[4];
        std::memcpy(x, &crc, 4);
        out.insert(out.end(), x, x + 4);
        return out;
    }
};

// Rewrites the trailing CRC after a deliberate change, so that only the change is seen.
void fix_crc(Bytes& b) {
    const std::uint32_t crc = crc32(std::span(b).first(b.size() - 4));
    std::memcpy(b.data() + b.size() - 4, &crc, 4);
}

void put_u32(Bytes& b, std::size_t at, std::uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

bool same_bits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() &&
           std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.numel()) * sizeof(real)) == 0;
}

// A small checkpoint with one section of each kind.
CheckpointWriter small_writer() {
    CheckpointWriter w;
    w.add_text("settings", R"({"latent":2})");
    w.add_u64("step", 1234);
    w.add_tensor("w", Tensor(Shape{2, 3}, {1, -2, 3.5f, 0, -0.0f, 6}));
    return w;
}

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::random_device rd;
        path = std::filesystem::temp_directory_path() /
               ("nfvi_test_checkpoint_" + std::to_string(rd()) + "_" + std::to_string(rd()));
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::vector<std::string> entries() const {
        std::vector<std::string> v;
        for (const auto& e : std::filesystem::directory_iterator(path)) v.push_back(e.path().filename().string());
        std::sort(v.begin(), v.end());
        return v;
    }
};

}  // namespace

// ---------------------------------------------------------------- round trips and layout

TEST_CASE("checkpoint round trip: raw bytes, text, integers and tensors of every rank") {
    test::Fill fill(7);
    const Tensor t0(Shape{});  // rank 0: one value
    Tensor scalar = t0;
    scalar[0] = real(-3.25);
    const Tensor vec = fill.tensor(Shape{5}, -2, 2);
    const Tensor mat = fill.tensor(Shape{7, 3}, -1, 1);
    const Tensor t3 = fill.tensor(Shape{2, 3, 4}, -5, 5);
    Tensor t4 = fill.tensor(Shape{2, 1, 3, 2}, 0, 1);
    t4[0] = std::numeric_limits<real>::infinity();
    t4[1] = -std::numeric_limits<real>::infinity();
    t4[2] = std::numeric_limits<real>::quiet_NaN();
    t4[3] = -real(0);
    t4[4] = std::numeric_limits<real>::denorm_min();
    const Tensor empty(Shape{0, 4});

    const std::string json = R"({"flow":"planar","layers":8,"lr":0.001})";
    const Bytes raw = {0, 1, 2, 255, 0, 128};
    const std::vector<std::byte> opt = {std::byte{0x4E}, std::byte{0}, std::byte{0xFF}};

    CheckpointWriter w;
    w.add_text("settings", json);
    w.add_u64("step", 0xFEDCBA9876543210ULL);
    w.add_u64("zero", 0);
    w.add_i64("seed", -42);
    w.add_i64("min", std::numeric_limits<std::int64_t>::min());
    w.add("rng", raw);
    w.add("optimizer", opt);
    w.add("empty", Bytes{});
    w.add_text("no text", "");
    w.add_tensor("scalar", scalar);
    w.add_tensor("vec", vec);
    w.add_tensor("encoder.w1", mat);
    w.add_tensor("t3", t3);
    w.add_tensor("t4", t4);
    w.add_tensor("zero dim", empty);
    CHECK(w.size() == 15);

    const Checkpoint ck = Checkpoint::parse(w.bytes(), "mem");
    CHECK(ck.source() == "mem");
    CHECK(ck.names() == std::vector<std::string>{"settings", "step", "zero", "seed", "min", "rng", "optimizer",
                                                 "empty", "no text", "scalar", "vec", "encoder.w1", "t3", "t4",
                                                 "zero dim"});
    CHECK(ck.has("t3"));
    CHECK_FALSE(ck.has("t5"));
    CHECK_FALSE(ck.has(""));
    CHECK(ck.text("settings") == json);
    CHECK(ck.u64("step") == 0xFEDCBA9876543210ULL);
    CHECK(ck.u64("zero") == 0);
    CHECK(ck.i64("seed") == -42);
    CHECK(ck.i64("min") == std::numeric_limits<std::int64_t>::min());
    CHECK(ck.u64("seed") == static_cast<std::uint64_t>(std::int64_t{-42}));
    const auto rb = ck.bytes("rng");
    CHECK(Bytes(rb.begin(), rb.end()) == raw);
    const auto ob = std::as_bytes(ck.bytes("optimizer"));
    CHECK(std::vector<std::byte>(ob.begin(), ob.end()) == opt);
    CHECK(ck.bytes("empty").empty());
    CHECK(ck.text("no text").empty());

    struct Case {
        const char* name;
        const Tensor* t;
    };
    for (const Case& c : {Case{"scalar", &scalar}, Case{"vec", &vec}, Case{"encoder.w1", &mat}, Case{"t3", &t3},
                          Case{"t4", &t4}, Case{"zero dim", &empty}}) {
        CAPTURE(c.name);
        CHECK(ck.tensor_shape(c.name) == c.t->shape());
        Tensor back(c.t->shape());
        back.fill(real(99));
        ck.read_tensor(c.name, back);
        CHECK(same_bits(back, *c.t));  // bit for bit: NaN, infinities, -0 and denormals included
    }
    // A default-constructed Tensor has rank 0 and no storage: read_tensor gives it some.
    Tensor fresh;
    ck.read_tensor("scalar", fresh);
    CHECK(fresh[0] == real(-3.25));

    // The section payload of a tensor is the documented layout.
    const auto tb = ck.bytes("encoder.w1");
    REQUIRE(tb.size() == 8 + 4 * 2 + 21 * sizeof(real));
    std::uint32_t head[4];
    std::memcpy(head, tb.data(), sizeof head);
    CHECK(head[0] == sizeof(real));
    CHECK(head[1] == 2);
    CHECK(head[2] == 7);
    CHECK(head[3] == 3);
    CHECK(std::memcmp(tb.data() + 16, mat.data(), 21 * sizeof(real)) == 0);
}

TEST_CASE("the writer's bytes are the documented layout, byte by byte") {
    CheckpointWriter w;
    w.add_text("a", "xyz");
    w.add("bb", Bytes{});
    w.add_u64("step", 5);
    std::string step(8, '\0');
    const std::uint64_t five = 5;
    std::memcpy(step.data(), &five, 8);
    const Bytes expected = Raw().header(3).section("a", "xyz").section("bb", "").section("step", step).finish();
    const Bytes got = w.bytes();
    CHECK(got == expected);
    // Spot checks of the fixed offsets, independent of Raw.
    REQUIRE(got.size() == 20 + (4 + 1 + 8 + 3) + (4 + 2 + 8) + (4 + 4 + 8 + 8) + 4);
    CHECK(std::string(got.begin(), got.begin() + 8) == "NFVICKPT");
    std::uint32_t v[3];
    std::memcpy(v, got.data() + 8, sizeof v);
    CHECK(v[0] == 1);
    CHECK(v[1] == 0x01020304);
    CHECK(v[2] == 3);
    std::uint32_t crc;
    std::memcpy(&crc, got.data() + got.size() - 4, 4);
    CHECK(crc == crc32(std::span(got).first(got.size() - 4)));

    // An empty checkpoint is 24 bytes and parses.
    const Bytes none = CheckpointWriter().bytes();
    CHECK(none.size() == 24);
    CHECK(Checkpoint::parse(none, "x").names().empty());
}

TEST_CASE("writer limits: names and section count") {
    CheckpointWriter w;
    w.add_u64("a", 1);
    CHECK_THROWS_AS(w.add_u64("a", 2), std::invalid_argument);
    CHECK_THROWS_AS(w.add_tensor("a", Tensor(Shape{1})), std::invalid_argument);
    CHECK_THROWS_AS(w.add_text("", "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.add_text(std::string(65, 'n'), "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.add_text("tab\there", "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.add_text("caf\xC3\xA9", "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.add_text(std::string("nul\0", 4), "x"), std::invalid_argument);
    CHECK_THROWS_AS(w.add_tensor("default", Tensor()), std::invalid_argument);
    try {
        w.add_u64("a", 3);
    } catch (const std::invalid_argument& e) {
        CHECK(contains(e.what(), "'a'"));
        CHECK(contains(e.what(), "twice"));
    }
    CHECK(w.size() == 1);  // refused sections are not added

    const std::string longest(64, 'n');
    w.add_text(longest, "ok");
    w.add_text(" ~ spaces and !\"#$ punctuation ~ ", "ok");
    const Checkpoint ck = Checkpoint::parse(w.bytes(), "x");
    CHECK(ck.text(longest) == "ok");

    // 4096 sections are allowed, the 4097th is refused; all of them parse back.
    CheckpointWriter many;
    for (int i = 0; i < 4096; ++i) {
        std::string name = "s";
        name += std::to_string(i);  // (not "s" + to_string: GCC 12 warns falsely, -Wrestrict)
        many.add_u64(name, static_cast<std::uint64_t>(i));
    }
    CHECK_THROWS_AS(many.add_u64("one more", 0), std::invalid_argument);
    const Checkpoint back = Checkpoint::parse(many.bytes(), "many");
    CHECK(back.names().size() == 4096);
    CHECK(back.u64("s4095") == 4095);
    CHECK(back.u64("s17") == 17);
}

// ---------------------------------------------------------------- files

TEST_CASE("write and load a checkpoint; write replaces an existing one atomically") {
    TempDir dir;
    const std::string path = (dir.path / "checkpoint.nfvi").string();
    CheckpointWriter first = small_writer();
    first.write(path);
    Checkpoint ck = Checkpoint::load(path);
    CHECK(ck.source() == path);
    CHECK(ck.u64("step") == 1234);
    Tensor w(Shape{2, 3});
    ck.read_tensor("w", w);
    CHECK(w.at(1, 2) == real(6));
    CHECK(read_file(path) == first.bytes());

    CheckpointWriter second;
    second.add_u64("step", 5678);
    second.write(path);
    CHECK(Checkpoint::load(path).u64("step") == 5678);
    CHECK_FALSE(Checkpoint::load(path).has("w"));
    CHECK(dir.entries() == std::vector<std::string>{"checkpoint.nfvi"});  // no temporaries left

    // A failed write names the path, throws IoError and creates nothing.
    const std::string nowhere = (dir.path / "no_such_dir" / "checkpoint.nfvi").string();
    try {
        second.write(nowhere);
        FAIL("writing into a missing directory succeeded");
    } catch (const IoError& e) {
        CHECK(contains(e.what(), nowhere));
    }
    CHECK_FALSE(std::filesystem::exists(dir.path / "no_such_dir"));

    // A failed write over an existing checkpoint leaves it as it was. The temporary's name is
    // the target's plus ".tmp.<16 hex>", so a 250-byte name exists but its temporary is longer
    // than a file name may be (255 bytes on Linux file systems): creating it fails.
    const std::string long_path = (dir.path / std::string(250, 'c')).string();
    const Bytes old = first.bytes();
    {
        std::ofstream f(long_path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(old.data()), static_cast<std::streamsize>(old.size()));
    }
    if (std::filesystem::exists(long_path)) {
        bool threw = false;
        try {
            second.write(long_path);
        } catch (const IoError& e) {
            threw = true;
            CHECK(contains(e.what(), long_path));
        }
        if (threw) {
            CHECK(read_file(long_path) == old);
            CHECK(Checkpoint::load(long_path).u64("step") == 1234);
            CHECK(dir.entries().size() == 2);  // no temporary left behind
        } else {
            MESSAGE("this file system allows names over 255 bytes: the failed-replace case was not exercised");
        }
    }
}

TEST_CASE("load: missing file, size limit") {
    TempDir dir;
    const std::string missing = (dir.path / "none.ckpt").string();
    CHECK_THROWS_AS(Checkpoint::load(missing), IoError);
    const std::string path = (dir.path / "c.ckpt").string();
    small_writer().write(path);
    const std::size_t size = read_file(path).size();
    CHECK(Checkpoint::load(path, size).has("w"));
    const std::string e = error_of([&] { Checkpoint::load(path, size - 1); });
    CHECK(contains(e, "larger than the limit"));
    CHECK(contains(e, path));
    CHECK(contains(e, "--resume"));
}

// ---------------------------------------------------------------- damaged files

TEST_CASE("every truncation of a checkpoint is refused as truncated") {
    const Bytes full = small_writer().bytes();
    REQUIRE_NOTHROW(Checkpoint::parse(full, "ck.bin"));
    for (std::size_t len = 0; len < full.size(); ++len) {
        CAPTURE(len);
        const std::string e = parse_error(Bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len)));
        CHECK(contains(e, "corrupt checkpoint 'ck.bin'"));
        CHECK(contains(e, "truncated"));
        CHECK(contains(e, "--resume"));
    }
}

TEST_CASE("a flipped bit anywhere is refused") {
    const Bytes good = small_writer().bytes();
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            CAPTURE(i);
            CAPTURE(bit);
            Bytes b = good;
            b[i] ^= static_cast<std::uint8_t>(1u << bit);
            const std::string e = parse_error(b);
            if (i < 8) {
                CHECK(contains(e, "not an nfvi checkpoint"));
            } else {
                CHECK(contains(e, "corrupt checkpoint 'ck.bin'"));
                CHECK((contains(e, "checksum mismatch") || contains(e, "truncated")));
            }
        }
    }
}

TEST_CASE("the CRC covers the payload: a changed value is caught by the checksum alone") {
    const Bytes good = small_writer().bytes();
    const std::string settings = R"({"latent":2})";
    const auto at = static_cast<std::size_t>(
        std::search(good.begin(), good.end(), settings.begin(), settings.end()) - good.begin());
    REQUIRE(at < good.size());
    Bytes b = good;
    b[at + 10] = '3';  // {"latent":3}: still well formed
    CHECK(contains(parse_error(b), "checksum mismatch"));
    fix_crc(b);  // with a matching CRC the same bytes are accepted: only the CRC saw the change
    CHECK(Checkpoint::parse(b, "x").text("settings") == R"({"latent":3})");

    // The last value byte of the tensor, just before the CRC.
    Bytes t = good;
    t[t.size() - 5] ^= 0x01;
    CHECK(contains(parse_error(t), "checksum mismatch"));
    fix_crc(t);
    Tensor w(Shape{2, 3});
    Checkpoint::parse(t, "x").read_tensor("w", w);
    CHECK(w[5] != real(6));
}

TEST_CASE("files that are not checkpoints say what they look like") {
    auto err = [](std::string_view s) { return parse_error(Bytes(s.begin(), s.end())); };
    using namespace std::string_view_literals;
    const std::string png = err("\x89PNG\r\n\x1a\n\0\0\0\rIHDR"sv);
    CHECK(contains(png, "'ck.bin' is not an nfvi checkpoint"));
    CHECK(contains(png, "PNG image"));
    CHECK(contains(png, "--resume"));
    CHECK(contains(err("\x1f\x8b\x08\0\0\0\0\0\0\x03"sv), "gzip"));
    CHECK(contains(err("PK\x03\x04\x14\0\0\0"sv), "ZIP"));
    CHECK(contains(err("\x80\x02}q\0"sv), "pickle"));
    CHECK(contains(err("NFVIOPT\0\x01\0\0\0"sv), "optimizer state"));
    CHECK(contains(err("  {\"elbo\": -90.1}\n"), "JSON"));
    CHECK(contains(err("step,loss\n1,2.5\n"), "text"));
    CHECK(contains(err("<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"), "XML or HTML"));
    CHECK(contains(err("\0\0\x08\x03\0\0\0\x01"sv), "IDX"));
    const std::string junk = err("\x01\x02\x03\x04\x05\x06\x07\x08\x09"sv);
    CHECK(contains(junk, "not an nfvi checkpoint"));
    CHECK_FALSE(contains(junk, "looks like"));
    CHECK(contains(err("XY"), "not an nfvi checkpoint"));  // shorter than the magic, not a prefix of it
    CHECK(contains(err("NFVI"), "truncated"));             // a prefix of the magic
    CHECK(contains(err(""), "empty"));
}

TEST_CASE("header fields: newer version, other byte order, invalid values") {
    const Bytes good = small_writer().bytes();

    Bytes newer = good;
    put_u32(newer, 8, 2);
    CHECK(contains(parse_error(newer), "checksum mismatch"));  // a damaged version field
    fix_crc(newer);
    std::string e = parse_error(newer);  // a genuine file of a later format
    CHECK(contains(e, "'ck.bin' was written by a newer nfvi"));
    CHECK(contains(e, "version 2"));
    CHECK(contains(e, "reads version 1"));
    // A newer version may lay out its sections differently: only the envelope is checked.
    const Bytes v7 = Raw().header(0, 7).str("a future layout").finish();
    CHECK(contains(parse_error(v7), "newer nfvi"));

    Bytes v0 = good;
    put_u32(v0, 8, 0);
    fix_crc(v0);
    CHECK(contains(parse_error(v0), "version is 0"));

    Bytes swapped = good;
    put_u32(swapped, 12, 0x04030201);
    e = parse_error(swapped);
    CHECK(contains(e, "other byte order"));
    CHECK(contains(e, "--resume"));

    Bytes bad_tag = good;
    put_u32(bad_tag, 12, 0x01020305);
    CHECK(contains(parse_error(bad_tag), "checksum mismatch"));
    fix_crc(bad_tag);
    CHECK(contains(parse_error(bad_tag), "byte-order tag is 0x01020305"));
}

TEST_CASE("well-formed files that break the rules are refused (valid CRC)") {
    // More sections than the limit: refused from the count alone.
    std::string e = parse_error(Raw().header(4097).finish());
    CHECK(contains(e, "4097 sections"));
    CHECK(contains(e, "limit of 4096"));

    // Name lengths and bytes.
    CHECK(contains(parse_error(Raw().header(1).section(std::string(65, 'n'), "x").finish()), "65 bytes long"));
    CHECK(contains(parse_error(Raw().header(1).section("", "x").finish()), "0 bytes long"));
    CHECK(contains(parse_error(Raw().header(1).section("bad\x01name", "x").finish()), "not printable"));
    CHECK(contains(parse_error(Raw().header(1).section("caf\xC3\xA9", "x").finish()), "not printable"));
    CHECK_NOTHROW(Checkpoint::parse(Raw().header(1).section(std::string(64, 'n'), "x").finish(), "x"));

    // Duplicate names.
    e = parse_error(Raw().header(2).section("w", "1").section("w", "2").finish());
    CHECK(contains(e, "'w' appears twice"));

    // A section count that promises more than is there; a payload length beyond the file.
    CHECK(contains(parse_error(Raw().header(3).section("a", "1").finish()), "truncated"));
    Raw huge;
    huge.header(1).num(std::uint32_t{1}).str("a").num(~std::uint64_t{0}).str("tiny");
    e = parse_error(huge.finish());
    CHECK(contains(e, "truncated"));
    CHECK(contains(e, "18446744073709551615-byte payload of section 'a'"));

    // Bytes appended after a complete file, and bytes between the last section and the CRC.
    Bytes appended = Raw().header(1).section("a", "1").finish();
    appended.insert(appended.end(), {'x', 'y', 'z'});
    e = parse_error(appended);
    CHECK(contains(e, "3 unexpected bytes"));
    CHECK(contains(e, "appended"));
    e = parse_error(Raw().header(1).section("a", "1").str("pad").finish());
    CHECK(contains(e, "3 bytes follow the last section"));
}

TEST_CASE("missing sections and wrong payload sizes name the section") {
    const Checkpoint ck = Checkpoint::parse(small_writer().bytes(), "run/ck.bin");
    std::string e = error_of([&] { ck.bytes("optimizer"); });
    CHECK(contains(e, "checkpoint 'run/ck.bin' has no section 'optimizer'"));
    CHECK(contains(e, "settings, step, w"));
    CHECK(contains(e, "--resume"));
    CHECK(contains(error_of([&] { ck.u64("rng"); }), "no section 'rng'"));
    CHECK(contains(error_of([&] { ck.text("x"); }), "no section 'x'"));
    Tensor t(Shape{1});
    CHECK(contains(error_of([&] { ck.read_tensor("v", t); }), "no section 'v'"));

    e = error_of([&] { ck.u64("settings"); });
    CHECK(contains(e, "section 'settings' holds 12 bytes, not the 8 of an integer"));
    CHECK(contains(error_of([&] { ck.i64("w"); }), "not the 8 of an integer"));
    e = error_of([&] { ck.tensor_shape("settings"); });
    CHECK(contains(e, "section 'settings' is not a valid tensor"));
}

TEST_CASE("read_tensor: a shape or build mismatch says which tensor, both shapes and why") {
    CheckpointWriter w;
    w.add_tensor("encoder.w1", test::Fill(3).tensor(Shape{3, 4}, -1, 1));
    const Checkpoint ck = Checkpoint::parse(w.bytes(), "ck.bin");

    Tensor other = Tensor::full(Shape{3, 5}, real(7));
    std::string e = error_of([&] { ck.read_tensor("encoder.w1", other); });
    CHECK(contains(e, "checkpoint 'ck.bin'"));
    CHECK(contains(e, "tensor 'encoder.w1'"));
    CHECK(contains(e, "[3,4]"));
    CHECK(contains(e, "expects [3,5]"));
    CHECK(contains(e, "different architecture"));
    CHECK(other[0] == real(7));  // unchanged
    Tensor rank3(Shape{3, 4, 1});
    CHECK(contains(error_of([&] { ck.read_tensor("encoder.w1", rank3); }), "expects [3,4,1]"));

    // The same tensor from a build of the other real type: written by hand.
    const bool is_double = sizeof(real) == 8;
    const std::uint32_t other_size = is_double ? 4 : 8;
    Raw payload;
    payload.num(other_size).num(std::uint32_t{2}).num(std::uint32_t{3}).num(std::uint32_t{4});
    for (int i = 0; i < 12; ++i) {
        if (is_double) payload.num(float(i));
        else payload.num(double(i));
    }
    CheckpointWriter foreign;
    foreign.add("encoder.w1", payload.b);
    const Checkpoint fk = Checkpoint::parse(foreign.bytes(), "ck.bin");
    CHECK(fk.tensor_shape("encoder.w1") == Shape({3, 4}));  // the layout itself is valid
    Tensor mine = Tensor::full(Shape{3, 4}, real(7));
    e = error_of([&] { fk.read_tensor("encoder.w1", mine); });
    CHECK(contains(e, "tensor 'encoder.w1'"));
    CHECK(contains(e, is_double ? "holds 4-byte floats" : "holds 8-byte doubles"));
    CHECK(contains(e, is_double ? "expects 8-byte doubles" : "expects 4-byte floats"));
    CHECK(contains(e, is_double ? "float vs double" : "double vs float"));
    CHECK(contains(e, "different build"));
    CHECK(mine[0] == real(7));
    // Both differ: both are said.
    Tensor both(Shape{4, 3});
    e = error_of([&] { fk.read_tensor("encoder.w1", both); });
    CHECK(contains(e, "different architecture"));
    CHECK(contains(e, "different build"));
    CHECK(contains(e, "[3,4] of"));
}

TEST_CASE("invalid tensor payloads are refused") {
    auto tensor_error = [](const Raw& payload) {
        CheckpointWriter w;
        w.add("t", payload.b);
        const Checkpoint ck = Checkpoint::parse(w.bytes(), "ck.bin");
        Tensor t(Shape{1});
        const std::string a = error_of([&] { ck.tensor_shape("t"); });
        const std::string b = error_of([&] { ck.read_tensor("t", t); });
        CHECK(a == b);
        CHECK(contains(a, "section 't' is not a valid tensor"));
        return a;
    };
    using U = std::uint32_t;
    const U s = sizeof(real);
    CHECK(contains(tensor_error(Raw().num(s)), "too few for a tensor header"));
    CHECK(contains(tensor_error(Raw().num(U{3}).num(U{1}).num(U{1}).num(U{0})), "element size of 3"));
    CHECK(contains(tensor_error(Raw().num(s).num(U{5})), "rank 5"));
    CHECK(contains(tensor_error(Raw().num(s).num(U{2}).num(U{1})), "too few for the header of a rank-2"));
    CHECK(contains(tensor_error(Raw().num(s).num(U{1}).num(U{0x80000000u})), "more than 2^31-1"));
    // Dims whose product overflows 64 bits, and one that merely exceeds the payload.
    CHECK(contains(tensor_error(Raw().num(s).num(U{4}).num(U{0x7FFFFFFF}).num(U{0x7FFFFFFF}).num(U{0x7FFFFFFF})
                                    .num(U{0x7FFFFFFF}).num(real(1))),
                   "more values than"));
    const bool dbl = s == 8;
    CHECK(contains(tensor_error(Raw().num(s).num(U{1}).num(U{3}).num(real(1)).num(real(2))),
                   dbl ? "more values than its 28 bytes hold" : "more values than its 20 bytes hold"));
    CHECK(contains(tensor_error(Raw().num(s).num(U{2}).num(U{1}).num(U{1}).num(real(1)).num(real(2))),
                   dbl ? "(8 bytes) but holds 16 bytes of values" : "(4 bytes) but holds 8 bytes of values"));
    // A zero dim after huge ones holds nothing, and is valid.
    CheckpointWriter w;
    w.add("z", Raw().num(s).num(U{3}).num(U{0x7FFFFFFF}).num(U{0x7FFFFFFF}).num(U{0}).b);
    CHECK(Checkpoint::parse(w.bytes(), "x").tensor_shape("z") == Shape({0x7FFFFFFF, 0x7FFFFFFF, 0}));
}

TEST_CASE("random damage and random bytes only ever raise FormatError") {
    // A miniature fuzzer (the real one is tests/fuzz/fuzz_checkpoint.cpp): mutated valid
    // checkpoints, with and without a repaired CRC, and every accessor on what parses.
    const Bytes good = small_writer().bytes();
    std::mt19937_64 rng(12345);
    int parsed = 0;
    for (int iter = 0; iter < 3000; ++iter) {
        Bytes b = good;
        const int edits = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < edits; ++k) {
            const std::size_t at = rng() % b.size();
            switch (rng() % 4) {
            case 0: b[at] = static_cast<std::uint8_t>(rng()); break;
            case 1: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
            case 2: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<std::uint8_t>(rng())); break;
            default: b.resize(at); break;
            }
            if (b.size() < 8) b = good;
        }
        if (iter % 2 && b.size() >= 24) fix_crc(b);
        std::string e = error_of([&] {
            const Checkpoint ck = Checkpoint::parse(b, "fuzz");
            ++parsed;
            for (const std::string& name : ck.names()) {
                (void)ck.bytes(name);
                (void)ck.text(name);
                try {
                    (void)ck.u64(name);
                } catch (const FormatError&) {
                }
                try {
                    Tensor t(ck.tensor_shape(name));
                    ck.read_tensor(name, t);
                } catch (const FormatError&) {
                }
            }
        });
        CHECK_FALSE(contains(e, "<not a FormatError"));
    }
    CHECK(parsed > 0);  // some mutations with a repaired CRC are valid files
}
