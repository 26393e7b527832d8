// End-to-end tests of `nfvi vae train | eval | sample` on a tiny MNIST-shaped data set the
// test writes: every promised file, bit-identical --resume (at an epoch boundary and in the
// middle of one), and bad input (one line, exit status 2, nothing written).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <string>

#include "autodiff/rng.h"
#include "src/io/checkpoint.h"
#include "src/io/files.h"
#include "tests/cli_util.h"
#include "src/io/idx.h"
#include "src/io/json.h"
#include "src/io/png.h"

namespace fs = std::filesystem;
using namespace nfvi;

namespace {

using test::exe;
using test::Run;
using test::run;
using test::scratch;
using test::check_rejected;
using test::check_unwritable_out;
using test::read_json;

// 240 training and 40 test "digits" of 28×28: a blob whose position and size vary, with grey
// edges so that dynamic binarization has something to draw.
fs::path tiny_mnist() {
    fs::path dir = scratch("data");
    fs::create_directories(dir);
    Rng rng(77);
    auto make = [&](int count) {
        io::IdxImages im;
        im.count = count, im.rows = 28, im.cols = 28;
        im.pixels.resize(static_cast<std::size_t>(count) * 784);
        for (int n = 0; n < count; ++n) {
            const double cx = 8 + 12 * rng.uniform1(), cy = 8 + 12 * rng.uniform1(), r = 3 + 4 * rng.uniform1();
            for (int y = 0; y < 28; ++y)
                for (int x = 0; x < 28; ++x) {
                    const double d = std::hypot(x - cx, y - cy);
                    const double v = std::clamp((r - d) / 2 + 0.5, 0.0, 1.0);
                    im.pixels[static_cast<std::size_t>(n * 784 + y * 28 + x)] = static_cast<std::uint8_t>(std::lround(255 * v));
                }
        }
        return im;
    };
    auto labels = [](int count) {
        io::IdxLabels l;
        l.count = count;
        l.labels.assign(static_cast<std::size_t>(count), 3);
        return l;
    };
    io::write_file_atomic((dir / "train-images-idx3-ubyte").string(), io::encode_idx_images(make(240)));
    io::write_file_atomic((dir / "train-labels-idx1-ubyte").string(), io::encode_idx_labels(labels(240)));
    io::write_file_atomic((dir / "t10k-images-idx3-ubyte").string(), io::encode_idx_images(make(40)));
    io::write_file_atomic((dir / "t10k-labels-idx1-ubyte").string(), io::encode_idx_labels(labels(40)));
    return dir;
}


// A small model, 200 training + 40 validation images, batch 20: 10 updates per epoch.
std::string small(const fs::path& data) {
    return "--data " + data.string() + " --latent 3 --hidden 16 --layers 2 --batch 20 --validation 40 --quiet --seed 5";
}

// Every parameter, the optimizer state and the step of two checkpoints are the same bytes.
void check_same_state(const fs::path& a, const fs::path& b) {
    io::Checkpoint ca = io::Checkpoint::load(a.string()), cb = io::Checkpoint::load(b.string());
    CHECK(ca.i64("step") == cb.i64("step"));
    int params = 0;
    for (const std::string& name : ca.names()) {
        if (name.rfind("param/", 0) != 0 && name != "optimizer" && name.rfind("rng.", 0) != 0) continue;
        CAPTURE(name);
        auto x = ca.bytes(name), y = cb.bytes(name);
        CHECK(std::equal(x.begin(), x.end(), y.begin(), y.end()));
        params += name.rfind("param/", 0) == 0;
    }
    CHECK(params >= 8);
}

}  // namespace

