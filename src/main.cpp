// The `nfvi` command-line program: parses the subcommand and its flags, runs it.
// Bad input gives one line on stderr and exit status 2.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include "src/demo.h"

namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

const char* kUsage =
    "usage: nfvi <command> [flags]\n"
    "\n"
    "commands:\n"
    "  demo      fit a diagonal Gaussian to a 2-D Gaussian by VI and print the loss\n"
    "            --steps N (2000) --batch B (256) --lr LR (0.01) --seed S (1) --threads T (1)\n"
    "  help      show this text\n";

long parse_int(std::string_view flag, std::string_view v, long lo, long hi) {
    long x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
        throw UsageError(std::string(flag) + " needs a whole number in [" + std::to_string(lo) +
                         ", " + std::to_string(hi) + "], got '" + std::string(v) + "'");
    return x;
}

double parse_positive(std::string_view flag, std::string_view v) {
    std::string s(v);
    char* end = nullptr;
    double x = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(x) || x <= 0)
        throw UsageError(std::string(flag) + " needs a finite number > 0, got '" + s + "'");
    return x;
}

int demo(int argc, char** argv) {
    nfvi::cli::DemoOptions o;
    for (int i = 2; i < argc; ++i) {
        std::string_view f = argv[i];
        if (i + 1 >= argc) throw UsageError("flag " + std::string(f) + " needs a value");
        std::string_view v = argv[++i];
        if (f == "--steps") o.steps = static_cast<int>(parse_int(f, v, 1, 100000000));
        else if (f == "--batch") o.batch = static_cast<int>(parse_int(f, v, 1, 10000000));
        else if (f == "--lr") o.lr = parse_positive(f, v);
        else if (f == "--seed") o.seed = static_cast<std::uint64_t>(parse_int(f, v, 0, 1L << 62));
        else if (f == "--threads") o.threads = static_cast<int>(parse_int(f, v, 1, 256));
        else throw UsageError("unknown flag '" + std::string(f) + "' for 'nfvi demo' (see nfvi help)");
    }
    return nfvi::cli::run_demo(o);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc < 2) throw UsageError("no command given (try: nfvi help)");
        std::string_view cmd = argv[1];
        if (cmd == "help" || cmd == "--help" || cmd == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (cmd == "demo") return demo(argc, argv);
        throw UsageError("unknown command '" + std::string(cmd) + "' (try: nfvi help)");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "nfvi: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nfvi: error: %s\n", e.what());
        return 2;
    }
}
