// `nfvi potential`: train q_K on exp(−U), estimate KL(q‖p) against quadrature log Z, and
// write the pictures, log.csv, summary.json and params.json into --out.
#include "src/potential.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

#include "autodiff/autodiff.h"
#include "models/vi.h"
#include "src/args.h"
#include "src/io/files.h"
#include "src/io/json.h"
#include "src/outputs.h"
#include "src/plot/figures.h"
#include "src/progress.h"
#include "src/training.h"

namespace nfvi::cli {

namespace {

constexpr double kBox = 8;          // quadrature over [−8, 8]²
constexpr int kPictureBins = 300;   // density pictures: 300 × 300 cells

double picture_range(const std::string& target) { return target == "U8" ? 5 : 4; }

std::unique_ptr<Optimizer> make_optimizer(const PotentialOptions& o, const ParameterList& ps) {
    if (o.optimizer == "rmsprop")
        return std::make_unique<RMSprop>(ps, RMSpropOptions{.lr = static_cast<real>(o.lr), .momentum = 0.9f});
    return std::make_unique<Adam>(ps, AdamOptions{.lr = static_cast<real>(o.lr)});
}

// exp(−U − log Z) on the picture grid, top row first.
std::vector<double> true_density(const EnergyFn& u, double log_z, double range, int bins) {
    Graph g;
    Var z = g.input(Shape{bins * bins, 2});
    const double h = 2 * range / bins;
    for (int iy = 0; iy < bins; ++iy)
        for (int ix = 0; ix < bins; ++ix) {
            std::int64_t k = static_cast<std::int64_t>(iy) * bins + ix;
            z.data()[2 * k] = static_cast<real>(-range + h * (ix + 0.5));
            z.data()[2 * k + 1] = static_cast<real>(range - h * (iy + 0.5));
        }
    Var e = u(z);
    std::vector<double> d(static_cast<std::size_t>(bins * bins));
    for (std::size_t k = 0; k < d.size(); ++k) d[k] = std::exp(-static_cast<double>(e.data()[k]) - log_z);
    return d;
}

// Samples of q_K, in chunks; xs/ys of z_K.
void draw_samples(FlowModel& m, Rng& rng, std::int64_t n, std::vector<double>& xs, std::vector<double>& ys) {
    Graph g;
    xs.clear();
    ys.clear();
    for (std::int64_t done = 0; done < n;) {
        int c = static_cast<int>(std::min<std::int64_t>(10000, n - done));  // the tape of a chunk stays small
        g.clear();
        FlowSample s = sample_flow(g, m, rng, c);
        for (int i = 0; i < c; ++i) {
            xs.push_back(s.z.data()[2 * i]);
            ys.push_back(s.z.data()[2 * i + 1]);
        }
        done += c;
    }
}

// About 12 panels: z0 and the samples after evenly spaced layers up to K.
plot::Image layers_picture(FlowModel& m, Rng& rng, double range, const std::string& title) {
    const int n = 4000, K = m.flow.size();
    Graph g;
    std::vector<Var> trace;
    FlowSample s = sample_flow(g, m, rng, n, &trace);
    std::vector<double> dist(static_cast<std::size_t>(n));
    double dmax = 0;
    for (int i = 0; i < n; ++i) {
        double dx = s.z0.data()[2 * i] - m.base.mu.value[0], dy = s.z0.data()[2 * i + 1] - m.base.mu.value[1];
        dist[static_cast<std::size_t>(i)] = std::hypot(dx, dy);
        dmax = std::max(dmax, dist[static_cast<std::size_t>(i)]);
    }
    for (double& d : dist) d /= dmax > 0 ? dmax : 1;
    std::vector<int> shown = {0};
    const int panels = std::min(K, 11);
    for (int p = 1; p <= panels; ++p) shown.push_back(static_cast<int>(std::lround(double(p) * K / panels)));
    std::vector<plot::Image> images;
    std::vector<double> xs(static_cast<std::size_t>(n)), ys(static_cast<std::size_t>(n));
    for (int k : shown) {
        Var z = k == 0 ? s.z0 : trace[static_cast<std::size_t>(k - 1)];
        for (int i = 0; i < n; ++i) {
            xs[static_cast<std::size_t>(i)] = z.data()[2 * i];
            ys[static_cast<std::size_t>(i)] = z.data()[2 * i + 1];
        }
        // Middle layers can move samples far out: each panel covers the square that holds
        // 99% of them (at least the picture range), and its label says how far it reaches.
        std::vector<double> extent(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i)
            extent[static_cast<std::size_t>(i)] = std::max(std::abs(xs[static_cast<std::size_t>(i)]), std::abs(ys[static_cast<std::size_t>(i)]));
        std::nth_element(extent.begin(), extent.begin() + n * 99 / 100, extent.end());
        const double r = std::max(range, 1.05 * extent[static_cast<std::size_t>(n * 99 / 100)]);
        char label[64];
        std::snprintf(label, sizeof label, "layer %d  (+-%.3g)", k, r);
        images.push_back(plot::scatter_panel(xs, ys, dist, -r, r, -r, r, 220, label));
    }
    return plot::montage(images, std::min<int>(6, static_cast<int>(images.size())), 8, plot::kWhite, title);
}

io::Json settings_json(const PotentialOptions& o, bool tapered) {
    io::Json s = io::Json::object();
    s["target"] = o.target;
    s["flow"] = o.flow;
    s["layers"] = o.layers;
    s["steps"] = static_cast<double>(o.steps);
    s["batch"] = o.batch;
    s["lr"] = o.lr;
    s["optimizer"] = o.optimizer;
    s["anneal"] = static_cast<double>(o.anneal);
    s["seed"] = static_cast<double>(o.seed);
    s["threads"] = o.threads;
    s["taper"] = tapered;
    s["real"] = NFVI_REAL_IS_DOUBLE ? "double" : "float";
    return s;
}

io::Json params_json(FlowModel& m, const PotentialOptions& o) {
    io::Json p = io::Json::object();
    p["format"] = "nfvi-flow-params-1";
    p["target"] = o.target;
    p["dim"] = m.flow.dim();
    io::Json base = io::Json::object();
    io::Json mu = io::Json::array(), sigma = io::Json::array();
    for (int d = 0; d < m.flow.dim(); ++d) {
        mu.push_back(static_cast<double>(m.base.mu.value[d]));
        sigma.push_back(m.base.sigma(d));
    }
    base["mu"] = mu;
    base["sigma"] = sigma;
    p["base"] = base;
    io::Json layers = io::Json::array();
    for (int k = 0; k < m.flow.size(); ++k) {
        const FlowLayer& l = m.flow.layer(k);
        io::Json layer = io::Json::object();
        layer["kind"] = l.kind();
        std::span<const real> row(m.flow_params.value.data() + m.flow.offset(k), static_cast<std::size_t>(l.num_params()));
        for (const NamedValues& nv : l.describe(row)) {
            io::Json values = io::Json::array();
            for (double v : nv.values) values.push_back(v);
            layer[nv.name] = values;
        }
        layers.push_back(layer);
    }
    p["layers"] = layers;
    return p;
}

}  // namespace

PotentialResult run_potential(const PotentialOptions& o) {
    const Target& target = find_target(o.target);
    if (!is_flow_kind(o.flow))
        throw UsageError("unknown flow '" + o.flow + "' (known: " + std::string(flow_kinds()) + ")");
    io::ensure_directory(o.out);
    set_num_threads(o.threads);
    const bool tapered = uses_taper(target, o.taper);
    EnergyFn energy = make_energy(target, o.taper);

    FlowModel model(o.flow, 2, o.layers, o.seed);
    const ParameterList params = model.params();
    std::unique_ptr<Optimizer> opt = make_optimizer(o, params);
    Rng rng(o.seed, 1);
    Graph g;

    const std::int64_t log_every = std::max<std::int64_t>(1, o.steps / 1000);
    std::vector<double> log_step, log_loss;  // reserved: the loop allocates nothing per step
    log_step.reserve(static_cast<std::size_t>(o.steps / log_every + 2));
    log_loss.reserve(log_step.capacity());
    std::vector<float> losses(static_cast<std::size_t>(o.steps));
    Progress progress("potential " + o.target, o.steps, o.progress);
    auto t0 = std::chrono::steady_clock::now();
    double interval_sum = 0;
    for (std::int64_t t = 0; t < o.steps; ++t) {
        const real beta = static_cast<real>(anneal_beta(t, o.anneal));
        g.clear();
        opt->zero_grad();
        Var loss = free_energy(g, model, energy, rng, o.batch, beta);
        const double l = loss.item();
        if (!std::isfinite(l)) diverged(progress, "loss", l, t + 1, "try a smaller --lr or more --anneal");
        g.backward(loss);
        opt->step();
        losses[static_cast<std::size_t>(t)] = static_cast<float>(l);
        interval_sum += l;
        if ((t + 1) % log_every == 0 || t + 1 == o.steps) {
            std::int64_t count = (t + 1) % log_every == 0 ? log_every : (t + 1) % log_every;
            log_step.push_back(static_cast<double>(t + 1));
            log_loss.push_back(interval_sum / static_cast<double>(count));
            interval_sum = 0;
        }
        if ((t & 63) == 0) progress.update(t + 1, "loss", l);
    }
    progress.update(o.steps, "loss", losses.back());
    progress.finish();
    PotentialResult r;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    r.steps_per_second = static_cast<double>(o.steps) / std::max(r.seconds, 1e-9);
    r.final_loss = mean_of_last(losses);

    // Evaluation: log Z by quadrature (checked on a grid half as fine), KL from fresh samples.
    auto te = std::chrono::steady_clock::now();
    r.log_z = log_z_quadrature(energy, kBox, o.grid);
    r.log_z_check = log_z_quadrature(energy, kBox, std::max(2, o.grid / 2));
    Rng eval_rng(o.seed, 2);
    FreeEnergyEstimate fe = estimate_free_energy(model, energy, eval_rng, o.kl_samples);
    r.kl = fe.mean + r.log_z;
    r.kl_std_error = fe.std_error;
    r.range = picture_range(o.target);

    // log.csv: the mean loss over each logging interval.
    {
        std::string csv = "step,beta,loss,loss_plus_log_z\n";
        for (std::size_t i = 0; i < log_step.size(); ++i) {
            std::int64_t step = static_cast<std::int64_t>(log_step[i]);
            csv += io::csv_row({log_step[i], anneal_beta(step - 1, o.anneal), log_loss[i], log_loss[i] + r.log_z});
        }
        io::write_file_atomic(o.out + "/log.csv", csv);
    }

    if (o.pictures) {
        const int bins = kPictureBins;
        const std::string tag = o.target + (tapered ? " (tapered)" : "");
        std::vector<double> truth = true_density(energy, r.log_z, r.range, bins);
        double vmax = *std::max_element(truth.begin(), truth.end());
        plot::HeatmapOptions ho;
        ho.size_px = 480;
        ho.xmin = ho.ymin = -r.range;
        ho.xmax = ho.ymax = r.range;
        ho.title = "true density " + tag;
        write_png(o.out + "/true_density.png", plot::heatmap(truth, bins, bins, vmax, ho));

        std::vector<double> xs, ys;
        Rng pic_rng(o.seed, 3);
        draw_samples(model, pic_rng, o.density_samples, xs, ys);
        r.density = plot::histogram2d(xs, ys, -r.range, r.range, -r.range, r.range, bins);
        // histogram2d normalizes over the points inside the picture; rescale so the picture
        // shows q itself (mass outside the range is part of q too), like the true density.
        std::size_t inside = 0;
        for (std::size_t i = 0; i < xs.size(); ++i)
            inside += std::abs(xs[i]) < r.range && std::abs(ys[i]) < r.range;
        for (double& v : r.density) v *= static_cast<double>(inside) / static_cast<double>(std::max<std::size_t>(xs.size(), 1));
        r.density_bins = bins;
        ho.title = "learned q_K, " + o.flow + " K=" + std::to_string(o.layers);
        write_png(o.out + "/learned_density.png", plot::heatmap(r.density, bins, bins, vmax, ho));

        write_png(o.out + "/layers.png",
                  layers_picture(model, pic_rng, r.range, "samples through the flow, " + o.flow + " on " + tag));

        plot::Chart chart;
        chart.title = "training: loss + log Z (the KL once beta = 1)";
        chart.xlabel = "step";
        chart.ylabel = "loss + log Z";
        plot::Series s{"loss + log Z", log_step, {}, plot::palette(0)};
        for (double l : log_loss) s.y.push_back(l + r.log_z);
        chart.series.push_back(s);
        write_chart(o.out + "/kl", chart);
    }

    io::Json summary = io::Json::object();
    summary["command"] = "potential";
    summary["settings"] = settings_json(o, tapered);
    summary["final_loss"] = r.final_loss;
    summary["kl"] = r.kl;
    summary["kl_std_error"] = r.kl_std_error;
    summary["kl_samples"] = static_cast<double>(fe.samples);
    summary["log_z"] = r.log_z;
    summary["log_z_quadrature"] = log_z_quadrature_json("midpoint rule on [-8,8]^2", o.grid, r.log_z, r.log_z_check);
    summary["taper"] = tapered ? "density multiplied by sigmoid(10*(5 - max|z_i|)): U2-U4 are not "
                                 "normalizable on R^2 without it"
                               : "none";
    summary["seconds"] = r.seconds;
    summary["steps_per_second"] = r.steps_per_second;
    summary["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();
    summary["note"] = "kl = E_q[log q + U] + log Z from fresh samples; sample estimates are noisy and can be slightly negative";
    io::write_file_atomic(o.out + "/params.json", params_json(model, o).dump() + "\n");
    io::write_file_atomic(o.out + "/summary.json", summary.dump() + "\n");
    return r;
}

int potential_command(int argc, char** argv) {
    Args a("potential", argc, argv, 2,
           {"--target", "--flow", "--layers", "--steps", "--batch", "--lr", "--optimizer", "--anneal",
            "--seed", "--threads", "--out", "--kl-samples", "--grid", "--density-samples"},
           {"--taper", "--no-pictures", "--quiet"});
    PotentialOptions o;
    o.target = a.choice("--target", o.target, {"U1", "U2", "U3", "U4", "U8"});
    o.flow = a.choice("--flow", o.flow, {"planar", "radial", "nice-perm", "nice-orth"});
    o.layers = static_cast<int>(a.integer("--layers", o.layers, 1, 10000));
    o.steps = a.integer("--steps", o.steps, 1, 1'000'000'000);
    o.batch = static_cast<int>(a.integer("--batch", o.batch, 1, 10'000'000));
    o.lr = a.positive("--lr", o.lr);
    o.optimizer = a.choice("--optimizer", o.optimizer, {"adam", "rmsprop"});
    o.anneal = a.integer("--anneal", o.anneal, 0, 1'000'000'000);
    o.seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer("--threads", o.threads, 1, 256));
    o.out = a.str("--out", o.out);
    o.kl_samples = a.integer("--kl-samples", o.kl_samples, 1, 1'000'000'000);
    o.grid = static_cast<int>(a.integer("--grid", o.grid, 2, 20000));
    o.density_samples = a.integer("--density-samples", o.density_samples, 1, 1'000'000'000);
    o.taper = a.has("--taper");
    o.pictures = !a.has("--no-pictures");
    o.progress = !a.has("--quiet");
    PotentialResult r = run_potential(o);
    std::printf("%s %s K=%d: final loss %.4f, KL %.4f ± %.4f (log Z %.4f), %.1f s, %.0f steps/s -> %s\n",
                o.target.c_str(), o.flow.c_str(), o.layers, r.final_loss, r.kl, r.kl_std_error, r.log_z,
                r.seconds, r.steps_per_second, o.out.c_str());
    return 0;
}

}  // namespace nfvi::cli
