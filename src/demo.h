// `nfvi demo`: a tiny VI run that trains and prints its loss.
#pragma once

#include <cstdint>

namespace nfvi::cli {

struct DemoOptions {
    int steps = 2000;
    int batch = 256;
    double lr = 1e-2;
    std::uint64_t seed = 1;
    int threads = 1;
    int print_every = 200;
};

int run_demo(const DemoOptions& o);
int demo_command(int argc, char** argv);

}  // namespace nfvi::cli
