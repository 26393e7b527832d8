// End-to-end tests of the `nfvi` program: a short run writes every file it promises, and bad
// input gets one clear line on stderr and exit status 2, with nothing written.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "src/io/files.h"
#include "tests/cli_util.h"
#include "src/io/json.h"
#include "src/io/png.h"

namespace fs = std::filesystem;

namespace {

using nfvi::test::exe;
using nfvi::test::Run;
using nfvi::test::run;
using nfvi::test::scratch;
using nfvi::test::check_rejected;
using nfvi::test::check_unwritable_out;
using nfvi::test::read_json;

}  // namespace

TEST_CASE("a short `nfvi potential` run writes every output") {
    fs::path out = scratch("potential");
    Run r = run("potential --target U3 --layers 4 --steps 60 --batch 64 --kl-samples 2000 --grid 200 "
                "--density-samples 5000 --quiet --out " + out.string());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const char* f : {"true_density.png", "learned_density.png", "layers.png", "kl.png", "kl.svg",
                          "log.csv", "summary.json", "params.json"})
        CHECK_MESSAGE(fs::exists(out / f), f);
    auto bytes = nfvi::io::read_file((out / "true_density.png").string());
    nfvi::io::DecodedPng png = nfvi::io::decode_png(bytes);
    CHECK(png.width > 100);
    auto summary = read_json(out / "summary.json");
    for (const char* key : {"final_loss", "kl", "log_z", "seconds", "steps_per_second"})
        CHECK_MESSAGE(summary[key].is_number(), key);
    CHECK(summary["settings"]["target"].as_string() == "U3");
    CHECK(summary["settings"]["taper"].as_bool());  // U3 is always tapered
    auto params = read_json(out / "params.json");
    CHECK(params["layers"].size() == 4);
    CHECK(params["layers"][0]["u_hat"].size() == 2);
    CHECK(params["base"]["sigma"].size() == 2);
    std::ifstream csv(out / "log.csv");
    std::string header;
    std::getline(csv, header);
    CHECK(header.rfind("step,beta,loss", 0) == 0);
    fs::remove_all(out);
}

TEST_CASE("bad input: one line, exit status 2, nothing written") {
    fs::path out = scratch("bad");
    const char* bad[] = {
        "potential --target U9",
        "potential --flow sylvester",
        "potential --layers 0",
        "potential --lr -1",
        "potential --lr nan",
        "potential --steps 10x",
        "potential --frobnicate 3",
        "potential --batch",
        "potential --threads 0",
        "potential --kl-samples 0",
        "potential --grid 1",
        "potential --anneal -5",
        "potential --optimizer sgd",
        "reproduce --figure 4",
        "reproduce --table 3",
        "reproduce --figure 3 --table 2",
        "reproduce --table 2 --quick",
        "reproduce --table 2 --updates 0",
        "reproduce --table 2 --points 0",
        "reproduce --table 2 --data /nonexistent/mnist",
        "reproduce --figure 3 --updates 5",
        "reproduce --jobs 0",
        "frobnicate",
    };
    for (const char* args : bad) check_rejected(args, out);
    check_unwritable_out("potential --steps 1");
}
