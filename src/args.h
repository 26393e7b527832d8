// Command-line flags: `--name value` pairs and bare `--switch`es, checked against the flags
// a command knows, with typed, range-checked getters. Every problem is a UsageError, which
// main() prints as one line and turns into exit status 2.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace nfvi::cli {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class Args {
public:
    // `valued`: flags that take a value; `switches`: flags that stand alone.
    Args(std::string command, int argc, char** argv, int first,
         std::set<std::string> valued, std::set<std::string> switches = {});

    bool has(const std::string& flag) const;
    std::string str(const std::string& flag, const std::string& fallback) const;
    std::int64_t integer(const std::string& flag, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const;
    // A finite number in [lo, hi] (use lo > 0 via `positive`).
    double number(const std::string& flag, double fallback, double lo, double hi) const;
    double positive(const std::string& flag, double fallback) const;
    std::string choice(const std::string& flag, const std::string& fallback,
                       const std::vector<std::string>& allowed) const;

private:
    std::string command_;
    std::map<std::string, std::string> values_;
    std::set<std::string> switches_on_;
};

}  // namespace nfvi::cli