TEST_CASE("nfvi vae train, eval and sample write what they promise") {
    fs::path data = tiny_mnist(), out = scratch("train");
    Run r = run("vae train " + small(data) + " --epochs 2 --binarize dynamic --out " + out.string());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    for (const char* f : {"log.csv", "elbo.svg", "elbo.png", "samples.png", "reconstructions.png", "checkpoint.nfvi", "summary.json"})
        CHECK_MESSAGE(fs::exists(out / f), f);
    io::Json s = read_json(out / "summary.json");
    for (const char* key : {"elbo", "kl", "seconds", "samples_per_second"}) CHECK_MESSAGE(std::isfinite(s[key].as_number()), key);
    CHECK(s["steps"].as_number() == 20);
    CHECK(s["elbo"].as_number() < 0);
    std::ifstream csv(out / "log.csv");
    std::string line;
    int rows = 0;
    std::getline(csv, line);
    CHECK(line.rfind("epoch,step,beta,train_elbo,validation_elbo", 0) == 0);
    while (std::getline(csv, line)) ++rows;
    CHECK(rows == 2);
    io::DecodedPng png = io::decode_png(io::read_file((out / "samples.png").string()));
    CHECK(png.width == 2 + 10 * (56 + 2));

    Run e = run("vae eval --checkpoint " + (out / "checkpoint.nfvi").string() + " --importance-samples 50 --points 10 --out " +
                (out / "eval").string());
    REQUIRE_MESSAGE(e.status == 0, e.err);
    io::Json es = read_json(out / "eval" / "summary.json");
    CHECK(es["nll_points"].as_number() == 10);
    CHECK(es["importance_samples"].as_number() == 50);
    CHECK(es["elbo_points"].as_number() == 40);
    CHECK(std::isfinite(es["nll"].as_number()));
    CHECK(es["kl"].as_number() > -1);  // −ELBO − (−log p(x)) ≥ 0 up to Monte-Carlo noise

    Run smp = run("vae sample --checkpoint " + (out / "checkpoint.nfvi").string() + " --count 12 --columns 4 --out " +
                  (out / "s" / "grid.png").string());
    REQUIRE_MESSAGE(smp.status == 0, smp.err);
    io::DecodedPng g = io::decode_png(io::read_file((out / "s" / "grid.png").string()));
    CHECK(g.width == 2 + 4 * 58);
    CHECK(g.height == 2 + 3 * 58);
    fs::remove_all(out);
    fs::remove_all(data);
}

TEST_CASE("--resume continues bit for bit: from an epoch boundary and from the middle of an epoch") {
    fs::path data = tiny_mnist();
    fs::path whole = scratch("whole"), parts = scratch("parts"), mid = scratch("mid");
    REQUIRE(run("vae train " + small(data) + " --epochs 3 --checkpoint-every 4 --binarize dynamic --out " + whole.string()).status == 0);
    // Stopped after epoch 1, then continued to 3.
    REQUIRE(run("vae train " + small(data) + " --epochs 1 --checkpoint-every 4 --binarize dynamic --out " + parts.string()).status == 0);
    Run r = run("vae train " + small(data) + " --epochs 3 --checkpoint-every 4 --binarize dynamic --resume --out " + parts.string());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    CHECK(r.err.find("resuming") != std::string::npos);
    check_same_state(whole / "checkpoint.nfvi", parts / "checkpoint.nfvi");
    // Stopped after update 13 (inside epoch 2), then continued.
    REQUIRE(run("vae train " + small(data) + " --updates 13 --checkpoint-every 4 --binarize dynamic --out " + mid.string()).status == 0);
    REQUIRE(run("vae train " + small(data) + " --epochs 3 --checkpoint-every 4 --binarize dynamic --resume --out " + mid.string()).status == 0);
    check_same_state(whole / "checkpoint.nfvi", mid / "checkpoint.nfvi");
    // The logs agree too, but for the time column.
    auto rows = [](const fs::path& p) {
        std::ifstream in(p / "log.csv");
        std::vector<std::string> out;
        for (std::string line; std::getline(in, line);) out.push_back(line.substr(0, line.rfind(',')));
        return out;
    };
    CHECK(rows(whole) == rows(parts));
    for (const fs::path& p : {whole, parts, mid}) fs::remove_all(p);
    fs::remove_all(data);
}

