// What `nfvi potential` and `nfvi conditional` share: stopping a run that diverged, the final
// loss they report, and the record of their log Z quadrature in summary.json.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <span>
#include <stdexcept>

#include "src/io/json.h"
#include "src/progress.h"

namespace nfvi::cli {

// Stops a run whose `quantity` ("loss", "gradient") became `value` (NaN or ±inf) at `step`
// (counted from 1): ends the progress line and throws std::runtime_error, with `advice` on
// what to change.
[[noreturn]] inline void diverged(Progress& progress, const char* quantity, double value, std::int64_t step,
                                  const char* advice) {
    progress.finish();
    std::ostringstream msg;
    msg << "the " << quantity << " became " << value << " at step " << step << "; the run diverged (" << advice << ")";
    throw std::runtime_error(msg.str());
}

// The mean of the last min(n, size) losses, 0 for none: the final loss a run reports.
inline double mean_of_last(std::span<const float> losses, std::size_t n = 100) {
    const std::size_t tail = std::min(n, losses.size());
    double sum = 0;
    for (std::size_t i = losses.size() - tail; i < losses.size(); ++i) sum += losses[i];
    return sum / static_cast<double>(std::max<std::size_t>(tail, 1));
}

// summary.json's "log_z_quadrature": how log Z was computed (`method`, on a grid × grid
// midpoint rule), its value on a grid half as fine, and whether the two agree within 1e-3.
inline io::Json log_z_quadrature_json(const char* method, int grid, double log_z, double check) {
    io::Json q = io::Json::object();
    q["method"] = method;
    q["grid"] = grid;
    q["check_grid"] = std::max(2, grid / 2);
    q["check_value"] = check;
    q["abs_change"] = std::abs(log_z - check);
    q["converged"] = std::abs(log_z - check) < 1e-3;
    return q;
}

}  // namespace nfvi::cli
