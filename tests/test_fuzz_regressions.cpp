// Regression tests for the parsers of outside bytes, kept from fuzzing (harnesses in
// tests/fuzz/, run by scripts/fuzz.sh), and a smoke check of the fuzzers' seed corpora: every
// seed in tests/fuzz/corpus/<harness>/ goes through the parser its harness fuzzes, and must
// parse — or, when its name starts with "bad_", be refused with FormatError (UsageError for
// command lines). Any other exception, or a crash under the sanitizers, fails the suite.
//
// NFVI_SOURCE_DIR (a string literal: the repository's root) locates the corpora; Meson
// defines it, a standalone build passes -DNFVI_SOURCE_DIR=\"/work/main\".
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/args.h"
#include "src/io/checkpoint.h"
#include "src/io/files.h"
#include "src/io/idx.h"
#include "src/io/inflate.h"
#include "src/io/json.h"
#include "src/io/png.h"

#ifndef NFVI_SOURCE_DIR
#error "define NFVI_SOURCE_DIR as the repository's root in quotes, e.g. -DNFVI_SOURCE_DIR=\"/work/main\""
#endif

namespace {

namespace fs = std::filesystem;
using namespace nfvi::io;
using Bytes = std::vector<std::uint8_t>;

const fs::path kCorpora = fs::path(NFVI_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

// The harnesses of scripts/fuzz.sh; each has a corpus directory of its own name.
const std::set<std::string> kHarnesses = {"inflate", "idx", "png", "json", "args", "checkpoint"};

bool ends_with(const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The command line in `bytes` (arguments separated by zero bytes), checked with the flags of
// `nfvi potential` and `nfvi vae train` together, and read with their getters' ranges.
void parse_args(const Bytes& bytes) {
    std::vector<std::string> words = {"nfvi", "cmd"};
    std::string cur;
    for (std::uint8_t b : bytes) {
        if (b == 0) {
            words.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(b));
        }
    }
    if (!bytes.empty()) words.push_back(cur);
    std::vector<char*> argv;
    for (std::string& w : words) argv.push_back(w.data());
    const nfvi::cli::Args a("cmd", static_cast<int>(words.size()), argv.data(), 2,
                            {"--target", "--flow", "--layers", "--steps", "--batch", "--lr", "--optimizer",
                             "--anneal", "--seed", "--out", "--preset", "--hidden", "--momentum", "--activation",
                             "--maxout-pieces"},
                            {"--taper", "--no-pictures", "--quiet", "--resume"});
    (void)a.choice("--target", "U1", {"U1", "U2", "U3", "U4", "U8"});
    (void)a.choice("--flow", "planar", {"planar", "radial", "nice-perm", "nice-orth"});
    (void)a.integer("--layers", 2, 0, 10000);
    (void)a.integer("--steps", 1, 1, 1'000'000'000);
    (void)a.integer("--batch", 1, 1, 10'000'000);
    (void)a.positive("--lr", 1e-3);
    (void)a.choice("--optimizer", "adam", {"adam", "rmsprop"});
    (void)a.integer("--anneal", 0, 0, 1'000'000'000);
    (void)a.integer("--seed", 1, 0, INT64_MAX);
    (void)a.choice("--preset", "reference", {"reference", "paper"});
    (void)a.number("--momentum", 0.9, 0, 0.999999);
    (void)a.choice("--activation", "elu", {"elu", "relu", "tanh", "maxout"});
    (void)a.integer("--maxout-pieces", 2, 2, 64);
}

// Feeds one seed to the parser its harness fuzzes. True if it parsed, false if it was refused
// with the parser's own error; anything else propagates and fails the test.
bool parses(const std::string& harness, const fs::path& file) {
    const std::string path = file.string(), name = file.filename().string();
    const Bytes bytes = read_file(path);
    try {
        if (harness == "inflate") {
            if (ends_with(name, ".deflate")) (void)inflate_raw(bytes, std::size_t{1} << 20);
            else if (ends_with(name, ".zlib")) (void)zlib_decompress(bytes, std::size_t{1} << 20);
            else if (ends_with(name, ".gz")) (void)gzip_decompress(bytes, std::size_t{1} << 20);
            else FAIL("inflate seed " << path << " should end in .deflate, .zlib or .gz");
        } else if (harness == "idx") {
            if (ends_with(name, ".idx3") || ends_with(name, ".idx3.gz")) (void)read_idx_images(path);
            else if (ends_with(name, ".idx1") || ends_with(name, ".idx1.gz")) (void)read_idx_labels(path);
            else FAIL("idx seed " << path << " should end in .idx3, .idx1, .idx3.gz or .idx1.gz");
        } else if (harness == "png") {
            (void)decode_png(bytes);
        } else if (harness == "json") {
            (void)Json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        } else if (harness == "args") {
            parse_args(bytes);
        } else if (harness == "checkpoint") {
            (void)Checkpoint::parse(bytes, path);
        }
    } catch (const FormatError&) {
        return false;
    } catch (const nfvi::cli::UsageError&) {
        return false;
    }
    return true;
}

}  // namespace

TEST_CASE("fuzz seeds: every harness has a small seed corpus, and every corpus a harness") {
    REQUIRE_MESSAGE(fs::is_directory(kCorpora), "no seed corpora at " << kCorpora.string()
                                                << " (is NFVI_SOURCE_DIR the repository's root?)");
    std::set<std::string> found;
    for (const fs::directory_entry& dir : fs::directory_iterator(kCorpora)) {
        const std::string harness = dir.path().filename().string();
        CHECK_MESSAGE(kHarnesses.count(harness) == 1,
                      "corpus " << harness << " has no harness here: add it to kHarnesses and parses()");
        found.insert(harness);
        int seeds = 0, good = 0;
        for (const fs::directory_entry& f : fs::directory_iterator(dir.path())) {
            ++seeds;
            good += f.path().filename().string().rfind("bad_", 0) != 0;
            // libFuzzer's default -max_len is 4096 unless a seed is longer; keep them short.
            CHECK_MESSAGE(f.file_size() < 4096, f.path().string() << " is too large for a seed");
        }
        CHECK_MESSAGE(good >= 3, harness << " has only " << good << " valid seeds");
        CHECK(seeds >= good);
    }
    CHECK(found == kHarnesses);
}

TEST_CASE("fuzz seeds: each parses, or is refused with the parser's own error when named bad_*") {
    int checked = 0;
    for (const fs::directory_entry& dir : fs::directory_iterator(kCorpora)) {
        const std::string harness = dir.path().filename().string();
        if (!kHarnesses.count(harness)) continue;
        for (const fs::directory_entry& f : fs::directory_iterator(dir.path())) {
            const bool bad = f.path().filename().string().rfind("bad_", 0) == 0;
            CAPTURE(f.path().string());
            CHECK(parses(harness, f.path()) == !bad);
            ++checked;
        }
    }
    CHECK(checked >= 6 * 3);
}
