// libFuzzer entry point for the command-line parser (src/args.h). The input is split at its
// zero bytes into the arguments after `nfvi <command>` (so "--lr\0" "2e-3\0" "--quiet" is three
// arguments), given to Args with the flags of two real commands (`potential` and
// `vae train`), and every typed getter is called on every flag. The only exception allowed is
// nfvi::cli::UsageError; a crash, a sanitizer report or a broken property below is a bug:
//   - Args accepts the arguments exactly when a model written here from the rules in args.h
//     does (known flags only, each valued flag once and followed by a value), and then has()
//     and str() agree with the model;
//   - integer() returns a value in [lo, hi] written as an optional '-' and digits, or the
//     fallback when the flag is absent; number() a finite value in [lo, hi]; positive() a
//     finite value > 0; choice() one of the allowed values.
//
// Build and run with scripts/fuzz.sh SECONDS args (seeds in corpus/args/).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/args.h"

namespace {

using nfvi::cli::Args;
using nfvi::cli::UsageError;

struct Command {
    const char* name;
    std::set<std::string> valued, switches;
    std::vector<std::string> integers, numbers, positives;
    std::map<std::string, std::vector<std::string>> choices;
};

const std::vector<Command>& commands() {
    static const std::vector<Command> list = {
        {"potential",
         {"--target", "--flow", "--layers", "--steps", "--batch", "--lr", "--optimizer", "--anneal", "--seed",
          "--threads", "--out", "--kl-samples", "--grid", "--density-samples"},
         {"--taper", "--no-pictures", "--quiet"},
         {"--layers", "--steps", "--batch", "--anneal", "--seed", "--threads", "--kl-samples", "--grid",
          "--density-samples"},
         {},
         {"--lr"},
         {{"--target", {"U1", "U2", "U3", "U4", "U8"}},
          {"--flow", {"planar", "radial", "nice-perm", "nice-orth"}},
          {"--optimizer", {"adam", "rmsprop"}}}},
        {"vae train",
         {"--data", "--preset", "--flow", "--layers", "--latent", "--hidden", "--activation", "--maxout-pieces",
          "--binarize", "--validation", "--train-limit", "--batch", "--epochs", "--updates", "--samples",
          "--optimizer", "--lr", "--momentum", "--anneal", "--seed", "--threads", "--checkpoint-every", "--out"},
         {"--resume", "--no-pictures", "--quiet"},
         {"--layers", "--latent", "--maxout-pieces", "--validation", "--train-limit", "--batch", "--epochs",
          "--updates", "--samples", "--anneal", "--seed", "--threads", "--checkpoint-every"},
         {"--momentum"},
         {"--lr"},
         {{"--preset", {"reference", "paper"}},
          {"--flow", {"planar", "radial", "nice-perm", "nice-orth"}},
          {"--activation", {"elu", "relu", "tanh", "maxout"}},
          {"--binarize", {"threshold", "dynamic"}},
          {"--optimizer", {"adam", "rmsprop"}}}},
    };
    return list;
}

// The rules of args.h, written again independently; ok says whether Args must accept.
struct Model {
    bool ok = true;
    std::map<std::string, std::string> values;
    std::set<std::string> switches;
};

Model model(const Command& c, const std::vector<std::string>& args) {
    Model m;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (c.switches.count(args[i])) {
            m.switches.insert(args[i]);
        } else if (c.valued.count(args[i]) && i + 1 < args.size() && !m.values.count(args[i])) {
            m.values[args[i]] = args[i + 1];
            ++i;
        } else {
            m.ok = false;
            return m;
        }
    }
    return m;
}

bool is_decimal_integer(const std::string& s) {
    std::size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
    if (i == s.size()) return false;
    for (; i < s.size(); ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

template <class F>
void usage_error_allowed(F&& f) {
    try {
        f();
    } catch (const UsageError&) {
    }
}

void check(const Command& c, const std::vector<std::string>& args) {
    std::vector<std::string> storage = {"nfvi", c.name};  // what main() sees
    storage.insert(storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : storage) argv.push_back(s.data());
    argv.push_back(nullptr);
    const int first = 2, argc = static_cast<int>(storage.size());

    const Model m = model(c, args);
    bool accepted = true;
    try {
        const Args a(c.name, argc, argv.data(), first, c.valued, c.switches);
        for (const std::string& f : c.valued) {
            const auto it = m.values.find(f);
            if (a.has(f) != (it != m.values.end())) __builtin_trap();
            if (a.str(f, "fallback") != (it != m.values.end() ? it->second : "fallback")) __builtin_trap();
        }
        for (const std::string& f : c.switches)
            if (a.has(f) != (m.switches.count(f) == 1)) __builtin_trap();
        for (const std::string& f : c.integers) {
            usage_error_allowed([&] {
                const std::int64_t lo = -1000, hi = 1'000'000'000;
                const std::int64_t x = a.integer(f, 7, lo, hi);
                if (!a.has(f)) {
                    if (x != 7) __builtin_trap();
                } else if (x < lo || x > hi || !is_decimal_integer(a.str(f, ""))) {
                    __builtin_trap();
                }
            });
            usage_error_allowed([&] { (void)a.integer(f, 0, INT64_MIN, INT64_MAX); });
        }
        for (const std::string& f : c.numbers)
            usage_error_allowed([&] {
                const double x = a.number(f, 0.5, 0, 0.999999);
                if (!std::isfinite(x) || x < 0 || x > 0.999999) __builtin_trap();
            });
        for (const std::string& f : c.positives)
            usage_error_allowed([&] {
                const double x = a.positive(f, 2e-3);
                if (!std::isfinite(x) || !(x > 0)) __builtin_trap();
            });
        for (const auto& choice : c.choices)
            usage_error_allowed([&] {
                const std::vector<std::string>& allowed = choice.second;
                const std::string v = a.choice(choice.first, allowed.front(), allowed);
                bool found = false;
                for (const std::string& s : allowed) found = found || s == v;
                if (!found) __builtin_trap();
            });
    } catch (const UsageError&) {
        accepted = false;
    }
    if (accepted != m.ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Arguments are the pieces between zero bytes (argv strings cannot hold a zero byte).
    std::vector<std::string> args;
    std::string cur;
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) {
            args.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(static_cast<char>(data[i]));
        }
    }
    if (size > 0) args.push_back(cur);
    for (const Command& c : commands()) check(c, args);
    return 0;
}
