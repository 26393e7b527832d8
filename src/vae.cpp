// `nfvi vae train | eval | sample`: flags, presets, and the eval and sample programs.
#include "src/vae.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "autodiff/autodiff.h"
#include "src/args.h"
#include "src/io/checkpoint.h"
#include "src/io/files.h"
#include "src/outputs.h"
#include "src/vae_data.h"
#include "src/vae_state.h"

namespace nfvi::cli {

void apply_vae_preset(const std::string& name, VaeOptions& o) {
    if (name == "reference") {
        // ../shared/reference/torch_nfvae.py with z = 32.
        o.shape.latent = 32;
        o.shape.hidden = {512, 512};
        o.shape.activation = Activation::Elu;
        o.optimizer = "adam";
        o.lr = 1e-4;
        o.batch = 128;
        o.samples = 1;
        o.anneal = 0;
    } else if (name == "paper") {
        // Rezende & Mohamed 2015, section 6.2.
        o.shape.latent = 40;
        o.shape.hidden = {400};
        o.shape.activation = Activation::Maxout;
        o.shape.pieces = 2;
        o.optimizer = "rmsprop";
        o.lr = 1e-5;
        o.momentum = 0.9;
        o.batch = 100;
        o.samples = 1;
        o.anneal = 10000;
    } else {
        throw UsageError("unknown --preset '" + name + "' (known: reference, paper)");
    }
    o.preset = name;
}

VaeEvalResult run_vae_eval(const VaeEvalOptions& o) {
    io::Checkpoint c = io::Checkpoint::load(o.checkpoint);
    VaeEvalResult r;
    // By default beside the checkpoint, in eval/ (the training run's own summary.json stays).
    r.out = o.out;
    if (r.out.empty()) {
        const std::string dir = std::filesystem::path(c.source()).parent_path().string();
        r.out = (dir.empty() ? std::string(".") : dir) + "/eval";
    }
    io::Json settings = checkpoint_settings(c);
    std::unique_ptr<Vae> m = load_vae_model(c);
    const io::Json* tr = settings.find("training");
    const std::string data_dir =
        !o.data.empty() ? o.data : (tr && tr->find("data") && tr->at("data").is_string() ? tr->at("data").as_string() : "data/mnist");
    VaeData d = load_vae_data(data_dir, 0, 0);
    if (d.test.dim() != m->shape().data_dim)
        throw UsageError("the test images in '" + data_dir + "' have " + std::to_string(d.test.dim()) +
                         " pixels, the model was trained on " + std::to_string(m->shape().data_dim));
    io::ensure_directory(r.out);
    set_num_threads(o.threads);
    const bool dynamic = tr && tr->find("binarize") && tr->at("binarize").is_string() && tr->at("binarize").as_string() == "dynamic";
    Rng bin(o.seed, 0x54455354);  // "TEST": one fixed draw of a dynamically binarized test set
    Tensor x = binarized(d.test, dynamic ? Binarize::Dynamic : Binarize::Threshold, &bin);
    const int n = std::min(o.points, d.test.count), K = o.importance_samples;

    auto t0 = std::chrono::steady_clock::now();
    Rng er(o.seed, 1);
    VaeEvaluation e = evaluate_elbo(*m, x.data(), d.test.count, er);
    std::vector<double> nll(static_cast<std::size_t>(n));
    Rng ir(o.seed, 2);
    importance_nll(*m, x.data(), n, K, ir, nll);
    double mean = 0, sq = 0;
    for (double v : nll) mean += v / n;
    for (double v : nll) sq += (v - mean) * (v - mean);
    // −ELBO on the same points as the NLL, for the KL gap.
    Rng er2(o.seed, 1);
    VaeEvaluation en = evaluate_elbo(*m, x.data(), n, er2);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.elbo = e.elbo;
    r.nll = mean;
    r.nll_std_error = n > 1 ? std::sqrt(sq / (n - 1) / n) : 0;
    r.nll_points = n;
    r.elbo_on_nll_points = en.elbo;
    r.kl = -en.elbo - mean;

    io::Json s = io::Json::object();
    s["command"] = "vae eval";
    s["checkpoint"] = c.source();
    s["settings"] = settings;
    s["elbo"] = e.elbo;
    s["elbo_points"] = e.points;
    s["log_px"] = e.log_px;
    s["nll"] = r.nll;
    s["nll_std_error"] = r.nll_std_error;
    s["nll_points"] = n;
    s["importance_samples"] = K;
    s["elbo_on_nll_points"] = en.elbo;
    s["kl"] = r.kl;
    s["seconds"] = r.seconds;
    s["samples_per_second"] = static_cast<double>(n) * K / std::max(r.seconds, 1e-9);
    s["note"] = "elbo: one-sample test ELBO over the whole test set; nll: importance-sampled -log p(x) with "
                "importance_samples draws of q(z|x) on the first nll_points test images; kl = -ELBO - nll on those points";
    io::write_file_atomic(r.out + "/summary.json", s.dump() + "\n");
    return r;
}

namespace {

std::vector<int> parse_sizes(const std::string& flag, const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        char* end = nullptr;
        long v = std::strtol(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || v < 1 || v > 100000)
            throw UsageError(flag + " wants layer sizes like 512,512 (each 1..100000), got '" + text + "'");
        out.push_back(static_cast<int>(v));
    }
    if (out.empty()) throw UsageError(flag + " wants at least one layer size, e.g. 512,512");
    return out;
}

int train_command(int argc, char** argv) {
    Args a("vae train", argc, argv, 3,
           {"--data", "--preset", "--flow", "--layers", "--latent", "--hidden", "--activation", "--maxout-pieces",
            "--binarize", "--validation", "--train-limit", "--batch", "--epochs", "--updates", "--samples",
            "--optimizer", "--lr", "--momentum", "--anneal", "--output-bias", "--seed", "--threads", "--checkpoint-every", "--out", "--on-nan"},
           {"--resume", "--no-pictures", "--quiet"});
    VaeOptions o;
    apply_vae_preset(a.choice("--preset", "reference", {"reference", "paper"}), o);
    o.data = a.str("--data", o.data);
    o.shape.flow = a.choice("--flow", o.shape.flow, {"planar", "radial", "nice-perm", "nice-orth"});
    o.shape.layers = static_cast<int>(a.integer("--layers", 16, 0, 1000));
    o.shape.latent = static_cast<int>(a.integer("--latent", o.shape.latent, 1, 100000));
    if (a.has("--hidden")) o.shape.hidden = parse_sizes("--hidden", a.str("--hidden", ""));
    const std::string act = a.choice("--activation", std::string(to_string(o.shape.activation)), {"elu", "relu", "tanh", "maxout"});
    parse_activation(act, o.shape.activation);
    o.shape.pieces = static_cast<int>(a.integer("--maxout-pieces", o.shape.pieces, 2, 64));
    o.binarize = a.choice("--binarize", o.binarize, {"threshold", "dynamic"});
    o.validation = static_cast<int>(a.integer("--validation", o.validation, 0, 10'000'000));
    o.train_limit = static_cast<int>(a.integer("--train-limit", 0, 0, 10'000'000));
    o.batch = static_cast<int>(a.integer("--batch", o.batch, 1, 1'000'000));
    o.epochs = static_cast<int>(a.integer("--epochs", o.epochs, 1, 1'000'000));
    o.updates = a.integer("--updates", 0, 0, 1'000'000'000'000);
    o.samples = static_cast<int>(a.integer("--samples", o.samples, 1, 100000));
    o.optimizer = a.choice("--optimizer", o.optimizer, {"adam", "rmsprop"});
    o.lr = a.positive("--lr", o.lr);
    o.momentum = a.number("--momentum", o.momentum, 0, 0.999999);
    o.anneal = a.integer("--anneal", o.anneal, 0, 1'000'000'000'000);
    o.output_bias = a.choice("--output-bias", o.output_bias, {"data", "zero"});
    o.seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer("--threads", o.threads, 1, 256));
    o.checkpoint_every = a.integer("--checkpoint-every", o.checkpoint_every, 1, 1'000'000'000'000);
    o.out = a.str("--out", o.out);
    o.resume = a.has("--resume");
    o.on_nan = a.choice("--on-nan", o.on_nan, {"stop", "skip"});
    o.pictures = !a.has("--no-pictures");
    o.progress = !a.has("--quiet");
    VaeTrainResult r = run_vae_train(o);
    std::printf("vae %s K=%d: %lld updates, validation ELBO %.2f (KL %.2f), train ELBO %.2f, %.0f samples/s -> %s\n",
                o.shape.flow.c_str(), o.shape.layers, static_cast<long long>(r.steps), r.validation_elbo, r.validation_kl,
                r.train_elbo, r.samples_per_second, o.out.c_str());
    return 0;
}

