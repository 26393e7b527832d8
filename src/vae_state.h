// What a `nfvi vae train` checkpoint holds, and the VAE settings as JSON.
//
// Sections (see src/io/checkpoint.h for the container):
//   settings       text  JSON: {"format": "nfvi-vae-1", "model": {...shape...},
//                        "training": {...every other setting...}, "real": "float"|"double"}
//   step           i64   updates done
//   rng.seed, rng.stream, rng.counter   u64   the ε generator (Rng::State)
//   epoch.sum      u64   bits of the double sum of this epoch's update ELBOs so far
//   epoch.count    i64   how many updates that sum holds
//   log            text  log.csv so far (header and one row per finished epoch)
//   optimizer      bytes Optimizer::save_state (autodiff/optim.h)
//   param/<name>   tensor, one per model parameter (encoder.0.weight, ..., flow)
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "autodiff/optim.h"
#include "autodiff/rng.h"
#include "models/vae.h"
#include "src/io/checkpoint.h"
#include "src/io/json.h"

namespace nfvi::cli {

struct TrainingState {
    std::int64_t step = 0;
    Rng::State rng{};
    double epoch_sum = 0;
    std::int64_t epoch_count = 0;
    std::string log;
};

io::Json vae_shape_json(const VaeShape& s);
// The shape stored in a checkpoint's settings; FormatError naming `source` if malformed.
VaeShape vae_shape_from_json(const io::Json& model, const std::string& source);

void write_vae_checkpoint(const std::string& path, const std::string& settings_json, Vae& m,
                          const Optimizer& opt, const TrainingState& s);

// The checkpoint's settings JSON (checked to be an nfvi VAE checkpoint).
io::Json checkpoint_settings(const io::Checkpoint& c);
// A model built from the checkpoint's shape with its parameters loaded.
std::unique_ptr<Vae> load_vae_model(const io::Checkpoint& c);
// Loads parameters (into a model of the same shape), optimizer state and training state.
TrainingState load_training_state(const io::Checkpoint& c, Vae& m, Optimizer& opt);

}  // namespace nfvi::cli
