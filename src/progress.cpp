#include "src/progress.h"

#include <cstdio>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace nfvi::cli {

bool stderr_is_terminal() {
#if __has_include(<unistd.h>)
    return isatty(2) == 1;
#else
    return false;
#endif
}

Progress::Progress(std::string what, std::int64_t total, bool enabled)
    : what_(std::move(what)), total_(total), enabled_(enabled && stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(std::int64_t done, const char* label, double value) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(200) && done < total_) return;
    last_ = now;
    drawn_ = true;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    std::fprintf(stderr, "\r%s %lld/%lld (%3.0f%%)  %s %.4g  %.0f/s  eta %.0fs   ", what_.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_),
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), label, value, rate, eta);
    std::fflush(stderr);
}

void Progress::finish() {
    if (enabled_ && drawn_) std::fputc('\n', stderr);
    drawn_ = false;
}

}  // namespace nfvi::cli
