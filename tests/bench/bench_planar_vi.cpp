// Benchmark of planar flows. Prints one JSON line.
//
// --mode vi (default): training steps/s of unconditional VI on U1 with K planar layers,
// batch N, Adam (the workload of ../shared/reference/torch_planar_vi.py; D is 2).
// --mode flow: forward + backward passes/s of a K-layer planar stack alone, in dimension D,
// with one shared parameter row [1,P] or, with --per-sample 1, one row per sample [N,P] as an
// amortized encoder emits them (the NF-VAE's shape: D = 32..40, K up to 80, N = 100..128).
//   bench_planar_vi [--mode vi|flow] [--threads T] [--layers K] [--batch N] [--steps S]
//                   [--dim D] [--per-sample 0|1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "autodiff/autodiff.h"
#include "flows/stack.h"
#include "models/vi.h"

using namespace nfvi;

namespace {

struct Options {
    std::string mode = "vi";
    int threads = 1, layers = 32, batch = 1000, steps = 1000, warmup = 50, dim = 2, per_sample = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int run_vi(const Options& o) {
    FlowModel m("planar", 2, o.layers, 1);
    Adam opt(m.params(), AdamOptions{.lr = 2e-3f});
    EnergyFn u = make_energy(find_target("U1"), false);
    Rng rng(1);
    Graph g;
    double loss = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < o.warmup + o.steps; ++t) {
        if (t == o.warmup) t0 = std::chrono::steady_clock::now();
        g.clear();
        opt.zero_grad();
        Var l = free_energy(g, m, u, rng, o.batch, static_cast<real>(anneal_beta(t, 10000)));
        g.backward(l);
        opt.step();
        loss = l.item();
    }
    double s = seconds_since(t0);
    std::printf("{\"bench\":\"planar_vi\",\"layers\":%d,\"batch\":%d,\"threads\":%d,\"steps\":%d,"
                "\"steps_per_second\":%.1f,\"last_loss\":%.4f}\n",
                o.layers, o.batch, o.threads, o.steps, o.steps / s, loss);
    return 0;
}

int run_flow(const Options& o) {
    const int N = o.batch, D = o.dim, R = o.per_sample ? N : 1;
    FlowStack flow = make_flow("planar", D, o.layers);
    // Every row starts from the same init, then differs a little (as an encoder's rows would).
    Parameter params("flow", Shape{R, flow.num_params()});  // [R,P]
    Rng rng(2);
    flow.init(std::span<real>(params.value.data(), static_cast<std::size_t>(flow.num_params())), rng);
    for (int r = 1; r < R; ++r)
        for (int c = 0; c < flow.num_params(); ++c)
            params.value.at(r, c) = params.value.at(0, c) * static_cast<real>(1 + 0.01 * ((r * 7 + c) % 13));
    Graph g;
    double check = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int t = 0; t < o.warmup + o.steps; ++t) {
        if (t == o.warmup) t0 = std::chrono::steady_clock::now();
        g.clear();
        params.zero_grad();
        Var z = g.input(Shape{N, D});  // [N,D]
        rng.normal(z.data(), z.value().numel());
        FlowOutput out = flow.forward(z, g.param(params));
        Var l = mean(sum(square(out.z), 1) - out.logdet);
        g.backward(l);
        check = l.item();
    }
    double s = seconds_since(t0);
    std::printf("{\"bench\":\"planar_flow\",\"dim\":%d,\"layers\":%d,\"batch\":%d,\"per_sample\":%d,"
                "\"threads\":%d,\"steps\":%d,\"passes_per_second\":%.1f,\"us_per_pass\":%.1f,"
                "\"last_loss\":%.4f}\n",
                D, o.layers, N, o.per_sample, o.threads, o.steps, o.steps / s, 1e6 * s / o.steps, check);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char* k = argv[i];
        if (!std::strcmp(k, "--mode")) {
            o.mode = argv[i + 1];
            continue;
        }
        int v = std::atoi(argv[i + 1]);
        if (!std::strcmp(k, "--threads")) o.threads = v;
        else if (!std::strcmp(k, "--layers")) o.layers = v;
        else if (!std::strcmp(k, "--batch")) o.batch = v;
        else if (!std::strcmp(k, "--steps")) o.steps = v;
        else if (!std::strcmp(k, "--dim")) o.dim = v;
        else if (!std::strcmp(k, "--per-sample")) o.per_sample = v;
        else { std::fprintf(stderr, "bench_planar_vi: unknown flag %s\n", k); return 2; }
    }
    if ((o.mode != "vi" && o.mode != "flow") || (o.mode == "vi" && (o.dim != 2 || o.per_sample))) {
        std::fprintf(stderr, "bench_planar_vi: --mode is vi (D = 2, one shared row) or flow\n");
        return 2;
    }
    set_num_threads(o.threads);
    return o.mode == "vi" ? run_vi(o) : run_flow(o);
}
