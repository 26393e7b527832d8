// `nfvi reproduce --table 2 [--updates N] --out DIR`: the paper's Table 2 / Fig. 4 on binarized
// MNIST. The paper preset (z = 40, one hidden layer of 400 maxout units, RMSprop) is trained
// with planar flows of K ∈ {0, 10, 20, 40, 80} layers and NICE (permutation) flows of
// K ∈ {10, 20, 40, 80}, each evaluated by its test ELBO and importance-sampled −log p(x);
// table2.md and table2.csv put them beside the paper's numbers. Runs go --jobs at a time.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "src/args.h"
#include "src/io/files.h"
#include "src/outputs.h"
#include "src/reproduce.h"
#include "src/vae.h"
#include "src/vae_data.h"

namespace nfvi::cli {

namespace {

struct Row {
    std::string flow;  // "planar" (K = 0: the diagonal Gaussian) or "nice-perm"
    int layers;
    double paper_nll;  // the paper's −log p(x), Table 2
    VaeTrainResult train;
    VaeEvalResult eval;
    std::string error;
};

std::string fmt(double v, int prec = 2) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", prec, v);
    return buf;
}

std::string label(const Row& r) {
    if (r.layers == 0) return "diagonal Gaussian (K = 0)";
    return (r.flow == "planar" ? "planar" : "NICE") + std::string(" K = ") + std::to_string(r.layers);
}

}  // namespace

int reproduce_table2(const Table2Options& t) {
    std::vector<Row> rows = {
        {"planar", 0, 89.9, {}, {}, {}},      {"planar", 10, 87.5, {}, {}, {}},    {"planar", 20, 86.5, {}, {}, {}},
        {"planar", 40, 85.75, {}, {}, {}},    {"planar", 80, 85.1, {}, {}, {}},    {"nice-perm", 10, 88.6, {}, {}, {}},
        {"nice-perm", 20, 87.9, {}, {}, {}},  {"nice-perm", 40, 87.3, {}, {}, {}}, {"nice-perm", 80, 87.2, {}, {}, {}},
    };
    load_vae_data(t.data, 0, 0);  // a missing or broken data set fails here, before anything is written
    io::ensure_directory(t.out + "/runs");
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows[a].layers > rows[b].layers; });
    std::atomic<std::size_t> next{0};
    std::mutex print_mu;
    auto t0 = std::chrono::steady_clock::now();
    auto worker = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < order.size();) {
            Row& r = rows[order[i]];
            VaeOptions o;
            apply_vae_preset("paper", o);
            o.data = t.data;
            o.shape.flow = r.flow;
            o.shape.layers = r.layers;
            o.updates = t.updates;
            o.seed = t.seed;
            o.threads = 1;
            o.checkpoint_every = std::max<std::int64_t>(1000, t.updates / 10);
            o.out = t.out + "/runs/" + r.flow + "-K" + std::to_string(r.layers);
            o.resume = true;  // an interrupted reproduction continues where it stopped
            o.progress = false;
            o.announce_resume = false;
            try {
                r.train = run_vae_train(o);
                VaeEvalOptions e;
                e.checkpoint = o.out + "/checkpoint.nfvi";
                e.data = t.data;
                e.importance_samples = t.importance_samples;
                e.points = t.points;
                e.seed = t.seed;
                r.eval = run_vae_eval(e);
            } catch (const std::exception& ex) {
                r.error = ex.what();
            }
            std::lock_guard<std::mutex> lk(print_mu);
            std::fprintf(stderr, "[%zu/%zu] %s: %s\n", i + 1, order.size(), label(r).c_str(),
                         r.error.empty() ? ("-ELBO " + fmt(-r.eval.elbo) + ", -log p(x) " + fmt(r.eval.nll)).c_str() : r.error.c_str());
        }
    };
    std::vector<std::thread> pool;
    for (int j = 0; j < t.jobs; ++j) pool.emplace_back(worker);
    for (auto& th : pool) th.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::string csv = "flow,layers,updates,neg_elbo,kl,nll,nll_std_error,paper_nll,train_seconds,samples_per_second,error\n";
    for (const Row& r : rows)
        csv += r.flow + "," + std::to_string(r.layers) + "," + std::to_string(t.updates) + "," + fmt(-r.eval.elbo, 3) + "," +
               fmt(r.eval.kl, 3) + "," + fmt(r.eval.nll, 3) + "," + fmt(r.eval.nll_std_error, 3) + "," + fmt(r.paper_nll, 2) + "," +
               fmt(r.train.seconds, 1) + "," + fmt(r.train.samples_per_second, 0) + "," +
               (r.error.empty() ? "" : "\"" + r.error + "\"") + "\n";
    io::write_file_atomic(t.out + "/table2.csv", csv);

    std::ostringstream md;
    md << "# Table 2: NF-VAE on binarized MNIST\n\n"
       << "Paper preset (z = 40, encoder and decoder with one hidden layer of 400 maxout units of 2 pieces, RMSprop lr 1e-5 "
       << "momentum 0.9, batch 100, β annealed over 10000 updates, the decoder's output bias started at the logits of "
       << "the mean training image), threshold binarization, " << t.updates
       << " updates per model (the paper trained for 500,000). Test −ELBO is the one-sample estimate over the 10000 test "
       << "images; −log p(x) is importance-sampled with " << t.importance_samples << " samples on the first " << t.points
       << " test images; KL = −ELBO − (−log p(x)) on those images. The paper's column is its −log p(x).\n\n"
       << "| posterior | −ELBO | KL | −log p(x) | paper −log p(x) |\n|---|---:|---:|---:|---:|\n";
    for (const Row& r : rows) {
        md << "| " << label(r);
        if (!r.error.empty()) {
            md << " | failed | | | " << fmt(r.paper_nll) << " |\n";
            continue;
        }
        md << " | " << fmt(-r.eval.elbo) << " | " << fmt(r.eval.kl) << " | " << fmt(r.eval.nll) << " ± "
           << fmt(r.eval.nll_std_error) << " | " << fmt(r.paper_nll) << " |\n";
    }
    md << "\nWall time " << fmt(seconds / 60, 1) << " min with " << t.jobs << " job(s).\n";
    io::write_file_atomic(t.out + "/table2.md", md.str());
    std::fputs(md.str().c_str(), stdout);
    for (const Row& r : rows)
        if (!r.error.empty()) return 1;
    return 0;
}

}  // namespace nfvi::cli
