// `nfvi vae train`: trains the NF-VAE, one epoch at a time, with validation, pictures and
// crash-safe checkpoints (src/vae_state.h) from which --resume continues bit for bit.
//
// Determinism: everything random comes from counter-based generators keyed by the seed. The
// epoch's shuffle is Rng(seed, kShuffleStream + epoch), a dynamic binarization of batch i of
// epoch e is a fixed counter range of Rng(seed, kDynamicStream + e), validation uses
// Rng(seed, kValidStream + e), and ε comes from one generator whose state the checkpoint
// keeps. A resumed run therefore redoes exactly what the uninterrupted run would have done.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <sstream>

#include "autodiff/autodiff.h"
#include "models/vi.h"
#include "src/args.h"
#include "src/io/files.h"
#include "src/outputs.h"
#include "src/progress.h"
#include "src/vae.h"
#include "src/vae_data.h"
#include "src/vae_state.h"

namespace nfvi::cli {

namespace {

constexpr std::uint64_t kShuffleStream = 0x5348550000000000ULL;  // "SHU" + epoch
constexpr std::uint64_t kValidStream = 0x56414c0000000000ULL;    // "VAL" + epoch
constexpr std::uint64_t kPictureStream = 0x504943ULL;            // "PIC"
constexpr std::uint64_t kValidBinStream = 0x5642494eULL;         // "VBIN"

constexpr int kMaxSkippedInARow = 10;  // --on-nan skip gives up after this many

volatile std::sig_atomic_t g_signal = 0;
extern "C" void on_stop_signal(int sig) { g_signal = sig; }

// Installs SIGINT/SIGTERM handlers for the lifetime of a run, restoring the old ones after.
class StopSignals {
public:
    StopSignals() {
        g_signal = 0;
        old_int_ = std::signal(SIGINT, on_stop_signal);
        old_term_ = std::signal(SIGTERM, on_stop_signal);
    }
    ~StopSignals() {
        std::signal(SIGINT, old_int_);
        std::signal(SIGTERM, old_term_);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

private:
    void (*old_int_)(int);
    void (*old_term_)(int);
};

std::unique_ptr<Optimizer> make_vae_optimizer(const VaeOptions& o, const ParameterList& ps) {
    if (o.optimizer == "rmsprop")
        return std::make_unique<RMSprop>(ps, RMSpropOptions{.lr = static_cast<real>(o.lr), .momentum = static_cast<real>(o.momentum)});
    return std::make_unique<Adam>(ps, AdamOptions{.lr = static_cast<real>(o.lr)});
}

std::string settings_text(const VaeOptions& o, const VaeData& d) {
    io::Json t = io::Json::object();
    t["data"] = o.data;
    t["preset"] = o.preset;
    t["binarize"] = o.binarize;
    t["validation"] = o.validation;
    t["train_images"] = d.train.count;
    t["image_rows"] = d.train.rows;
    t["image_cols"] = d.train.cols;
    t["batch"] = o.batch;
    t["epochs"] = o.epochs;
    t["updates"] = static_cast<double>(o.updates);
    t["samples"] = o.samples;
    t["optimizer"] = o.optimizer;
    t["lr"] = o.lr;
    t["momentum"] = o.momentum;
    t["anneal"] = static_cast<double>(o.anneal);
    t["output_bias"] = o.output_bias;
    t["seed"] = static_cast<double>(o.seed);
    io::Json s = io::Json::object();
    s["format"] = "nfvi-vae-1";
    s["model"] = vae_shape_json(o.shape);
    s["training"] = t;
    s["real"] = NFVI_REAL_IS_DOUBLE ? "double" : "float";
    return s.dump();
}

// What must agree between a checkpoint and a run that resumes it, besides the model.
const char* kMustMatch[] = {"binarize", "validation", "train_images", "batch", "samples", "optimizer", "seed"};

void check_resumable(const io::Checkpoint& c, const VaeOptions& o, const std::string& mine) {
    io::Json theirs = checkpoint_settings(c);
    io::Json ours = io::Json::parse(mine);
    if (theirs.at("model").dump() != ours.at("model").dump())
        throw UsageError("cannot --resume from '" + c.source() + "': it holds a different model (" +
                         theirs.at("model").dump(-1) + "; this run asks for " + ours.at("model").dump(-1) +
                         "); use the same model flags or another --out");
    const io::Json* tt = theirs.find("training");
    for (const char* key : kMustMatch) {
        const io::Json* v = tt ? tt->find(key) : nullptr;
        if (!v || v->dump(-1) != ours.at("training").at(key).dump(-1))
            throw UsageError("cannot --resume from '" + c.source() + "': it was trained with " + key + " " +
                             (v ? v->dump(-1) : std::string("(missing)")) + ", this run asks for " +
                             ours.at("training").at(key).dump(-1));
    }
    if (theirs.at("real").dump() != ours.at("real").dump())
        throw UsageError("cannot --resume from '" + c.source() + "': it was written by a " + theirs.at("real").as_string() +
                         " build of nfvi");
    (void)o;
}

double elbo_sum(const VaeTerms& t) {
    const Var w = t.log_weight();
    double s = 0;
    for (int i = 0; i < w.rows(); ++i) s += w.data()[i];
    return s / w.rows();
}

}  // namespace

VaeTrainResult run_vae_train(const VaeOptions& o) {
    VaeData data = load_vae_data(o.data, o.validation, o.train_limit);
    const Binarize mode = o.binarize == "dynamic" ? Binarize::Dynamic : Binarize::Threshold;
    VaeOptions opt_o = o;
    opt_o.shape.data_dim = data.train.dim();
    const int N = data.train.count, B = o.batch, X = data.train.dim();
    if (B > N)
        throw UsageError("--batch " + std::to_string(B) + " is larger than the " + std::to_string(N) +
                         " training images; use a smaller --batch");
    io::ensure_directory(o.out);
    set_num_threads(o.threads);

    const std::int64_t per_epoch = N / B;  // full batches; the rest of a shuffle is left out
    const std::int64_t total = o.updates > 0 ? o.updates : per_epoch * o.epochs;
    const std::string settings = settings_text(opt_o, data);
    const std::string ckpt_path = o.out + "/checkpoint.nfvi";

    Vae model(opt_o.shape, o.seed);
    if (o.output_bias == "data") init_decoder_bias(model, pixel_means(data.train, mode));  // a resume overwrites it
    const ParameterList params = model.params();
    std::unique_ptr<Optimizer> opt = make_vae_optimizer(o, params);
    TrainingState st;
    st.rng = Rng(o.seed, 1).state();
    st.log = "epoch,step,beta,train_elbo,validation_elbo,validation_kl,validation_log_px,seconds\n";
    if (o.resume) {
        if (std::filesystem::exists(ckpt_path)) {
            io::Checkpoint c = io::Checkpoint::load(ckpt_path);
            check_resumable(c, o, settings);
            st = load_training_state(c, model, *opt);
            opt->set_lr(static_cast<real>(o.lr));  // the state restores the old rate; this run's --lr wins
            if (o.announce_resume)
                std::fprintf(stderr, "nfvi: resuming from '%s' at update %lld\n", ckpt_path.c_str(), static_cast<long long>(st.step));
        } else if (o.announce_resume) {
            std::fprintf(stderr, "nfvi: no checkpoint in '%s' yet; starting from update 0\n", o.out.c_str());
        }
    }
    Rng rng;
    rng.set_state(st.rng);

    Rng vbin(o.seed, kValidBinStream);
    const Tensor valid = binarized(data.validation, mode, &vbin);  // one fixed draw if dynamic
    std::vector<int> perm(static_cast<std::size_t>(N));
    std::int64_t perm_epoch = -1;
    Tensor xb(Shape{B, X});
    const std::uint64_t blocks_per_image = static_cast<std::uint64_t>((X + Rng::kUniformPerBlock - 1) / Rng::kUniformPerBlock);
    Graph g;
    VaeTrainResult r;
    double train_seconds = 0;
    std::int64_t trained_steps = 0;
    std::vector<double> curve_epoch, curve_train, curve_valid;
    {
        // Curves of earlier epochs (a resumed run) come back from the log.
        std::istringstream in(st.log);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            double e, s, b, tr, va;
            if (std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf,%lf", &e, &s, &b, &tr, &va) == 5) {
                curve_epoch.push_back(e);
                curve_train.push_back(tr);
                curve_valid.push_back(va);
            }
        }
    }
    auto t_start = std::chrono::steady_clock::now();
    Progress progress("vae " + o.shape.flow + " K=" + std::to_string(o.shape.layers), total, o.progress);
    StopSignals signals;

