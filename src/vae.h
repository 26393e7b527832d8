// `nfvi vae train | eval | sample`: the NF-VAE on binarized MNIST (models/vae.h).
#pragma once

#include <cstdint>
#include <string>

#include "models/vae.h"
#include "src/io/json.h"

namespace nfvi::cli {

// Everything a training run depends on. The model part (shape) must match on --resume; the
// rest may change between a run and its continuation (e.g. more --epochs).
struct VaeOptions {
    std::string data = "data/mnist";
    std::string preset = "reference";   // reference | paper: the defaults below come from it
    VaeShape shape;
    std::string binarize = "threshold"; // threshold (pixel >= 128) | dynamic (Bernoulli per epoch)
    int validation = 1000;              // the last images of the training file, held out
    int train_limit = 0;                // > 0: use only this many training images (quick runs)
    int batch = 128;
    int epochs = 10;
    std::int64_t updates = 0;           // > 0: stop after this many updates instead
    int samples = 1;                    // S per data point
    std::string optimizer = "adam";     // adam | rmsprop
    double lr = 1e-4;
    double momentum = 0.9;              // rmsprop
    std::int64_t anneal = 0;            // β_t = min(1, 0.01 + t/anneal); 0 = off
    std::string output_bias = "data";   // data: the decoder starts at the mean training image | zero
    std::uint64_t seed = 1;
    int threads = 1;
    std::int64_t checkpoint_every = 1000;
    bool resume = false;
    std::string on_nan = "stop";        // stop | skip (skip an update whose loss is NaN or Inf)
    bool announce_resume = true;        // say on stderr where --resume starts
    std::string out = "runs/vae";
    bool pictures = true;
    bool progress = true;
};

// Fills o with a preset's settings ("reference" or "paper"); UsageError for another name.
void apply_vae_preset(const std::string& name, VaeOptions& o);

struct VaeTrainResult {
    double train_elbo = 0;       // mean over the last epoch's updates (β = 1 ELBO)
    double validation_elbo = 0;
    double validation_kl = 0, validation_log_px = 0;
    std::int64_t steps = 0;
    double seconds = 0, samples_per_second = 0;
};

// Trains (or continues, with o.resume) and writes every output into o.out. Throws UsageError or
// io errors for bad input, std::runtime_error when the loss diverges, Interrupted after
// SIGINT/SIGTERM (once the current update is done and a checkpoint is written).
VaeTrainResult run_vae_train(const VaeOptions& o);

struct VaeEvalOptions {
    std::string checkpoint;
    std::string data;               // empty: the directory the model was trained on
    int importance_samples = 5000;  // K
    int points = 10000;             // test images for −log p(x) (the ELBO uses all)
    std::uint64_t seed = 1;
    int threads = 1;
    std::string out;                // empty: eval/ beside the checkpoint
};

struct VaeEvalResult {
    double elbo = 0;                // one-sample test ELBO over the whole test set
    double nll = 0, nll_std_error = 0;
    int nll_points = 0;
    double elbo_on_nll_points = 0;
    double kl = 0;                  // −ELBO − (−log p(x)) on the NLL points
    double seconds = 0;
    std::string out;
};

// Test ELBO and importance-sampled −log p(x) of a checkpoint; writes out/summary.json.
VaeEvalResult run_vae_eval(const VaeEvalOptions& o);

struct Interrupted {
    int signal;
};
int vae_command(int argc, char** argv);

}  // namespace nfvi::cli
