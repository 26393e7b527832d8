// A one-line progress display on stderr, shown only when stderr is a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nfvi::cli {

class Progress {
public:
    Progress(std::string what, std::int64_t total, bool enabled);
    ~Progress();
    // Redraws at most ~5 times a second, with `label value` after the count. Allocates
    // nothing when the display is off.
    void update(std::int64_t done, const char* label, double value);
    bool enabled() const { return enabled_; }
    void finish();

private:
    std::string what_;
    std::int64_t total_;
    bool enabled_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point start_, last_;
};

bool stderr_is_terminal();

}  // namespace nfvi::cli