io::Checkpoint open_checkpoint(const Args& a) {
    if (!a.has("--checkpoint")) throw UsageError("--checkpoint FILE is required (e.g. runs/vae/checkpoint.nfvi)");
    return io::Checkpoint::load(a.str("--checkpoint", ""));
}

int eval_command(int argc, char** argv) {
    Args a("vae eval", argc, argv, 3, {"--checkpoint", "--data", "--importance-samples", "--points", "--seed", "--threads", "--out"});
    VaeEvalOptions o;
    o.importance_samples = static_cast<int>(a.integer("--importance-samples", o.importance_samples, 1, 10'000'000));
    o.points = static_cast<int>(a.integer("--points", o.points, 1, 10'000'000));
    o.seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer("--threads", 1, 1, 256));
    if (!a.has("--checkpoint")) throw UsageError("--checkpoint FILE is required (e.g. runs/vae/checkpoint.nfvi)");
    o.checkpoint = a.str("--checkpoint", "");
    o.data = a.str("--data", "");
    o.out = a.str("--out", "");
    VaeEvalResult r = run_vae_eval(o);
    std::printf("test ELBO %.2f, -log p(x) %.2f ± %.2f (K = %d, %d images), KL %.2f, %.1f s -> %s/summary.json\n", r.elbo, r.nll,
                r.nll_std_error, o.importance_samples, r.nll_points, r.kl, r.seconds, r.out.c_str());
    return 0;
}

