// `nfvi potential`: fit a flow to one of the 2-D potentials and draw what it learned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nfvi::cli {

struct PotentialOptions {
    std::string target = "U1";
    std::string flow = "planar";
    int layers = 32;
    std::int64_t steps = 20000;
    int batch = 1000;
    double lr = 2e-3;
    std::string optimizer = "adam";  // adam | rmsprop
    std::int64_t anneal = 10000;     // 0: no annealing
    std::uint64_t seed = 1;
    int threads = 1;
    bool taper = false;              // also taper U1 and U8 (U2-U4 are always tapered)
    std::string out = "runs/potential";
    // Evaluation and pictures.
    std::int64_t kl_samples = 100000;
    int grid = 2000;                 // quadrature grid n (checked against n/2)
    std::int64_t density_samples = 1000000;
    bool pictures = true;
    bool progress = true;            // a progress line, when stderr is a terminal
};

struct PotentialResult {
    double final_loss = 0;   // mean loss of the last 100 steps
    double kl = 0, kl_std_error = 0;
    double log_z = 0, log_z_check = 0;
    double seconds = 0, steps_per_second = 0;
    std::vector<double> density;  // learned density on the picture grid (for montages)
    int density_bins = 0;
    double range = 4;             // pictures cover [−range, range]²
};

// Trains, evaluates and writes every output into o.out. Throws on bad settings or I/O errors.
PotentialResult run_potential(const PotentialOptions& o);
int potential_command(int argc, char** argv);

}  // namespace nfvi::cli
