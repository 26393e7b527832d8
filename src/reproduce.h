// `nfvi reproduce`: the paper's comparisons, --figure 3 (flows on the 2-D potentials) and
// --table 2 (the NF-VAE on MNIST).
#pragma once

#include <cstdint>
#include <string>

namespace nfvi::cli {

int reproduce_command(int argc, char** argv);

struct Table2Options {
    std::string data = "data/mnist";
    std::int64_t updates = 10000;  // 86 minutes for the nine models on 2 cores
    int importance_samples = 1000;
    int points = 2000;
    std::uint64_t seed = 1;
    int jobs = 2;
    std::string out = "runs/table2";
};
// `nfvi reproduce --table 2`: trains and evaluates the nine models and writes the table.
int reproduce_table2(const Table2Options& o);

}  // namespace nfvi::cli
