// `nfvi conditional`: train one network θ → q(z | θ) on the rotated two-mode ring, estimate
// KL(q(·|θ) ‖ p(·|θ)) at evenly spaced angles against quadrature log Z, and write the frames,
// the GIF, the charts, log.csv and summary.json into --out.
//
// Legend: B angles per step, S samples per angle, K flow layers.
#include "src/conditional.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <sstream>

#include "autodiff/autodiff.h"
#include "models/conditional.h"
#include "src/args.h"
#include "src/io/files.h"
#include "src/io/gif.h"
#include "src/io/json.h"
#include "src/outputs.h"
#include "src/plot/colormap.h"
#include "src/plot/figures.h"
#include "src/plot/font.h"
#include "src/progress.h"
#include "src/training.h"

namespace nfvi::cli {

namespace {

constexpr double kPi = std::numbers::pi;
constexpr double kBox = 8;      // quadrature over [−8, 8]²
constexpr double kRange = 4;    // pictures cover [−4, 4]²
constexpr int kPanel = 300;     // frame panels: 300 × 300 pixels
constexpr int kChunk = 10000;   // samples per tape when drawing pictures

std::string format(const char* fmt, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, fmt, v);
    return buf;
}

// The angles of the frames: n evenly spaced in [−π, π], both ends included.
std::vector<double> eval_angles(int n) {
    std::vector<double> a(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) a[static_cast<std::size_t>(i)] = n == 1 ? 0 : -kPi + 2 * kPi * i / (n - 1);
    return a;
}

// exp(−U(R_θ z) − log Z) on the picture grid, top row first.
std::vector<double> true_density(double angle, double log_z, int bins) {
    Graph g;
    Var z = g.input(Shape{bins * bins, 2});
    const double h = 2 * kRange / bins;
    for (int iy = 0; iy < bins; ++iy)
        for (int ix = 0; ix < bins; ++ix) {
            const std::int64_t k = static_cast<std::int64_t>(iy) * bins + ix;
            z.data()[2 * k] = static_cast<real>(-kRange + h * (ix + 0.5));
            z.data()[2 * k + 1] = static_cast<real>(kRange - h * (iy + 0.5));
        }
    Var e = rotated_ring_energy(z, g.constant(Shape{1, 1}, static_cast<real>(angle)));
    std::vector<double> d(static_cast<std::size_t>(bins * bins));
    for (std::size_t k = 0; k < d.size(); ++k) d[k] = std::exp(-static_cast<double>(e.data()[k]) - log_z);
    return d;
}

// q(z | θ) on the picture grid: the histogram of n samples, scaled so that it shows q's own
// mass (samples outside the picture count too).
std::vector<double> learned_density(ConditionalFlow& m, double angle, Rng& rng, std::int64_t n, int bins) {
    std::vector<double> xs, ys;
    xs.reserve(static_cast<std::size_t>(n));
    ys.reserve(static_cast<std::size_t>(n));
    Graph g;
    for (std::int64_t done = 0; done < n;) {
        const int c = static_cast<int>(std::min<std::int64_t>(kChunk, n - done));
        g.clear();
        ConditionalSample s = sample_conditional(g, m, static_cast<real>(angle), c, rng);
        for (int i = 0; i < c; ++i) {
            xs.push_back(s.z.data()[2 * i]);
            ys.push_back(s.z.data()[2 * i + 1]);
        }
        done += c;
    }
    std::vector<double> d = plot::histogram2d(xs, ys, -kRange, kRange, -kRange, kRange, bins);
    std::size_t inside = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) inside += std::abs(xs[i]) < kRange && std::abs(ys[i]) < kRange;
    for (double& v : d) v *= static_cast<double>(inside) / static_cast<double>(std::max<std::size_t>(xs.size(), 1));
    return d;
}

