// End-to-end tests of `nfvi conditional`: a short run writes every file it promises (26
// frames, a looping GIF of them, the charts, log.csv, summary.json with a KL per angle), and
// bad input gets one clear line on stderr and exit status 2, with nothing written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "src/io/files.h"
#include "src/io/json.h"
#include "src/io/png.h"
#include "tests/cli_util.h"

namespace fs = std::filesystem;

namespace {

using nfvi::test::check_rejected;
using nfvi::test::check_unwritable_out;
using nfvi::test::read_json;
using nfvi::test::Run;
using nfvi::test::run;
using nfvi::test::scratch;

// The block structure of a GIF file, walked from the GIF89a specification: the logical
// screen, whether a NETSCAPE2.0 loop extension is there (and its count), how many images
// there are, and whether the file ends with the trailer right after the last block.
struct GifLayout {
    int width = 0, height = 0;
    int loops = -1;
    int images = 0;
    bool trailer = false;
};

GifLayout walk_gif(const std::vector<std::uint8_t>& b) {
    GifLayout g;
    REQUIRE(b.size() > 13);
    REQUIRE(std::string(b.begin(), b.begin() + 6) == "GIF89a");
    g.width = b[6] | b[7] << 8;
    g.height = b[8] | b[9] << 8;
    std::size_t i = 13;
    if (b[10] & 0x80) i += 3u << ((b[10] & 7) + 1);  // the global colour table
    auto skip_sub_blocks = [&] {
        while (i < b.size() && b[i] != 0) i += b[i] + 1u;
        ++i;  // the block terminator
    };
    while (i < b.size()) {
        const std::uint8_t kind = b[i++];
        if (kind == 0x3B) {
            g.trailer = i == b.size();
            break;
        }
        if (kind == 0x21) {
            const std::uint8_t label = b[i++];
            if (label == 0xFF && i + 15 < b.size() && b[i] == 11 &&
                std::string(b.begin() + static_cast<long>(i) + 1, b.begin() + static_cast<long>(i) + 12) == "NETSCAPE2.0")
                g.loops = b[i + 14] | b[i + 15] << 8;
            skip_sub_blocks();
        } else if (kind == 0x2C) {
            REQUIRE(i + 9 <= b.size());
            const std::uint8_t flags = b[i + 8];
            i += 9;
            if (flags & 0x80) i += 3u << ((flags & 7) + 1);  // a local colour table
            ++i;  // LZW minimum code size
            skip_sub_blocks();
            ++g.images;
        } else {
            FAIL("unexpected GIF block 0x" << std::hex << int(kind) << " at byte " << std::dec << i - 1);
        }
    }
    return g;
}

}  // namespace

