// Benchmark: training steps/s of unconditional VI on U1 with K planar layers, batch N, Adam
// (the workload of ../shared/reference/torch_planar_vi.py). Prints one JSON line.
//   bench_planar_vi [--threads T] [--layers K] [--batch N] [--steps S]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "autodiff/autodiff.h"
#include "models/vi.h"

using namespace nfvi;

int main(int argc, char** argv) {
    int threads = 1, layers = 32, batch = 1000, steps = 1000, warmup = 50;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = v;
        else if (!std::strcmp(argv[i], "--layers")) layers = v;
        else if (!std::strcmp(argv[i], "--batch")) batch = v;
        else if (!std::strcmp(argv[i], "--steps")) steps = v;
        else { std::fprintf(stderr, "bench_planar_vi: unknown flag %s\n", argv[i]); return 2; }
    }
    set_num_threads(threads);
    FlowModel m("planar", 2, layers, 1);
    Adam opt(m.params(), AdamOptions{.lr = 2e-3f});
    EnergyFn u = make_energy(find_target("U1"), false);
    Rng rng(1);
    Graph g;
    double loss = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < warmup + steps; ++t) {
        if (t == warmup) t0 = std::chrono::steady_clock::now();
        g.clear();
        opt.zero_grad();
        Var l = free_energy(g, m, u, rng, batch, static_cast<real>(anneal_beta(t, 10000)));
        g.backward(l);
        opt.step();
        loss = l.item();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("{\"bench\":\"planar_vi\",\"layers\":%d,\"batch\":%d,\"threads\":%d,\"steps\":%d,"
                "\"steps_per_second\":%.1f,\"last_loss\":%.4f}\n",
                layers, batch, threads, steps, steps / s, loss);
}