// The angle on a dial (anticlockwise from the +x axis, as the rotation R_θ turns) and on an
// axis from −π to π below it; `size` pixels square. (p(z | θ) itself turns the other way: its
// modes sit where R_θ z = (±2, 0), at z = ±2·(cos θ, −sin θ).)
plot::Image dial_panel(double angle, int size) {
    using plot::Rgb;
    const Rgb ink{40, 40, 40}, faint{170, 170, 170}, hand = plot::colormap(0.15), mark = plot::colormap(0.6);
    plot::Image img(size, size, plot::kWhite);
    const double cx = size / 2.0, cy = size * 0.35, r = size * 0.25;
    std::vector<double> xs, ys;
    for (int i = 0; i <= 180; ++i) {
        const double t = 2 * kPi * i / 180;
        xs.push_back(cx + r * std::cos(t));
        ys.push_back(cy - r * std::sin(t));
    }
    img.polyline(xs, ys, faint, 2);
    const char* labels[] = {"0", "pi/2", "pi", "-pi/2"};
    for (int k = 0; k < 4; ++k) {
        const double t = k * kPi / 2, c = std::cos(t), s = std::sin(t);
        img.line(cx + 0.88 * r * c, cy - 0.88 * r * s, cx + r * c, cy - r * s, ink, 2);
        const int tx = static_cast<int>(cx + 1.22 * r * c);
        const int ty = static_cast<int>(cy - 1.22 * r * s) - plot::text_height(2) / 2;
        plot::draw_text_centered(img, tx, ty, labels[k], ink, 2);
    }
    img.line(cx, cy, cx + 0.95 * r * std::cos(angle), cy - 0.95 * r * std::sin(angle), hand, 5);
    img.dot(cx, cy, 6, hand);
    // The axis.
    const double x0 = size * 0.12, x1 = size * 0.88, ay = size * 0.86;  // below the dial's labels
    img.line(x0, ay, x1, ay, faint, 2);
    const char* ends[] = {"-pi", "0", "pi"};
    for (int k = 0; k < 3; ++k) {
        const double x = x0 + (x1 - x0) * k / 2;
        img.line(x, ay - 5, x, ay + 5, ink, 2);
        plot::draw_text_centered(img, static_cast<int>(x), static_cast<int>(ay) + 10, ends[k], ink, 2);
    }
    img.dot(x0 + (x1 - x0) * (angle + kPi) / (2 * kPi), ay, 7, mark);
    plot::draw_text_centered(img, size / 2, static_cast<int>(size * 0.71), "theta = " + format("%+.2f", angle), ink, 2);
    return img;
}

struct KlSummary {
    double mean = 0, max = 0, max_angle = 0;
};

KlSummary summarize(const std::vector<double>& angles, const std::vector<double>& kl) {
    KlSummary k;
    for (std::size_t i = 0; i < kl.size(); ++i) {
        k.mean += kl[i] / static_cast<double>(kl.size());
        if (i == 0 || kl[i] > k.max) k.max = kl[i], k.max_angle = angles[i];
    }
    return k;
}

// KL(q(·|θ) ‖ p(·|θ)) at each angle from `samples` fresh samples (rng) and its standard error.
void kl_at(ConditionalFlow& m, const std::vector<double>& angles, double log_z, std::int64_t samples, Rng& rng,
           std::vector<double>& kl, std::vector<double>* std_error) {
    kl.clear();
    for (double a : angles) {
        FreeEnergyEstimate fe = estimate_conditional_free_energy(m, a, rng, samples);
        kl.push_back(fe.mean + log_z);
        if (std_error) std_error->push_back(fe.std_error);
    }
}

plot::Image density_panel(const std::vector<double>& d, int bins, double vmax) {
    plot::HeatmapOptions ho;
    ho.size_px = kPanel;
    ho.xmin = ho.ymin = -kRange;
    ho.xmax = ho.ymax = kRange;
    return plot::heatmap(d, bins, bins, vmax, ho);
}

