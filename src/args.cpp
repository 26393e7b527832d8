#include "src/args.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace nfvi::cli {

Args::Args(std::string command, int argc, char** argv, int first, std::set<std::string> valued,
           std::set<std::string> switches)
    : command_(std::move(command)) {
    for (int i = first; i < argc; ++i) {
        std::string f = argv[i];
        if (switches.count(f)) {
            switches_on_.insert(f);
            continue;
        }
        if (!valued.count(f))
            throw UsageError("unknown flag '" + f + "' for 'nfvi " + command_ + "' (see nfvi help)");
        if (i + 1 >= argc) throw UsageError("flag " + f + " needs a value");
        if (values_.count(f)) throw UsageError("flag " + f + " is given twice");
        values_[f] = argv[++i];
    }
}

bool Args::has(const std::string& flag) const { return switches_on_.count(flag) || values_.count(flag); }

std::string Args::str(const std::string& flag, const std::string& fallback) const {
    auto it = values_.find(flag);
    return it == values_.end() ? fallback : it->second;
}

std::int64_t Args::integer(const std::string& flag, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
    auto it = values_.find(flag);
    if (it == values_.end()) return fallback;
    const std::string& v = it->second;
    std::int64_t x = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
    if (ec != std::errc() || p != v.data() + v.size() || x < lo || x > hi)
        throw UsageError(flag + " needs a whole number in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "], got '" + v + "'");
    return x;
}

double Args::number(const std::string& flag, double fallback, double lo, double hi) const {
    auto it = values_.find(flag);
    if (it == values_.end()) return fallback;
    const std::string& v = it->second;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x) || x < lo || x > hi)
        throw UsageError(flag + " needs a finite number in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "], got '" + v + "'");
    return x;
}

double Args::positive(const std::string& flag, double fallback) const {
    auto it = values_.find(flag);
    if (it == values_.end()) return fallback;
    const std::string& v = it->second;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(x) || !(x > 0))
        throw UsageError(flag + " needs a finite number > 0, got '" + v + "'");
    return x;
}

std::string Args::choice(const std::string& flag, const std::string& fallback,
                         const std::vector<std::string>& allowed) const {
    std::string v = str(flag, fallback);
    for (const std::string& a : allowed)
        if (a == v) return v;
    std::string list;
    for (const std::string& a : allowed) list += (list.empty() ? "" : ", ") + a;
    throw UsageError(flag + " must be one of " + list + ", got '" + v + "'");
}

}  // namespace nfvi::cli