int sample_command(int argc, char** argv) {
    Args a("vae sample", argc, argv, 3, {"--checkpoint", "--count", "--columns", "--seed", "--out"});
    const int count = static_cast<int>(a.integer("--count", 100, 1, 10000));
    const int columns = static_cast<int>(a.integer("--columns", std::min(count, 10), 1, 1000));
    const auto seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    if (!a.has("--out")) throw UsageError("--out FILE.png is required");
    const std::string out = a.str("--out", "");
    io::Checkpoint c = open_checkpoint(a);
    io::Json settings = checkpoint_settings(c);
    std::unique_ptr<Vae> m = load_vae_model(c);
    const io::Json& tr = settings.at("training");
    const int rows = static_cast<int>(tr.at("image_rows").as_number()), cols = static_cast<int>(tr.at("image_cols").as_number());
    if (rows * cols != m->shape().data_dim) throw io::FormatError("checkpoint '" + c.source() + "': image size does not match the model");
    Graph g;
    Rng rng(seed, 3);
    Var z = g.input(Shape{count, m->shape().latent});
    rng.normal(z.data(), z.value().numel());
    Var p = sigmoid(decode(g, *m, z));
    const std::filesystem::path dir = std::filesystem::path(out).parent_path();
    if (!dir.empty()) io::ensure_directory(dir.string());
    write_png(out, digit_grid({p.data(), static_cast<std::size_t>(p.value().numel())}, count, rows, cols, columns, 2));
    std::printf("%d samples -> %s\n", count, out.c_str());
    return 0;
}

}  // namespace

int vae_command(int argc, char** argv) {
    if (argc < 3) throw UsageError("nfvi vae needs a subcommand: train, eval or sample (try: nfvi help)");
    const std::string sub = argv[2];
    try {
        if (sub == "train") return train_command(argc, argv);
        if (sub == "eval") return eval_command(argc, argv);
        if (sub == "sample") return sample_command(argc, argv);
    } catch (const Interrupted& i) {
        return 128 + i.signal;
    }
    throw UsageError("unknown subcommand 'vae " + sub + "' (known: train, eval, sample)");
}

}  // namespace nfvi::cli