io::Json settings_json(const ConditionalOptions& o) {
    io::Json s = io::Json::object();
    s["layers"] = o.layers;
    io::Json hidden = io::Json::array();
    for (int h : o.hidden) hidden.push_back(h);
    s["hidden"] = hidden;
    s["activation"] = "elu";
    s["input"] = o.input;
    s["init_scale"] = o.init_scale;
    s["angles_per_step"] = o.angles_per_step;
    s["anneal"] = static_cast<double>(o.anneal);
    s["clip"] = o.clip;
    s["schedule_name"] = o.schedule_name;
    io::Json phases = io::Json::array();
    for (const ConditionalPhase& p : o.schedule) {
        io::Json j = io::Json::object();
        j["steps"] = static_cast<double>(p.steps);
        j["lr"] = p.lr;
        j["samples"] = p.samples;
        phases.push_back(j);
    }
    s["schedule"] = phases;
    s["optimizer"] = "adam";
    s["seed"] = static_cast<double>(o.seed);
    s["threads"] = o.threads;
    s["real"] = NFVI_REAL_IS_DOUBLE ? "double" : "float";
    return s;
}

void check_options(const ConditionalOptions& o) {
    AngleInput input;
    if (!parse_angle_input(o.input, input))
        throw UsageError("--input must be angle or cos-sin, got '" + o.input + "'");
    if (o.layers < 1) throw UsageError("--layers needs at least 1 layer");
    if (o.hidden.empty()) throw UsageError("--hidden wants at least one layer size, e.g. 512,512");
    if (o.angles_per_step < 1) throw UsageError("--angles-per-step needs at least 1 angle");
    if (o.schedule.empty()) throw UsageError("the schedule has no phases");
    for (const ConditionalPhase& p : o.schedule)
        if (p.steps < 1 || !(p.lr > 0) || !std::isfinite(p.lr) || p.samples < 1)
            throw UsageError("every phase needs steps >= 1, a finite lr > 0 and samples >= 1");
    if (o.anneal < 0) throw UsageError("--anneal needs a number of steps >= 0 (0: off)");
    if (!(o.clip >= 0) || !std::isfinite(o.clip)) throw UsageError("--clip needs a finite norm >= 0 (0: off)");
    if (o.threads < 1) throw UsageError("--threads needs at least 1 thread");
    if (o.eval_angles < 1 || o.kl_samples < 1 || o.eval_every < 0 || o.eval_samples < 1 || o.grid < 2 ||
        o.density_samples < 1 || o.bins < 1 || o.frame_delay < 0 || o.frame_delay > 65535)
        throw UsageError("evaluation settings must be positive (--grid at least 2, --frame-delay 0..65535)");
}

}  // namespace

std::vector<ConditionalPhase> named_schedule(const std::string& name) {
    if (name == "default") return {{24000, 1e-4, 100}, {6000, 1e-5, 100}};
    if (name == "reference") return {{5000, 3e-5, 100}, {5000, 1e-5, 1000}};
    throw UsageError("unknown schedule '" + name + "' (known: default, reference, or STEPS:LR:SAMPLES,...)");
}

std::int64_t schedule_anneal(const std::string& name) { return name == "default" ? 8000 : 0; }