    std::int64_t saved_step = std::filesystem::exists(ckpt_path) && o.resume ? st.step : -1;
    std::int64_t skipped = 0, skipped_in_a_row = 0;
    auto save = [&] {
        st.rng = rng.state();
        write_vae_checkpoint(ckpt_path, settings, model, *opt, st);
        saved_step = st.step;
    };
    auto end_epoch = [&] {
        const std::int64_t e = (st.step - 1) / per_epoch;
        Rng vr(o.seed, kValidStream + static_cast<std::uint64_t>(e));
        VaeEvaluation v = evaluate_elbo(model, valid.data(), data.validation.count, vr);
        const double train_elbo = st.epoch_sum / static_cast<double>(std::max<std::int64_t>(st.epoch_count, 1));
        const double epoch = static_cast<double>(st.step) / static_cast<double>(per_epoch);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
        st.log += io::csv_row({epoch, static_cast<double>(st.step), anneal_beta(st.step - 1, o.anneal), train_elbo, v.elbo, v.kl,
                               v.log_px, seconds});
        curve_epoch.push_back(epoch);
        curve_train.push_back(train_elbo);
        curve_valid.push_back(v.elbo);
        r.train_elbo = train_elbo;
        r.validation_elbo = v.elbo;
        r.validation_kl = v.kl;
        r.validation_log_px = v.log_px;
        st.epoch_sum = 0;
        st.epoch_count = 0;
        io::write_file_atomic(o.out + "/log.csv", st.log);
        if (!o.pictures) return;
        plot::Chart chart;
        chart.title = "NF-VAE (" + o.shape.flow + " K=" + std::to_string(o.shape.layers) + "): ELBO per data point";
        chart.xlabel = "epoch";
        chart.ylabel = "ELBO (nats)";
        chart.series.push_back({"train (beta = 1, running mean over the epoch)", curve_epoch, curve_train, plot::palette(0)});
        chart.series.push_back({"validation", curve_epoch, curve_valid, plot::palette(1)});
        write_chart(o.out + "/elbo", chart);
        // 100 samples from the prior (the same z every epoch), and 50 validation digits each
        // beside its reconstruction.
        Graph pg;
        Rng pr(o.seed, kPictureStream);
        Var z = pg.input(Shape{100, o.shape.latent});
        pr.normal(z.data(), z.value().numel());
        Var p = sigmoid(decode(pg, model, z));
        const int rows = data.train.rows, cols = data.train.cols;
        write_png(o.out + "/samples.png", digit_grid({p.data(), static_cast<std::size_t>(p.value().numel())}, 100, rows, cols, 10, 2));
        const int pairs = std::min(50, data.validation.count);
        if (pairs > 0) {
            pg.clear();
            Var xv = pg.input(TensorRef{const_cast<real*>(valid.data()), Shape{pairs, X}});
            Var rec = sigmoid(vae_terms(pg, model, xv, pr, 1).logits);
            std::vector<real> both(static_cast<std::size_t>(2 * pairs * X));
            for (int i = 0; i < pairs; ++i) {
                std::copy_n(valid.data() + static_cast<std::int64_t>(i) * X, X, both.begin() + 2 * i * X);
                std::copy_n(rec.data() + static_cast<std::int64_t>(i) * X, X, both.begin() + (2 * i + 1) * X);
            }
            write_png(o.out + "/reconstructions.png", digit_grid(both, 2 * pairs, rows, cols, 10, 2));
        }
    };

