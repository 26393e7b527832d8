// `nfvi conditional`: conditional (amortized) VI over the rotated two-mode ring. One network
// maps the angle θ to q(z | θ); the run trains it, measures KL(q(·|θ) ‖ p(·|θ)) at evenly
// spaced angles and draws a frame per angle and an animated GIF of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nfvi::cli {

// One phase of training: `steps` Adam steps at learning rate `lr` with `samples` samples per
// angle. Phases run in order with one optimizer (its moments carry over; only lr changes).
struct ConditionalPhase {
    std::int64_t steps = 0;
    double lr = 0;
    int samples = 0;
};

// The named schedules: "default", nfvi's, chosen by measurement (24000 steps at 1e-4, then
// 6000 at 1e-5, 100 samples per angle, the energy annealed over the first 8000 steps), and
// "reference", torch_conditional_vi.py's (5000 steps at 3e-5 with 100 samples, then 5000 at
// 1e-5 with 1000; no annealing). Throws UsageError for another name.
std::vector<ConditionalPhase> named_schedule(const std::string& name);
// The annealing length that goes with a schedule: 8000 for "default", else 0 (off).
std::int64_t schedule_anneal(const std::string& name);
// "default", "reference", or phases "STEPS:LR:SAMPLES[,STEPS:LR:SAMPLES...]", e.g.
// "5000:3e-5:100,5000:1e-5:1000". Throws UsageError naming the problem.
std::vector<ConditionalPhase> parse_schedule(const std::string& text);

struct ConditionalOptions {
    int layers = 32;                      // K planar layers
    std::vector<int> hidden{512, 512};    // the network's hidden layers (ELU)
    std::string input = "cos-sin";        // angle | cos-sin: what the network sees of θ
    double init_scale = 1;                // multiplies the network's last layer at the start
    int angles_per_step = 32;             // B
    std::int64_t anneal = schedule_anneal("default");  // β = min(1, 0.01 + t/anneal) on U; 0: off
    double clip = 0;                      // clip the gradient's global norm to this; 0: off
    std::string schedule_name = "default";
    std::vector<ConditionalPhase> schedule = named_schedule("default");
    std::uint64_t seed = 1;
    int threads = 1;
    std::string out = "runs/conditional";
    // Evaluation and pictures.
    int eval_angles = 26;                 // evenly spaced in [−π, π], both ends included
    std::int64_t kl_samples = 100000;     // per angle, at the end
    // Every eval_every steps (0: never) the KL at the evaluation angles from eval_samples
    // fresh samples each (the same samples every time), into log.csv and the KL chart.
    std::int64_t eval_every = 2000;
    std::int64_t eval_samples = 10000;
    int grid = 2000;                      // quadrature grid n (checked against n/2)
    std::int64_t density_samples = 1000000;  // per frame
    int bins = 100;                       // density pictures: bins × bins cells
    int frame_delay = 15;                 // GIF: hundredths of a second per frame
    bool pictures = true;
    bool progress = true;                 // a progress line, when stderr is a terminal
};

struct ConditionalResult {
    double final_loss = 0;  // mean loss of the last 100 steps
    double log_z = 0, log_z_check = 0;
    std::vector<double> angles, kl, kl_std_error;  // one per evaluation angle
    double kl_mean = 0, kl_max = 0, kl_max_angle = 0;
    std::int64_t steps = 0;
    double seconds = 0, steps_per_second = 0;  // training alone
    double progress_eval_seconds = 0;          // the KL measured during training
    double eval_seconds = 0;                   // the final evaluation and the pictures
};

// Trains, evaluates and writes every output into o.out. Throws UsageError on bad settings
// (before anything is written), other exceptions on I/O errors or divergence.
ConditionalResult run_conditional(const ConditionalOptions& o);
int conditional_command(int argc, char** argv);

}  // namespace nfvi::cli