TEST_CASE("vae: bad input gets one line and exit status 2") {
    fs::path data = tiny_mnist(), out = scratch("bad"), good = scratch("good");
    const std::string d = " --data " + data.string() + " --validation 40";
    // Each invocation and a word its message must contain (so it fails for its own reason).
    const std::pair<std::string, std::string> bad[] = {
        {"vae", "subcommand"},
        {"vae frobnicate", "frobnicate"},
        {"vae train --data /nonexistent/mnist", "fetch-mnist.sh"},
        {"vae train" + d + " --samples 0", "--samples"},
        {"vae train" + d + " --batch 0", "--batch"},
        {"vae train" + d + " --batch 100000", "--batch"},
        {"vae train" + d + " --layers -1", "--layers"},
        {"vae train" + d + " --hidden 12,x", "--hidden"},
        {"vae train" + d + " --flow sylvester", "--flow"},
        {"vae train" + d + " --lr 0", "--lr"},
        {"vae train" + d + " --preset huge", "--preset"},
        {"vae train --data " + data.string() + " --validation 240", "--validation"},
        {"vae train" + d + " --on-nan ignore", "--on-nan"},
        {"vae train" + d + " --binarize otsu", "--binarize"},
        {"vae train" + d + " --output-bias mean", "--output-bias"},
        {"vae train" + d + " --epochs 0", "--epochs"},
        {"vae train" + d + " --momentum 1", "--momentum"},
        {"vae train" + d + " --checkpoint-every 0", "--checkpoint-every"},
        {"vae train" + d + " --frobnicate 1", "--frobnicate"},
        {"vae eval --checkpoint /nonexistent.nfvi", "/nonexistent.nfvi"},
        {"vae eval --importance-samples 0 --checkpoint x", "--importance-samples"},
        {"vae eval", "--checkpoint"},
        {"vae sample --count 0 --checkpoint x", "--count"},
        {"vae sample --checkpoint /nonexistent.nfvi", "/nonexistent.nfvi"},
    };
    for (const auto& [args, word] : bad) check_rejected(args, out, word);
    check_unwritable_out("vae train " + small(data) + " --epochs 1");
    // A wrong file where the data should be.
    fs::path wrong = scratch("wrong");
    fs::create_directories(wrong);
    fs::copy(data, wrong, fs::copy_options::recursive);
    io::write_file_atomic((wrong / "train-images-idx3-ubyte").string(), std::string_view("<html>not found</html>"));
    Run w = run("vae train --data " + wrong.string() + " --out " + out.string());
    CHECK(w.status == 2);
    CHECK(w.err.find("train-images") != std::string::npos);

    // A corrupt checkpoint, and a checkpoint of another architecture for --resume.
    REQUIRE(run("vae train " + small(data) + " --epochs 1 --out " + good.string()).status == 0);
    const fs::path ck = good / "checkpoint.nfvi";
    auto bytes = io::read_file(ck.string());
    bytes[bytes.size() / 2] ^= 0x40;
    const fs::path broken = good / "broken.nfvi";
    io::write_file_atomic(broken.string(), bytes);
    Run c = run("vae eval --checkpoint " + broken.string() + " --out " + out.string());
    CHECK(c.status == 2);
    CHECK(c.err.find("checksum") != std::string::npos);
    CHECK(std::count(c.err.begin(), c.err.end(), '\n') == 1);
    std::string other = small(data);
    other.replace(other.find("--latent 3"), 10, "--latent 4");
    Run inc = run("vae train " + other + " --epochs 2 --resume --out " + good.string());
    CHECK(inc.status == 2);
    CHECK(inc.err.find("different model") != std::string::npos);
    CHECK(std::count(inc.err.begin(), inc.err.end(), '\n') == 1);
    for (const fs::path& p : {data, wrong, good}) fs::remove_all(p);
}

TEST_CASE("a diverging run stops naming the update and keeps the last good checkpoint") {
    fs::path data = tiny_mnist(), out = scratch("nan");
    REQUIRE(run("vae train " + small(data) + " --epochs 1 --out " + out.string()).status == 0);
    const auto before = io::read_file((out / "checkpoint.nfvi").string());
    // Continue with an absurd learning rate: the first update blows the parameters up.
    std::string args = small(data);
    Run r = run("vae train " + args + " --epochs 3 --lr 1e4 --resume --out " + out.string());
    CHECK(r.status == 2);
    CHECK(r.err.find("at update 12") != std::string::npos);
    CHECK(r.err.find("last good checkpoint (update 10)") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);  // the resume notice, then the error
    CHECK(io::read_file((out / "checkpoint.nfvi").string()) == before);
    // --on-nan skip gives up after 10 bad updates in a row, with the same promise.
    Run s = run("vae train " + args + " --epochs 3 --lr 1e4 --resume --on-nan skip --checkpoint-every 100 --out " + out.string());
    CHECK(s.status == 2);
    CHECK(s.err.find("10 updates in a row") != std::string::npos);
    CHECK(io::read_file((out / "checkpoint.nfvi").string()) == before);
    fs::remove_all(out);
    fs::remove_all(data);
}