    while (st.step < total) {
        const std::int64_t e = st.step / per_epoch, i = st.step % per_epoch;
        if (e != perm_epoch) {
            std::iota(perm.begin(), perm.end(), 0);
            Rng(o.seed, kShuffleStream + static_cast<std::uint64_t>(e)).shuffle(perm.data(), N);
            perm_epoch = e;
        }
        Rng bin(o.seed, kDynamicStream + static_cast<std::uint64_t>(e));
        bin.skip(static_cast<std::uint64_t>(i * B) * blocks_per_image);
        fill_batch(data.train, std::span<const int>(perm).subspan(static_cast<std::size_t>(i * B), static_cast<std::size_t>(B)), mode,
                   &bin, xb.data());

        auto t0 = std::chrono::steady_clock::now();
        const real beta = static_cast<real>(anneal_beta(st.step, o.anneal));
        g.clear();
        opt->zero_grad();
        VaeTerms terms = vae_terms(g, model, g.input(xb), rng, o.samples);
        Var loss = vae_loss(terms, beta);
        const double l = loss.item();
        if (!std::isfinite(l)) {
            ++skipped;
            if (o.on_nan == "skip" && ++skipped_in_a_row < kMaxSkippedInARow) {
                ++st.step;  // the update is skipped: its batch and ε are used up, nothing changes
                if (st.step % per_epoch == 0 || st.step == total) end_epoch();
                if (st.step % o.checkpoint_every == 0 || st.step == total) save();
                continue;
            }
            progress.finish();
            std::ostringstream msg;
            msg << "the loss became " << l << " at update " << st.step + 1 << " (epoch " << e + 1 << ")";
            if (o.on_nan == "skip") msg << ", " << kMaxSkippedInARow << " updates in a row";
            msg << "; the run diverged and stopped. ";
            if (saved_step >= 0)
                msg << "The last good checkpoint (update " << saved_step << ") is kept in '" << ckpt_path << "'";
            else
                msg << "No checkpoint was written yet";
            msg << "; try a smaller --lr or a longer --anneal";
            throw std::runtime_error(msg.str());
        }
        skipped_in_a_row = 0;
        g.backward(loss);
        opt->step();
        train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++trained_steps;
        st.epoch_sum += elbo_sum(terms);
        ++st.epoch_count;
        ++st.step;
        if ((st.step & 15) == 0) progress.update(st.step, "loss", l);
        if (st.step % per_epoch == 0 || st.step == total) end_epoch();
        if (st.step % o.checkpoint_every == 0 || st.step == total) save();
        if (g_signal != 0) {
            save();
            progress.finish();
            std::fprintf(stderr, "nfvi: stopped by signal %d after update %lld; checkpoint written to '%s'; continue with --resume\n",
                         static_cast<int>(g_signal), static_cast<long long>(st.step), ckpt_path.c_str());
            throw Interrupted{static_cast<int>(g_signal)};
        }
    }
    progress.finish();
    if (curve_epoch.empty() || trained_steps == 0) {
        // Nothing to train (a finished run resumed): report the final state again.
        Rng vr(o.seed, kValidStream + static_cast<std::uint64_t>(std::max<std::int64_t>(0, (st.step - 1) / per_epoch)));
        VaeEvaluation v = evaluate_elbo(model, valid.data(), data.validation.count, vr);
        r.validation_elbo = v.elbo;
        r.validation_kl = v.kl;
        r.validation_log_px = v.log_px;
        if (!curve_train.empty()) r.train_elbo = curve_train.back();
    }
    r.steps = st.step;
    r.seconds = train_seconds;
    r.samples_per_second = static_cast<double>(trained_steps * B) / std::max(train_seconds, 1e-9);

    io::Json summary = io::Json::object();
    summary["command"] = "vae train";
    summary["settings"] = io::Json::parse(settings);
    summary["steps"] = static_cast<double>(r.steps);
    summary["epochs"] = static_cast<double>(r.steps) / static_cast<double>(per_epoch);
    summary["elbo"] = r.validation_elbo;
    summary["train_elbo"] = r.train_elbo;
    summary["kl"] = r.validation_kl;
    summary["log_px"] = r.validation_log_px;
    summary["seconds"] = r.seconds;
    summary["samples_per_second"] = r.samples_per_second;
    summary["threads"] = o.threads;
    summary["skipped_updates"] = static_cast<double>(skipped);
    summary["note"] = "elbo, kl and log_px are validation means with one sample per image; seconds counts training updates only";
    io::write_file_atomic(o.out + "/summary.json", summary.dump() + "\n");
    return r;
}

}  // namespace nfvi::cli