TEST_CASE("a short `nfvi conditional` run writes every output") {
    fs::path out = scratch("run");
    Run r = run("conditional --layers 3 --hidden 16,16 --angles-per-step 4 --schedule 30:1e-3:20,10:1e-4:40 "
                "--anneal 20 --kl-samples 2000 --grid 200 --density-samples 4000 --bins 40 --eval-every 15 "
                "--eval-samples 500 "
                "--quiet --out " + out.string());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const char* f : {"conditional.gif", "kl.png", "kl.svg", "kl_by_angle.png", "kl_by_angle.svg", "log.csv",
                          "summary.json"})
        CHECK_MESSAGE(fs::exists(out / f), f);
    for (int i = 0; i < 26; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "%02d.png", i);
        CHECK_MESSAGE(fs::exists(out / "frames" / name), name);
    }
    CHECK_FALSE(fs::exists(out / "frames" / "26.png"));
    nfvi::io::DecodedPng frame = nfvi::io::decode_png(nfvi::io::read_file((out / "frames" / "07.png").string()));
    CHECK(frame.width > 600);

    GifLayout gif = walk_gif(nfvi::io::read_file((out / "conditional.gif").string()));
    CHECK(gif.width == frame.width);
    CHECK(gif.height == frame.height);
    CHECK(gif.loops == 0);  // forever
    CHECK(gif.images == 26);
    CHECK(gif.trailer);

    nfvi::io::Json s = read_json(out / "summary.json");
    CHECK(s["command"].as_string() == "conditional");
    for (const char* key : {"final_loss", "log_z", "kl_mean", "kl_max", "kl_max_angle", "seconds", "steps_per_second"})
        CHECK_MESSAGE(s[key].is_number(), key);
    REQUIRE(s["kl_per_angle"].size() == 26);
    REQUIRE(s["angles"].size() == 26);
    CHECK(s["angles"][0].as_number() == doctest::Approx(-3.14159265));
    CHECK(s["angles"][25].as_number() == doctest::Approx(3.14159265));
    double mean = 0, worst = -1e300;
    for (std::size_t i = 0; i < 26; ++i) {
        mean += s["kl_per_angle"][i].as_number() / 26;
        worst = std::max(worst, s["kl_per_angle"][i].as_number());
    }
    CHECK(s["kl_mean"].as_number() == doctest::Approx(mean));
    CHECK(s["kl_max"].as_number() == doctest::Approx(worst));
    // log Z of the ring with two modes, from the quadrature (by 2-D midpoint rule in double).
    CHECK(s["log_z"].as_number() == doctest::Approx(1.8775).epsilon(2e-3));
    CHECK(s["steps"].as_number() == 40);
    CHECK(s["settings"]["schedule"].size() == 2);
    CHECK(s["settings"]["schedule"][1]["samples"].as_number() == 40);
    CHECK(s["settings"]["angles_per_step"].as_number() == 4);
    CHECK(s["settings"]["anneal"].as_number() == 20);
    CHECK(s["settings"]["input"].as_string() == "cos-sin");  // the default

    std::ifstream csv(out / "log.csv");
    std::string header, line;
    std::getline(csv, header);
    CHECK(header == "step,phase,lr,samples,beta,loss,loss_plus_log_z,grad_norm,kl_mean,kl_max");
    int rows = 0, measured = 0;
    while (std::getline(csv, line)) {
        ++rows;
        const bool has_kl = line.back() != ',';
        measured += has_kl;
        const int step = std::stoi(line);
        CHECK_MESSAGE(has_kl == (step == 15 || step == 30 || step == 40), line);  // every 15 steps and at the end
        // β = min(1, 0.01 + (step − 1)/20) with --anneal 20, in column 5.
        std::stringstream fields(line);
        std::string cell;
        for (int c = 0; c < 5; ++c) std::getline(fields, cell, ',');
        CHECK_MESSAGE(std::stod(cell) == doctest::Approx(std::min(1.0, 0.01 + (step - 1) / 20.0)), line);
    }
    CHECK(rows == 40);  // 40 steps: every step is logged
    CHECK(measured == 3);
    fs::remove_all(out);
}

TEST_CASE("`nfvi conditional` bad input: one line, exit status 2, nothing written") {
    fs::path out = scratch("bad");
    const char* bad[] = {
        "conditional --angles-per-step 0",
        "conditional --samples 0",
        "conditional --steps 0",
        "conditional --lr 0",
        "conditional --lr nan",
        "conditional --layers 0",
        "conditional --hidden 512,,512",
        "conditional --hidden wide",
        "conditional --input polar",
        "conditional --schedule fast",
        "conditional --schedule 100:1e-4",
        "conditional --schedule 100:1e-4:0",
        "conditional --schedule 100:-1e-4:100",
        "conditional --schedule 100:1e-4:100,",
        "conditional --schedule 100:1e-4:100 --steps 5",
        "conditional --eval-angles 0",
        "conditional --anneal -5",
        "conditional --clip -1",
        "conditional --threads 0",
        "conditional --frobnicate 1",
        "conditional --seed",
    };
    for (const char* args : bad) check_rejected(args, out);
    check_unwritable_out("conditional --schedule 1:1e-4:1");
}