std::vector<ConditionalPhase> parse_schedule(const std::string& text) {
    if (text == "default" || text == "reference") return named_schedule(text);
    const std::string want = "--schedule wants default, reference or phases STEPS:LR:SAMPLES[,...] "
                             "(e.g. 5000:3e-5:100,5000:1e-5:1000), got '" + text + "'";
    std::vector<ConditionalPhase> phases;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        const std::size_t a = part.find(':'), b = a == std::string::npos ? a : part.find(':', a + 1);
        if (b == std::string::npos || part.find(':', b + 1) != std::string::npos) throw UsageError(want);
        const std::string s1 = part.substr(0, a), s2 = part.substr(a + 1, b - a - 1), s3 = part.substr(b + 1);
        char *e1 = nullptr, *e2 = nullptr, *e3 = nullptr;
        const long long steps = std::strtoll(s1.c_str(), &e1, 10);
        const double lr = std::strtod(s2.c_str(), &e2);
        const long long samples = std::strtoll(s3.c_str(), &e3, 10);
        if (s1.empty() || s2.empty() || s3.empty() || *e1 || *e2 || *e3) throw UsageError(want);
        if (steps < 1 || steps > 1'000'000'000 || !std::isfinite(lr) || !(lr > 0) || samples < 1 || samples > 10'000'000)
            throw UsageError("--schedule: each phase needs 1 <= STEPS <= 1e9, a finite LR > 0 and "
                             "1 <= SAMPLES <= 1e7, got '" + part + "'");
        phases.push_back({steps, lr, static_cast<int>(samples)});
    }
    if (phases.empty() || text.back() == ',') throw UsageError(want);
    return phases;
}

