// Benchmark of nfvi::gemm on the NF-VAE's shapes (batch 128) and a 1024^3 square product.
//
// Usage: bench_gemm [--threads T] [--json]
// Prints one line per shape: name, M, N, K, layout, GFLOP/s (the median, and the best, of 5
// timings of at least 0.1 s each, after a warm-up; on a busy machine the best is the steadier
// figure). With --json, one JSON object per line instead.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "autodiff/gemm.h"
#include "autodiff/tensor.h"
#include "autodiff/thread_pool.h"

namespace {

using nfvi::real;
using Clock = std::chrono::steady_clock;

struct Case {
    std::string name;
    int M, N, K;
    bool ta, tb;
    real beta;
};

const char* layout(const Case& c) {
    if (!c.ta && !c.tb) return "NN";
    if (!c.ta && c.tb) return "NT";
    if (c.ta && !c.tb) return "TN";
    return "TT";
}

// Seconds for `reps` calls.
double time_reps(const Case& c, const real* A, const real* B, real* C, int reps) {
    const int lda = c.ta ? c.M : c.K, ldb = c.tb ? c.K : c.N;
    const auto t0 = Clock::now();
    for (int r = 0; r < reps; ++r)
        nfvi::gemm(c.ta, c.tb, c.M, c.N, c.K, real(1), A, lda, B, ldb, c.beta, C, c.N);
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Rate {
    double median, best;  // GFLOP/s
};

Rate bench(const Case& c) {
    // A, B and C hold small values so that repeated accumulation (beta = 1) stays finite.
    std::vector<real> A(static_cast<std::size_t>(c.M) * c.K),
        B(static_cast<std::size_t>(c.K) * c.N), C(static_cast<std::size_t>(c.M) * c.N, real(0));
    unsigned s = 12345;
    auto next = [&] {
        s = s * 1664525u + 1013904223u;
        return static_cast<real>((s >> 8) * (1.0 / 16777216.0) - 0.5) * real(1e-3);
    };
    for (auto& v : A) v = next();
    for (auto& v : B) v = next();

    int reps = 1;
    time_reps(c, A.data(), B.data(), C.data(), 1);  // warm-up: first call grows the buffers
    for (;;) {                                      // find reps giving >= 0.1 s
        const double t = time_reps(c, A.data(), B.data(), C.data(), reps);
        if (t >= 0.1) break;
        reps = t < 1e-3 ? reps * 100 : std::max(reps + 1, static_cast<int>(reps * 0.12 / t));
    }
    std::vector<double> secs;
    for (int i = 0; i < 5; ++i)
        secs.push_back(time_reps(c, A.data(), B.data(), C.data(), reps) / reps);
    std::sort(secs.begin(), secs.end());
    const double gflop = 2.0 * c.M * c.N * c.K * 1e-9;
    return {gflop / secs[2], gflop / secs[0]};
}

[[noreturn]] void usage(const char* msg) {
    std::fprintf(stderr, "bench_gemm: %s\nusage: bench_gemm [--threads T] [--json]\n", msg);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    int threads = 1;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--json")) {
            json = true;
        } else if (!std::strcmp(argv[i], "--threads")) {
            if (i + 1 >= argc) usage("--threads needs a value");
            char* end = nullptr;
            const long t = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || t < 1 || t > 256) usage("--threads takes an integer from 1 to 256");
            threads = static_cast<int>(t);
        } else {
            usage((std::string("unknown argument '") + argv[i] + "'").c_str());
        }
    }
    nfvi::set_num_threads(threads);

    // NF-VAE layers (in -> out) at batch 128, with the beta the training step uses: forward
    // y = b + x W^T (NT, beta 1: C holds the bias), backward dX = dY W (NN, beta 0: the first
    // gradient of x is written, not added) and dW += dY^T X (TN, beta 1: into the parameter's
    // gradient). enc_head is the encoder's output layer with K = 16 planar layers, enc_head_k0
    // with none.
    struct Layer {
        const char* name;
        int in, out;
    };
    const Layer layers[] = {{"enc1", 784, 512},
                            {"enc2", 512, 512},
                            {"enc_head", 512, 1376},
                            {"enc_head_k0", 512, 80},
                            {"dec1", 40, 512},
                            {"dec_out", 512, 784}};
    const int batch = 128;
    std::vector<Case> cases;
    for (const Layer& l : layers) {
        cases.push_back({std::string(l.name) + ".fwd", batch, l.out, l.in, false, true, real(1)});
        cases.push_back({std::string(l.name) + ".dX", batch, l.in, l.out, false, false, real(0)});
        cases.push_back({std::string(l.name) + ".dW", l.out, l.in, batch, true, false, real(1)});
    }
    cases.push_back({"square1024", 1024, 1024, 1024, false, false, real(0)});

    if (!json)
        std::printf("%-16s %5s %5s %5s %-6s %9s %9s   (threads=%d, real=%s)\n", "name", "M", "N",
                    "K", "layout", "GFLOP/s", "best", threads, sizeof(real) == 4 ? "float" : "double");
    for (const Case& c : cases) {
        const Rate g = bench(c);
        if (json)
            std::printf(
                "{\"bench\":\"gemm\",\"name\":\"%s_%s\",\"M\":%d,\"N\":%d,\"K\":%d,"
                "\"layout\":\"%s\",\"threads\":%d,\"gflops\":%.1f,\"gflops_best\":%.1f}\n",
                c.name.c_str(), layout(c), c.M, c.N, c.K, layout(c), threads, g.median, g.best);
        else
            std::printf("%-16s %5d %5d %5d %-6s %9.1f %9.1f\n", c.name.c_str(), c.M, c.N, c.K,
                        layout(c), g.median, g.best);
        std::fflush(stdout);
    }
    return 0;
}