TEST_CASE("killed with SIGKILL at random moments, --resume still ends bit-identical") {
    fs::path data = tiny_mnist(), whole = scratch("kwhole"), killed = scratch("killed");
    const std::string args = "vae train " + small(data) + " --epochs 6 --checkpoint-every 1 --binarize dynamic";
    REQUIRE(run(args + " --out " + whole.string()).status == 0);
    Rng rng(3);
    int kills = 0;
    for (int attempt = 0; attempt < 6; ++attempt) {
        const int ms = 40 + static_cast<int>(rng.below(400));
        const std::string cmd = "timeout -s KILL " + std::to_string(ms / 1000.0) + " " + exe() + " " + args +
                                " --resume --out " + killed.string() + " >/dev/null 2>&1";
        const int raw = std::system(cmd.c_str());
        kills += WIFEXITED(raw) && WEXITSTATUS(raw) == 128 + 9;  // timeout reports a KILL as 137
    }
    CHECK(kills >= 1);  // at least one run really was killed midway
    Run r = run(args + " --resume --out " + killed.string());
    REQUIRE_MESSAGE(r.status == 0, r.err);
    check_same_state(whole / "checkpoint.nfvi", killed / "checkpoint.nfvi");
    fs::remove_all(whole);
    fs::remove_all(killed);
    fs::remove_all(data);
}

TEST_CASE("SIGINT: the run finishes its update, writes a checkpoint and says so") {
    fs::path data = tiny_mnist(), out = scratch("sigint");
    const std::string args = "vae train " + small(data) + " --epochs 200 --checkpoint-every 100000";
    const fs::path errf = out.string() + ".err";
    const std::string cmd = "timeout --preserve-status -s INT 1.5 " + exe() + " " + args + " --out " + out.string() + " >/dev/null 2>" + errf.string();
    const int raw = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(raw));
    CHECK(WEXITSTATUS(raw) == 128 + 2);
    std::ifstream in(errf);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str().find("stopped by signal 2") != std::string::npos);
    io::Checkpoint c = io::Checkpoint::load((out / "checkpoint.nfvi").string());
    CHECK(c.i64("step") > 0);
    CHECK(c.i64("step") < 2000);
    fs::remove(errf);
    fs::remove_all(out);
    fs::remove_all(data);
}

TEST_CASE("a full disk: clear error, exit status 2, the previous checkpoint intact") {
    fs::path data = tiny_mnist(), out = scratch("full");
    REQUIRE(run("vae train " + small(data) + " --epochs 1 --out " + out.string()).status == 0);
    const auto before = io::read_file((out / "checkpoint.nfvi").string());
    REQUIRE(before.size() > 40 * 1024);
    // Files may grow to 40 KiB only (RLIMIT_FSIZE; SIGXFSZ ignored, so writes fail with EFBIG):
    // the next checkpoint cannot be written.
    const fs::path errf = out.string() + ".err";
    const std::string cmd = "sh -c 'ulimit -f 40; trap \"\" XFSZ; exec " + exe() + " vae train " + small(data) +
                            " --epochs 2 --resume --out " + out.string() + "' >/dev/null 2>" + errf.string();
    const int raw = std::system(cmd.c_str());
    REQUIRE(WIFEXITED(raw));
    CHECK(WEXITSTATUS(raw) == 2);
    std::ifstream in(errf);
    std::stringstream ss;
    ss << in.rdbuf();
    CHECK(ss.str().find("checkpoint.nfvi") != std::string::npos);
    CHECK(io::read_file((out / "checkpoint.nfvi").string()) == before);
    int leftovers = 0;
    for (const auto& e : fs::directory_iterator(out)) leftovers += e.path().string().find(".tmp") != std::string::npos;
    CHECK(leftovers == 0);  // no half-written temporary left behind
    fs::remove(errf);
    fs::remove_all(out);
    fs::remove_all(data);
}