ConditionalResult run_conditional(const ConditionalOptions& o) {
    check_options(o);
    ConditionalShape shape;
    shape.layers = o.layers;
    shape.hidden = o.hidden;
    parse_angle_input(o.input, shape.input);
    shape.output_scale = o.init_scale;
    io::ensure_directory(o.out);
    if (o.pictures) io::ensure_directory(o.out + "/frames");
    set_num_threads(o.threads);

    ConditionalFlow model(shape, o.seed);
    const ParameterList params = model.params();
    Adam opt(params, AdamOptions{.lr = static_cast<real>(o.schedule.front().lr)});
    Rng rng(o.seed, 1);
    Graph g;
    std::vector<real> angles(static_cast<std::size_t>(o.angles_per_step));

    std::int64_t total = 0;
    for (const ConditionalPhase& p : o.schedule) total += p.steps;
    const std::int64_t log_every = std::max<std::int64_t>(1, total / 1000);
    struct LogRow {
        double step, phase, lr, samples, loss, grad_norm;
        // The KL measured at this step, NaN if it was not.
        double kl_mean = std::numeric_limits<double>::quiet_NaN(), kl_max = kl_mean;
    };
    // log Z first: the KL measured during training needs it.
    ConditionalResult r;
    r.log_z = ring_log_z(kBox, o.grid);
    r.angles = eval_angles(o.eval_angles);
    std::vector<double> kl_now;
    double progress_eval_seconds = 0;
    std::vector<LogRow> log;  // reserved: the loop allocates nothing per step
    log.reserve(static_cast<std::size_t>(total / log_every + (o.eval_every > 0 ? total / o.eval_every : 0) +
                                         static_cast<std::int64_t>(o.schedule.size()) + 2));
    std::vector<float> losses(static_cast<std::size_t>(total));
    Progress progress("conditional", total, o.progress);
    const auto t0 = std::chrono::steady_clock::now();
    std::int64_t t = 0;
    for (std::size_t ph = 0; ph < o.schedule.size(); ++ph) {
        const ConditionalPhase& p = o.schedule[ph];
        opt.set_lr(static_cast<real>(p.lr));
        double interval_sum = 0, interval_norm = 0;
        std::int64_t interval_count = 0;
        for (std::int64_t i = 0; i < p.steps; ++i, ++t) {
            draw_angles(rng, angles);
            g.clear();
            opt.zero_grad();
            const real beta = static_cast<real>(anneal_beta(t, o.anneal));
            Var loss = conditional_loss(g, model, angles, p.samples, rng, beta);
            const double l = loss.item();
            if (!std::isfinite(l)) diverged(progress, "loss", l, t + 1, "try a smaller learning rate in --lr or --schedule");
            g.backward(loss);
            // The gradient's norm before clipping (clip_grad_norm measures it too).
            const double norm = o.clip > 0 ? static_cast<double>(clip_grad_norm(params, static_cast<real>(o.clip)))
                                           : grad_norm(params);
            if (!std::isfinite(norm)) diverged(progress, "gradient", norm, t + 1, "try a smaller learning rate or --clip");
            opt.step();
            losses[static_cast<std::size_t>(t)] = static_cast<float>(l);
            interval_sum += l;
            interval_norm += norm;
            ++interval_count;
            const bool measure = o.eval_every > 0 && ((t + 1) % o.eval_every == 0 || t + 1 == total);
            if ((t + 1) % log_every == 0 || i + 1 == p.steps || measure) {
                log.push_back({static_cast<double>(t + 1), static_cast<double>(ph + 1), p.lr,
                               static_cast<double>(p.samples), interval_sum / static_cast<double>(interval_count),
                               interval_norm / static_cast<double>(interval_count)});
                interval_sum = 0;
                interval_norm = 0;
                interval_count = 0;
            }
            if (measure) {  // the same fresh samples at every measurement, apart from training's
                const auto tm = std::chrono::steady_clock::now();
                Rng kl_rng(o.seed, 4);
                kl_at(model, r.angles, r.log_z, o.eval_samples, kl_rng, kl_now, nullptr);
                const KlSummary k = summarize(r.angles, kl_now);
                log.back().kl_mean = k.mean;
                log.back().kl_max = k.max;
                progress_eval_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - tm).count();
            }
            if ((t & 15) == 0) progress.update(t + 1, "loss", l);
        }
    }
    progress.update(total, "loss", losses.back());
    progress.finish();
    r.steps = total;
    r.progress_eval_seconds = progress_eval_seconds;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() - progress_eval_seconds;
    r.steps_per_second = static_cast<double>(total) / std::max(r.seconds, 1e-9);
    r.final_loss = mean_of_last(losses);

    // Evaluation: log Z once (rotation keeps it), the KL at each angle from fresh samples.
    const auto te = std::chrono::steady_clock::now();
    r.log_z_check = ring_log_z(kBox, std::max(2, o.grid / 2));
    Rng eval_rng(o.seed, 2);
    kl_at(model, r.angles, r.log_z, o.kl_samples, eval_rng, r.kl, &r.kl_std_error);
    const KlSummary k = summarize(r.angles, r.kl);
    r.kl_mean = k.mean, r.kl_max = k.max, r.kl_max_angle = k.max_angle;

    // log.csv: the mean loss over each logging interval, and the KL where it was measured.
    {
        std::string csv = "step,phase,lr,samples,beta,loss,loss_plus_log_z,grad_norm,kl_mean,kl_max\n";
        for (const LogRow& row : log) {
            const bool has_kl = !std::isnan(row.kl_mean);
            const double beta = anneal_beta(static_cast<std::int64_t>(row.step) - 1, o.anneal);
            csv += io::csv_row({row.step, row.phase, row.lr, row.samples, beta, row.loss, row.loss + r.log_z,
                                row.grad_norm,
                                has_kl ? io::CsvCell(row.kl_mean) : io::CsvCell(""),
                                has_kl ? io::CsvCell(row.kl_max) : io::CsvCell("")});
        }
        io::write_file_atomic(o.out + "/log.csv", csv);
    }

    if (o.pictures) {
        const int bins = o.bins;
        Rng pic_rng(o.seed, 3);
        std::vector<plot::Image> frames;
        for (std::size_t i = 0; i < r.angles.size(); ++i) {
            const double a = r.angles[i];
            std::vector<double> truth = true_density(a, r.log_z, bins);
            const double vmax = *std::max_element(truth.begin(), truth.end());
            std::vector<double> learned = learned_density(model, a, pic_rng, o.density_samples, bins);
            const plot::Image panels[] = {dial_panel(a, kPanel), density_panel(truth, bins, vmax),
                                          density_panel(learned, bins, vmax)};
            const std::string labels[] = {"angle theta", "true p(z | theta)", "learned q(z | theta)"};
            frames.push_back(plot::montage(panels, 3, 10, plot::kWhite,
                                           "theta = " + format("%+.2f", a) + ":  KL(q || p) = " + format("%.3f", r.kl[i]),
                                           {}, labels));
            char name[48];
            std::snprintf(name, sizeof name, "/frames/%02zu.png", i);
            write_png(o.out + name, frames.back());
        }
        io::write_gif(o.out + "/conditional.gif", frames, o.frame_delay);

        plot::Chart chart;
        chart.title = "training: loss + log Z (the mean KL over the step's angles)";
        chart.xlabel = "step";
        chart.ylabel = "nats";
        plot::Series s{"loss + log Z", {}, {}, plot::palette(0)};
        for (const LogRow& row : log) {
            s.x.push_back(row.step);
            s.y.push_back(row.loss + r.log_z);
        }
        chart.series.push_back(s);
        plot::Series km{"KL, mean over the angles", {}, {}, plot::palette(1)};
        plot::Series kx{"KL, worst angle", {}, {}, plot::palette(2)};
        for (const LogRow& row : log)
            if (!std::isnan(row.kl_mean)) {
                km.x.push_back(row.step), km.y.push_back(row.kl_mean);
                kx.x.push_back(row.step), kx.y.push_back(row.kl_max);
            }
        if (!km.x.empty()) {
            chart.title = "training: loss + log Z, and the KL at " + std::to_string(o.eval_angles) + " angles";
            chart.series.push_back(km);
            chart.series.push_back(kx);
        }
        write_chart(o.out + "/kl", chart);

        plot::Chart by_angle;
        by_angle.title = "KL(q(.|theta) || p(.|theta)) after training";
        by_angle.xlabel = "theta";
        by_angle.ylabel = "KL";
        by_angle.series.push_back({"KL", r.angles, r.kl, plot::palette(1)});
        write_chart(o.out + "/kl_by_angle", by_angle);
    }
    r.eval_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - te).count();

    io::Json summary = io::Json::object();
    summary["command"] = "conditional";
    summary["settings"] = settings_json(o);
    summary["final_loss"] = r.final_loss;
    summary["log_z"] = r.log_z;
    summary["log_z_quadrature"] = log_z_quadrature_json(
        "midpoint rule on [-8,8]^2, at theta = 0 (a rotation keeps log Z)", o.grid, r.log_z, r.log_z_check);
    io::Json angles_j = io::Json::array(), kl_j = io::Json::array(), se_j = io::Json::array();
    for (std::size_t i = 0; i < r.angles.size(); ++i) {
        angles_j.push_back(r.angles[i]);
        kl_j.push_back(r.kl[i]);
        se_j.push_back(r.kl_std_error[i]);
    }
    summary["angles"] = angles_j;
    summary["kl_per_angle"] = kl_j;
    summary["kl_std_error_per_angle"] = se_j;
    summary["kl_mean"] = r.kl_mean;
    summary["kl_max"] = r.kl_max;
    summary["kl_max_angle"] = r.kl_max_angle;
    summary["kl_samples"] = static_cast<double>(o.kl_samples);
    summary["steps"] = static_cast<double>(r.steps);
    summary["seconds"] = r.seconds;
    summary["steps_per_second"] = r.steps_per_second;
    summary["eval_seconds"] = r.eval_seconds;
    summary["progress_eval_seconds"] = r.progress_eval_seconds;
    summary["note"] = "kl = E_q[log q + U] + log Z at each angle from fresh samples; sample estimates are "
                      "noisy and can be slightly negative";
    io::write_file_atomic(o.out + "/summary.json", summary.dump() + "\n");
    return r;
}

