// Benchmark: training samples/s of the NF-VAE (the workload of
// ../shared/reference/torch_nfvae.py: z = 40, encoder and decoder 784-512-512 ELU, planar
// flow of K layers emitted per data point, batch 128, 1 sample, Adam 1e-4) on synthetic
// Bernoulli(0.5) data of MNIST's shape, and the memory it needs: peak resident set size
// against the bytes of parameters + gradients + optimizer state + one step's tape.
// Prints one JSON line.
//   bench_nfvae [--threads T] [--flows K] [--latent D] [--hidden H] [--batch B] [--steps S]
#include <time.h>  // clock_gettime (POSIX)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "autodiff/autodiff.h"
#include "models/vae.h"

using namespace nfvi;

namespace {

// Peak resident set size in bytes (Linux: VmHWM in /proc/self/status), 0 if unknown.
long long peak_rss_bytes() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
    return 0;
}

// CPU seconds used by the process so far (all its threads): on a busy machine a steadier
// measure of the work than wall time (at 1 thread; with more, spinning workers count too).
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1, flows = 16, latent = 40, hidden = 512, batch = 128, steps = 300, warmup = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = v;
        else if (!std::strcmp(argv[i], "--flows")) flows = v;
        else if (!std::strcmp(argv[i], "--latent")) latent = v;
        else if (!std::strcmp(argv[i], "--hidden")) hidden = v;
        else if (!std::strcmp(argv[i], "--batch")) batch = v;
        else if (!std::strcmp(argv[i], "--steps")) steps = v;
        else { std::fprintf(stderr, "bench_nfvae: unknown flag %s\n", argv[i]); return 2; }
    }
    set_num_threads(threads);
    VaeShape s;
    s.data_dim = 784, s.latent = latent, s.hidden = {hidden, hidden}, s.flow = "planar", s.layers = flows;
    Vae m(s, 1);
    const ParameterList ps = m.params();
    Adam opt(ps, AdamOptions{.lr = 1e-4f});
    // 2048 fixed Bernoulli(0.5) images, cycled (as the reference's synthetic data).
    const int pool = 2048;
    std::vector<real> data(static_cast<std::size_t>(pool) * 784), half(data.size(), real(0.5));
    Rng rng(1), drng(2);
    drng.bernoulli(data.data(), half.data(), static_cast<std::int64_t>(data.size()));
    Graph g;
    double elbo = 0;
    std::int64_t tape_reals = 0;
    auto t0 = std::chrono::steady_clock::now();
    double cpu0 = process_cpu_seconds();
    for (int t = 0; t < warmup + steps; ++t) {
        if (t == warmup) {
            t0 = std::chrono::steady_clock::now();
            cpu0 = process_cpu_seconds();
        }
        const int first = (t * batch) % (pool - batch);
        g.clear();
        opt.zero_grad();
        Var x = g.input(TensorRef{data.data() + static_cast<std::int64_t>(first) * 784, Shape{batch, 784}});
        Var loss = vae_loss(vae_terms(g, m, x, rng, 1), 1);
        g.backward(loss);
        opt.step();
        elbo = -loss.item();
        tape_reals = std::max(tape_reals, g.arena().used());
    }
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu_sec = process_cpu_seconds() - cpu0;
    std::int64_t values = 0;
    for (Parameter* p : ps) values += p->value.numel();
    // Parameters, their gradients, Adam's two moments, and the tape of one step.
    const double model_bytes = static_cast<double>(values) * sizeof(real) * 4 + static_cast<double>(tape_reals) * sizeof(real);
    const double data_bytes = static_cast<double>(data.size()) * sizeof(real) * 2;
    const long long rss = peak_rss_bytes();
    std::printf("{\"bench\":\"nfvae\",\"flows\":%d,\"latent\":%d,\"hidden\":%d,\"batch\":%d,\"threads\":%d,\"steps\":%d,"
                "\"samples_per_second\":%.1f,\"cpu_samples_per_second\":%.1f,\"steps_per_second\":%.2f,\"last_elbo\":%.2f,\"parameters\":%lld,"
                "\"tape_bytes\":%.0f,\"needed_bytes\":%.0f,\"data_bytes\":%.0f,\"peak_rss_bytes\":%lld,"
                "\"rss_over_needed\":%.3f}\n",
                flows, latent, hidden, batch, threads, steps, steps * batch / sec, steps * batch / cpu_sec, steps / sec, elbo,
                static_cast<long long>(values), static_cast<double>(tape_reals) * sizeof(real), model_bytes, data_bytes, rss,
                rss > 0 ? static_cast<double>(rss) / (model_bytes + data_bytes) : 0.0);
}