namespace {

std::vector<int> parse_sizes(const std::string& text) {
    std::vector<int> out;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        char* end = nullptr;
        const long v = std::strtol(part.c_str(), &end, 10);
        if (part.empty() || *end != '\0' || v < 1 || v > 100000)
            throw UsageError("--hidden wants layer sizes like 512,512 (each 1..100000), got '" + text + "'");
        out.push_back(static_cast<int>(v));
    }
    if (out.empty() || text.back() == ',') throw UsageError("--hidden wants layer sizes like 512,512, got '" + text + "'");
    return out;
}

}  // namespace

int conditional_command(int argc, char** argv) {
    Args a("conditional", argc, argv, 2,
           {"--layers", "--hidden", "--input", "--init-scale", "--angles-per-step", "--samples", "--steps", "--lr",
            "--schedule", "--seed", "--threads", "--out", "--eval-angles", "--kl-samples", "--grid",
            "--density-samples", "--bins", "--frame-delay", "--eval-every", "--eval-samples", "--anneal", "--clip"},
           {"--no-pictures", "--quiet"});
    ConditionalOptions o;
    o.layers = static_cast<int>(a.integer("--layers", o.layers, 1, 10000));
    if (a.has("--hidden")) o.hidden = parse_sizes(a.str("--hidden", ""));
    o.input = a.choice("--input", o.input, {"angle", "cos-sin"});
    o.init_scale = a.number("--init-scale", o.init_scale, 0, 100);
    o.angles_per_step = static_cast<int>(a.integer("--angles-per-step", o.angles_per_step, 1, 1'000'000));
    o.clip = a.number("--clip", o.clip, 0, 1e30);
    const bool one_phase = a.has("--steps") || a.has("--lr") || a.has("--samples");
    if (one_phase && a.has("--schedule"))
        throw UsageError("give either --schedule or --steps/--lr/--samples (one phase), not both");
    if (one_phase) {
        // One phase; what is not given comes from the first phase of the default schedule.
        const ConditionalPhase first = named_schedule("default").front();
        o.schedule = {{a.integer("--steps", first.steps, 1, 1'000'000'000), a.positive("--lr", first.lr),
                       static_cast<int>(a.integer("--samples", first.samples, 1, 10'000'000))}};
        o.schedule_name = "custom";
    } else if (a.has("--schedule")) {
        const std::string spec = a.str("--schedule", "default");
        o.schedule = parse_schedule(spec);
        o.schedule_name = spec == "default" || spec == "reference" ? spec : "custom";
    }
    o.anneal = a.integer("--anneal", schedule_anneal(o.schedule_name), 0, 1'000'000'000);
    o.seed = static_cast<std::uint64_t>(a.integer("--seed", 1, 0, INT64_MAX));
    o.threads = static_cast<int>(a.integer("--threads", o.threads, 1, 256));
    o.out = a.str("--out", o.out);
    o.eval_angles = static_cast<int>(a.integer("--eval-angles", o.eval_angles, 1, 1000));
    o.kl_samples = a.integer("--kl-samples", o.kl_samples, 1, 1'000'000'000);
    o.eval_every = a.integer("--eval-every", o.eval_every, 0, 1'000'000'000);
    o.eval_samples = a.integer("--eval-samples", o.eval_samples, 1, 1'000'000'000);
    o.grid = static_cast<int>(a.integer("--grid", o.grid, 2, 20000));
    o.density_samples = a.integer("--density-samples", o.density_samples, 1, 1'000'000'000);
    o.bins = static_cast<int>(a.integer("--bins", o.bins, 8, 2000));
    o.frame_delay = static_cast<int>(a.integer("--frame-delay", o.frame_delay, 0, 65535));
    o.pictures = !a.has("--no-pictures");
    o.progress = !a.has("--quiet");
    ConditionalResult r = run_conditional(o);
    std::printf("conditional K=%d: final loss %.4f, KL mean %.4f, max %.4f at theta %+.2f (log Z %.4f), "
                "%lld steps in %.1f s (%.0f steps/s), eval %.1f s -> %s\n",
                o.layers, r.final_loss, r.kl_mean, r.kl_max, r.kl_max_angle, r.log_z,
                static_cast<long long>(r.steps), r.seconds, r.steps_per_second, r.eval_seconds, o.out.c_str());
    return 0;
}

}  // namespace nfvi::cli
