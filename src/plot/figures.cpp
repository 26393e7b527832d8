// Heat maps, 2-D histograms, scatter panels, montages and line charts (see figures.h), and
// the tick machinery they share.
#include "src/plot/figures.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "src/plot/colormap.h"
#include "src/plot/font.h"

namespace nfvi::plot {

namespace {

constexpr Rgb kTitleInk{35, 35, 35};
constexpr Rgb kLabelInk{70, 70, 70};
constexpr Rgb kTickInk{110, 110, 110};   // tick labels and tick marks: quiet
constexpr Rgb kAxisInk{150, 150, 150};
constexpr Rgb kGridInk{234, 234, 234};
constexpr Rgb kFrameInk{180, 180, 180};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument("nfvi::plot::" + what); }

// m * 10^e as the double nearest to that decimal (exact powers of ten up to 1e22).
double decimal(double m, int e) {
    double p = 1;
    for (int i = 0; i < std::abs(e); ++i) p *= 10;
    return e >= 0 ? m * p : m / p;
}

// A step m * 10^e with m in {1, 2, 5}.
struct Step {
    int m = 0, e = 0;
    double value() const { return decimal(m, e); }
};

// Indices k with k * step in [lo, hi], allowing for rounding at the ends.
std::pair<double, double> tick_index_range(double lo, double hi, double step) {
    constexpr double eps = 1e-9;
    return {std::ceil(lo / step - eps), std::floor(hi / step + eps)};
}

Step choose_step(double lo, double hi, int target) {
    // A span that overflows, or one below the smallest normal numbers, gets no ticks.
    if (!std::isfinite(hi - lo) || !(hi - lo > 1e-290)) return {};
    target = std::max(target, 2);
    const int e0 = static_cast<int>(std::floor(std::log10((hi - lo) / (target - 1))));
    Step best;
    double best_err = INFINITY, best_value = 0;
    for (int e = e0 - 1; e <= e0 + 1; ++e)
        for (int m : {1, 2, 5}) {
            const double s = decimal(m, e);
            if (!(s > 0) || !std::isfinite(s)) continue;
            const auto [k0, k1] = tick_index_range(lo, hi, s);
            const double n = k1 - k0 + 1;
            if (n < 2) continue;
            const double err = std::abs(n - target);
            if (err < best_err || (err == best_err && s > best_value))
                best = {m, e}, best_err = err, best_value = s;
        }
    return best;
}

std::string strip_zeros(std::string s) {
    if (s.find('.') == std::string::npos) return s;
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
}

std::string printf_fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// Linear-interpolated quantile of sorted values, p in [0, 1].
double quantile(const std::vector<double>& sorted, double p) {
    const double pos = p * static_cast<double>(sorted.size() - 1);
    const auto i = static_cast<std::size_t>(pos);
    if (i + 1 >= sorted.size()) return sorted.back();
    return sorted[i] + (pos - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

// The pixel holding coordinate v, clamped to [lo, hi] (NaN gives lo).
int pixel_in(double v, int lo, int hi) {
    if (std::isnan(v)) return lo;
    return static_cast<int>(std::clamp(std::floor(v), double(lo), double(hi)));
}

// The largest text scale <= max_scale (at least 1) at which text fits in `room` pixels.
int fitting_scale(std::string_view text, int room, int max_scale) {
    int s = std::max(max_scale, 1);
    while (s > 1 && text_width(text, s) > room) --s;
    return s;
}

}  // namespace

// ---- ticks -----------------------------------------------------------------------------------

double nice_step(double lo, double hi, int target) { return choose_step(lo, hi, target).value(); }

std::vector<double> nice_ticks(double lo, double hi, int target) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi) return {};
    if (lo == hi) return {lo};
    const Step st = choose_step(lo, hi, target);
    if (st.m == 0) return {};
    const auto [k0, k1] = tick_index_range(lo, hi, st.value());
    std::vector<double> out;
    for (double k = k0; k <= k1; ++k) {
        // (k m) / 10^-e rather than k * step: the result is the double nearest the decimal.
        const double v = st.e >= 0 ? k * decimal(st.m, st.e) : (k * st.m) / decimal(1, -st.e);
        out.push_back(v == 0 ? 0.0 : v);
    }
    return out;
}

std::vector<double> log_ticks(double lo, double hi) {
    if (!(lo > 0) || !std::isfinite(hi) || lo > hi) return {};
    if (lo == hi) return {lo};
    constexpr double eps = 1e-9;
    const int k0 = static_cast<int>(std::ceil(std::log10(lo) - eps));
    const int k1 = static_cast<int>(std::floor(std::log10(hi) + eps));
    const int decades = k1 - k0 + 1;
    std::vector<double> out;
    if (decades >= 3) {
        const int stride = (decades + 7) / 8;
        for (int k = k0; k <= k1; ++k)
            if (((k % stride) + stride) % stride == 0) out.push_back(decimal(1, k));
        if (out.size() >= 2) return out;
        out.clear();
    }
    for (int k = k0 - 1; k <= k1; ++k)
        for (int m : {1, 2, 5}) {
            const double v = decimal(m, k);
            if (v >= lo * (1 - eps) && v <= hi * (1 + eps)) out.push_back(v);
        }
    if (out.size() >= 3) return out;
    return nice_ticks(lo, hi, 5);
}

std::string format_tick(double v, double step) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (v == 0) return "0";
    if (!std::isfinite(step)) step = 0;
    const double av = std::abs(v);
    const bool sci = av >= 1e6 || (step > 0 ? step < 1e-4 : av < 1e-4);
    if (!sci) {
        if (step > 0)
            return printf_fixed(v, std::max(0, static_cast<int>(std::ceil(-std::log10(step) - 1e-9))));
        return strip_zeros(printf_fixed(v, 6));
    }
    int e = static_cast<int>(std::floor(std::log10(av)));
    const int digits =
        step > 0 ? std::clamp(e - static_cast<int>(std::floor(std::log10(step) + 1e-9)), 0, 6) : 6;
    std::string m = strip_zeros(printf_fixed(v / std::pow(10.0, e), digits));
    if (m == "10" || m == "-10") {  // the mantissa rounded up to the next power
        ++e;
        m = m[0] == '-' ? "-1" : "1";
    }
    return m + "e" + std::to_string(e);
}

// ---- heat maps -------------------------------------------------------------------------------

Image heatmap(std::span<const double> values, int nx, int ny, double vmax, const HeatmapOptions& opt) {
    if (nx < 1 || ny < 1)
        fail("heatmap: the grid must be at least 1 x 1, got " + std::to_string(nx) + " x " +
             std::to_string(ny));
    if (values.size() != static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny))
        fail("heatmap: values has " + std::to_string(values.size()) + " entries but the grid is " +
             std::to_string(nx) + " x " + std::to_string(ny) + "; pass values[iy * nx + ix]");
    if (opt.axes && !(opt.xmax > opt.xmin && opt.ymax > opt.ymin))
        fail("heatmap: axes need xmin < xmax and ymin < ymax in the options");
    if (!(vmax > 0)) {
        double m = 0;
        for (double v : values)
            if (std::isfinite(v)) m = std::max(m, v);
        vmax = m > 0 ? m : 1;
    }

    // Map size: whole cells of cell_px, or the longer side stretched to size_px.
    int mw = 0, mh = 0;
    if (opt.cell_px > 0) {
        mw = nx * opt.cell_px, mh = ny * opt.cell_px;
    } else {
        const int side = std::max(opt.size_px, 1);
        mw = nx >= ny ? side : std::max(1, static_cast<int>(std::lround(double(side) * nx / ny)));
        mh = ny >= nx ? side : std::max(1, static_cast<int>(std::lround(double(side) * ny / nx)));
    }

    // Margins: tick labels left and below, a title band on top.
    int left = 0, right = 0, top = 0, bottom = 0;
    std::vector<double> xt, yt;
    std::vector<std::string> xl, yl;
    constexpr int kTick = 4, kPad = 3;
    if (opt.axes) {
        const int target = mw >= 200 ? 5 : 3;
        xt = nice_ticks(opt.xmin, opt.xmax, target);
        yt = nice_ticks(opt.ymin, opt.ymax, target);
        const double xs = nice_step(opt.xmin, opt.xmax, target), ys = nice_step(opt.ymin, opt.ymax, target);
        int yw = 0, xw = 0;
        for (double v : xt) xl.push_back(format_tick(v, xs)), xw = std::max(xw, text_width(xl.back()));
        for (double v : yt) yl.push_back(format_tick(v, ys)), yw = std::max(yw, text_width(yl.back()));
        left = 4 + yw + kPad + kTick;
        bottom = kTick + kPad + text_height() + 4;
        right = std::max(6, xw / 2 + 3);
        top = 6;
    }
    int ts = 0;  // title scale
    if (!opt.title.empty()) {
        ts = mw >= 240 ? fitting_scale(opt.title, mw, 2) : 1;
        top = 6 + text_height(ts) + 6;
    }
    const int content_w = left + mw + right;
    const int title_w = ts ? text_width(opt.title, ts) + 8 : 0;
    const int width = std::max(content_w, title_w);
    const int mx = (width - content_w) / 2 + left, my = top;
    Image img(width, top + mh + bottom, opt.background);

    // Each pixel shows the cell under its centre.
    std::vector<int> col_cell(static_cast<std::size_t>(mw));  // [mw] pixel column -> ix
    for (int x = 0; x < mw; ++x)
        col_cell[static_cast<std::size_t>(x)] = std::min(nx - 1, static_cast<int>((x + 0.5) * nx / mw));
    for (int y = 0; y < mh; ++y) {
        const int iy = std::min(ny - 1, static_cast<int>((y + 0.5) * ny / mh));
        const double* row = values.data() + static_cast<std::size_t>(iy) * nx;
        for (int x = 0; x < mw; ++x)
            img.at(mx + x, my + y) = colormap(row[col_cell[static_cast<std::size_t>(x)]] / vmax);
    }

    if (ts) {
        const int tw = text_width(opt.title, ts);
        draw_text(img, std::clamp(mx + mw / 2 - tw / 2, 0, width - tw), 6, opt.title, kTitleInk, ts);
    }
    if (opt.axes) {
        for (std::size_t k = 0; k < xt.size(); ++k) {
            const int x = pixel_in(mx + (xt[k] - opt.xmin) / (opt.xmax - opt.xmin) * mw, mx, mx + mw - 1);
            img.fill_rect(x, my + mh, 1, kTick, kTickInk);
            draw_text_centered(img, x, my + mh + kTick + kPad, xl[k], kTickInk);
        }
        for (std::size_t k = 0; k < yt.size(); ++k) {
            const int y = pixel_in(my + (opt.ymax - yt[k]) / (opt.ymax - opt.ymin) * mh, my, my + mh - 1);
            img.fill_rect(mx - kTick, y, kTick, 1, kTickInk);
            draw_text_right(img, mx - kTick - kPad, y - text_height() / 2, yl[k], kTickInk);
        }
    }
    return img;
}

std::vector<double> histogram2d(std::span<const double> xs, std::span<const double> ys, double xmin,
                                double xmax, double ymin, double ymax, int bins) {
    if (xs.size() != ys.size())
        fail("histogram2d: xs and ys differ in size (" + std::to_string(xs.size()) + " vs " +
             std::to_string(ys.size()) + ")");
    if (bins < 1) fail("histogram2d: bins must be >= 1, got " + std::to_string(bins));
    if (!(xmax > xmin && ymax > ymin) || !std::isfinite(xmax - xmin) || !std::isfinite(ymax - ymin))
        fail("histogram2d: the range must have xmin < xmax and ymin < ymax (finite)");
    std::vector<double> h(static_cast<std::size_t>(bins) * bins, 0.0);  // [bins][bins], row 0 = ymax
    std::size_t inside = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i], y = ys[i];
        if (!(x >= xmin && x <= xmax && y >= ymin && y <= ymax)) continue;  // also drops NaN
        const int ix = std::min(bins - 1, static_cast<int>((x - xmin) / (xmax - xmin) * bins));
        const int iy_up = std::min(bins - 1, static_cast<int>((y - ymin) / (ymax - ymin) * bins));
        h[static_cast<std::size_t>(bins - 1 - iy_up) * bins + ix] += 1;
        ++inside;
    }
    if (inside > 0) {
        const double cell_area = (xmax - xmin) / bins * ((ymax - ymin) / bins);
        const double norm = 1.0 / (static_cast<double>(inside) * cell_area);
        for (double& v : h) v *= norm;
    }
    return h;
}

Image hist2d(std::span<const double> xs, std::span<const double> ys, double xmin, double xmax,
             double ymin, double ymax, int bins, const HeatmapOptions& opt) {
    HeatmapOptions o = opt;
    o.xmin = xmin, o.xmax = xmax, o.ymin = ymin, o.ymax = ymax;
    return heatmap(histogram2d(xs, ys, xmin, xmax, ymin, ymax, bins), bins, bins, 0, o);
}

// ---- scatter panels --------------------------------------------------------------------------

Rgb scatter_color(double v) {
    if (std::isnan(v)) return kNanGrey;
    return colormap(0.82 * std::clamp(v, 0.0, 1.0));
}

Image scatter_panel(std::span<const double> xs, std::span<const double> ys,
                    std::span<const double> color_values, double xmin, double xmax, double ymin,
                    double ymax, int size_px, std::string_view label, const ScatterOptions& opt) {
    if (xs.size() != ys.size())
        fail("scatter_panel: xs and ys differ in size (" + std::to_string(xs.size()) + " vs " +
             std::to_string(ys.size()) + ")");
    if (!color_values.empty() && color_values.size() != xs.size())
        fail("scatter_panel: color_values has " + std::to_string(color_values.size()) +
             " entries for " + std::to_string(xs.size()) + " points; pass one per point or none");
    if (size_px < 16) fail("scatter_panel: size_px must be >= 16, got " + std::to_string(size_px));
    if (!(xmax > xmin && ymax > ymin)) fail("scatter_panel: the range must have xmin < xmax and ymin < ymax");

    const double n = static_cast<double>(std::max<std::size_t>(xs.size(), 1));
    const double radius = opt.radius > 0 ? opt.radius : std::max(1.2, size_px / 250.0);
    const double alpha = opt.alpha > 0 ? std::min(opt.alpha, 1.0) : std::clamp(500 / n, 0.25, 0.9);
    Image img(size_px, size_px, kWhite);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double x = xs[i], y = ys[i];
        if (!(x >= xmin && x <= xmax && y >= ymin && y <= ymax)) continue;
        const double px = (x - xmin) / (xmax - xmin) * size_px;
        const double py = (ymax - y) / (ymax - ymin) * size_px;
        img.dot(px, py, radius, scatter_color(color_values.empty() ? 0.0 : color_values[i]), alpha);
    }
    img.frame_rect(0, 0, size_px, size_px, kFrameInk);
    if (!label.empty()) {
        const int s = size_px >= 400 ? 2 : 1;
        draw_text(img, 4 + 2 * s, 4 + 2 * s, label, kLabelInk, s);
    }
    return img;
}

// ---- montages --------------------------------------------------------------------------------

Image montage(std::span<const Image> panels, int columns, int gap_px, Rgb background,
              std::string_view title, std::span<const std::string> row_labels,
              std::span<const std::string> column_labels) {
    if (panels.empty()) fail("montage: no panels to arrange");
    if (columns < 1) fail("montage: columns must be >= 1, got " + std::to_string(columns));
    if (gap_px < 0) fail("montage: gap_px must be >= 0, got " + std::to_string(gap_px));
    const int n = static_cast<int>(panels.size());
    const int rows = (n + columns - 1) / columns;
    if (static_cast<int>(row_labels.size()) > rows || static_cast<int>(column_labels.size()) > columns)
        fail("montage: " + std::to_string(row_labels.size()) + " row labels and " +
             std::to_string(column_labels.size()) + " column labels for a grid of " +
             std::to_string(rows) + " x " + std::to_string(columns) + "; pass at most one per row / column");
    int cw = 0, ch = 0;
    for (const Image& p : panels) cw = std::max(cw, p.width()), ch = std::max(ch, p.height());

    const int g = gap_px, pad = std::max(gap_px, 6), s = cw >= 240 ? 2 : 1;
    int label_w = 0;
    for (const std::string& l : row_labels) label_w = std::max(label_w, text_width(l, s));
    const int L = row_labels.empty() ? 0 : label_w + pad;
    const int T = title.empty() ? 0 : text_height(2) + pad;
    const int C = column_labels.empty() ? 0 : text_height(s) + pad;
    const int width = g + L + columns * (cw + g);
    const int height = g + T + C + rows * (ch + g);
    Image img(width, height, background);

    const int x0 = g + L, y0 = g + T + C;
    for (int i = 0; i < n; ++i) {
        const Image& p = panels[static_cast<std::size_t>(i)];
        const int cx = x0 + (i % columns) * (cw + g), cy = y0 + (i / columns) * (ch + g);
        img.blit(p, cx + (cw - p.width()) / 2, cy + (ch - p.height()) / 2);
    }
    if (!title.empty()) {
        const int ts = fitting_scale(title, width - 2 * g, 2);
        const int tw = text_width(title, ts);
        draw_text(img, std::max(0, x0 + (width - x0 - g) / 2 - tw / 2), g + (T - pad - text_height(ts)),
                  title, kTitleInk, ts);
    }
    for (std::size_t c = 0; c < column_labels.size(); ++c)
        draw_text_centered(img, x0 + static_cast<int>(c) * (cw + g) + cw / 2, g + T, column_labels[c],
                           kLabelInk, s);
    for (std::size_t r = 0; r < row_labels.size(); ++r)
        draw_text_right(img, x0 - pad, y0 + static_cast<int>(r) * (ch + g) + ch / 2 - text_height(s) / 2,
                        row_labels[r], kLabelInk, s);
    return img;
}

// ---- line charts -----------------------------------------------------------------------------

Rgb palette(int i) {
    static constexpr Rgb kColors[] = {{31, 94, 170},  {214, 96, 38},  {46, 140, 70},  {190, 40, 60},
                                      {120, 80, 170}, {20, 150, 160}, {150, 110, 40}, {90, 90, 90}};
    const int k = static_cast<int>(std::size(kColors));
    return kColors[((i % k) + k) % k];
}

namespace detail {

std::vector<std::vector<std::pair<double, double>>> series_runs(const Series& s, bool log_x) {
    if (!s.x.empty() && s.x.size() != s.y.size())
        fail("line_chart: series '" + s.name + "' has " + std::to_string(s.x.size()) + " x values and " +
             std::to_string(s.y.size()) + " y values; give one x per y (or none)");
    std::vector<std::vector<std::pair<double, double>>> runs;
    bool open = false;
    for (std::size_t i = 0; i < s.y.size(); ++i) {
        const double x = s.x.empty() ? static_cast<double>(i) : s.x[i], y = s.y[i];
        if (!std::isfinite(x) || !std::isfinite(y) || (log_x && !(x > 0))) {
            open = false;
            continue;
        }
        if (!open) runs.emplace_back(), open = true;
        runs.back().emplace_back(x, y);
    }
    return runs;
}

Range chart_y_range(const Chart& chart) {
    double lo = INFINITY, hi = -INFINITY;
    for (const Series& s : chart.series) {
        std::vector<double> ys;  // the series' drawable y values, in order
        for (const auto& run : series_runs(s, chart.log_x))
            for (const auto& p : run) ys.push_back(p.second);
        if (ys.empty()) continue;
        double slo = *std::min_element(ys.begin(), ys.end());
        double shi = *std::max_element(ys.begin(), ys.end());
        if (ys.size() >= 20) {
            // Cut far outliers, judged by the later half of the curve (see figures.h).
            std::vector<double> late(ys.begin() + static_cast<std::ptrdiff_t>(ys.size() / 2), ys.end());
            std::sort(late.begin(), late.end());
            const double q01 = quantile(late, 0.01), q99 = quantile(late, 0.99);
            double spread = q99 - q01;
            if (!(spread > 0)) spread = std::max(std::abs(q99) * 0.1, 1e-12);
            slo = std::max(slo, q01 - 10 * spread);
            shi = std::min(shi, q99 + 10 * spread);
        }
        lo = std::min(lo, slo);
        hi = std::max(hi, shi);
    }
    if (!(lo <= hi)) return {0, 1};
    return {lo, hi};
}

double ChartLayout::px(double x) const {
    if (!std::isfinite(x) || (log_x && !(x > 0))) return kNaN;
    const double u = log_x ? std::log10(x) : x;
    return plot_x + (u - x_lo) / (x_hi - x_lo) * plot_w;
}

double ChartLayout::py(double y) const {
    if (!std::isfinite(y)) return kNaN;
    return plot_y + (y_hi - y) / (y_hi - y_lo) * plot_h;
}

ChartLayout chart_layout(const Chart& chart) {
    if (chart.width < 120 || chart.height < 80)
        fail("line_chart: the chart must be at least 120 x 80 pixels, got " + std::to_string(chart.width) +
             " x " + std::to_string(chart.height));
    ChartLayout L;
    L.width = chart.width, L.height = chart.height, L.log_x = chart.log_x;
    const int s = chart.width >= 1400 ? 2 : 1;
    L.scale = s;

    // Data ranges.
    double xlo = INFINITY, xhi = -INFINITY;
    for (const Series& ser : chart.series)
        for (const auto& run : series_runs(ser, chart.log_x))
            for (const auto& p : run) {
                const double u = chart.log_x ? std::log10(p.first) : p.first;
                xlo = std::min(xlo, u), xhi = std::max(xhi, u);
            }
    if (!(xlo <= xhi)) xlo = 0, xhi = 1;
    if (xlo == xhi) xlo -= 0.5, xhi += 0.5;
    L.x_lo = xlo, L.x_hi = xhi;
    const Range yr = chart_y_range(chart);
    double ypad = 0.05 * (yr.hi - yr.lo);
    if (!(ypad > 0)) ypad = yr.lo != 0 ? 0.1 * std::abs(yr.lo) : 1;
    L.y_lo = yr.lo - ypad, L.y_hi = yr.hi + ypad;

    // Vertical layout first: it does not depend on the tick labels.
    const int pad = 12 * s, tick = 4 * s, th = text_height(s);
    const int top = pad + (chart.title.empty() ? 0 : text_height(s + 1) + 8 * s);
    const int bottom = pad + (chart.xlabel.empty() ? 0 : th + 6 * s) + th + 4 * s + tick;
    L.plot_y = top;
    L.plot_h = chart.height - top - bottom;

    const int ytarget = std::clamp(L.plot_h / 60, 3, 7);
    L.y_ticks = nice_ticks(L.y_lo, L.y_hi, ytarget);
    const double ystep = nice_step(L.y_lo, L.y_hi, ytarget);
    for (double v : L.y_ticks) {
        L.y_labels.push_back(format_tick(v, ystep));
        L.y_label_width = std::max(L.y_label_width, text_width(L.y_labels.back(), s));
    }
    const int left = pad + (chart.ylabel.empty() ? 0 : th + 8 * s) + L.y_label_width + 4 * s + tick;
    const int right = pad + 8 * s;
    L.plot_x = left;
    L.plot_w = chart.width - left - right;
    if (L.plot_w < 40 || L.plot_h < 30)
        fail("line_chart: " + std::to_string(chart.width) + " x " + std::to_string(chart.height) +
             " leaves no room for the plot after its labels; make the chart larger");

    if (chart.log_x) {
        L.x_ticks = log_ticks(std::pow(10.0, xlo), std::pow(10.0, xhi));
        for (double v : L.x_ticks) L.x_labels.push_back(format_tick(v, 0));
    } else {
        const int xtarget = std::clamp(L.plot_w / (110 * s), 3, 7);
        L.x_ticks = nice_ticks(xlo, xhi, xtarget);
        const double xstep = nice_step(xlo, xhi, xtarget);
        for (double v : L.x_ticks) L.x_labels.push_back(format_tick(v, xstep));
    }

    if (chart.series.size() > 1) {
        L.legend = true;
        L.legend_inner = 7 * s, L.legend_sample = 20 * s, L.legend_gap = 6 * s, L.legend_row = th + 5 * s;
        int name_w = 0;
        for (std::size_t k = 0; k < chart.series.size(); ++k) {
            L.legend_names.push_back(chart.series[k].name.empty() ? "series " + std::to_string(k + 1)
                                                                  : chart.series[k].name);
            name_w = std::max(name_w, text_width(L.legend_names.back(), s));
        }
        L.legend_w = L.legend_inner + L.legend_sample + L.legend_gap + name_w + L.legend_inner;
        L.legend_h = 2 * L.legend_inner + static_cast<int>(chart.series.size()) * L.legend_row - 5 * s;
        // Corners in order of preference; take the one over the fewest curve samples (the
        // curves sampled every 3 pixels or so along each segment).
        const int m = 8 * s;
        const int lx = L.plot_x + m, rx = L.plot_x + L.plot_w - L.legend_w - m;
        const int ty = L.plot_y + m, by = L.plot_y + L.plot_h - L.legend_h - m;
        const int corners[4][2] = {{rx, ty}, {lx, ty}, {rx, by}, {lx, by}};
        long hits[4] = {0, 0, 0, 0};
        auto count = [&](double x, double y) {
            for (int c = 0; c < 4; ++c)
                hits[c] += x >= corners[c][0] && x < corners[c][0] + L.legend_w && y >= corners[c][1] &&
                           y < corners[c][1] + L.legend_h;
        };
        for (const Series& ser : chart.series)
            for (const auto& run : series_runs(ser, chart.log_x))
                for (std::size_t i = 0; i < run.size(); ++i) {
                    const double x1 = L.px(run[i].first), y1 = L.py(run[i].second);
                    if (i == 0) {
                        count(x1, y1);
                        continue;
                    }
                    const double x0 = L.px(run[i - 1].first), y0 = L.py(run[i - 1].second);
                    const double len = std::hypot(x1 - x0, y1 - y0);
                    const int steps = len > 3 ? static_cast<int>(std::min(len / 3, 1000.0)) : 1;
                    for (int k = 1; k <= steps; ++k) {
                        const double t = double(k) / steps;
                        count(x0 + t * (x1 - x0), y0 + t * (y1 - y0));
                    }
                }
        const int best = static_cast<int>(std::min_element(hits, hits + 4) - hits);
        L.legend_x = corners[best][0], L.legend_y = corners[best][1];
    }
    return L;
}

}  // namespace detail

Image line_chart(const Chart& chart) {
    const detail::ChartLayout L = detail::chart_layout(chart);
    const int s = L.scale, th = text_height(s), tick = 4 * s, pad = 12 * s;
    Image img(L.width, L.height, kWhite);
    const int bottom_y = L.plot_y + L.plot_h;  // the row of the x axis line

    auto tick_col = [&](double v) { return pixel_in(L.px(v), L.plot_x, L.plot_x + L.plot_w - 1); };
    auto tick_row = [&](double v) { return pixel_in(L.py(v), L.plot_y, L.plot_y + L.plot_h - 1); };
    for (double v : L.x_ticks) img.fill_rect(tick_col(v), L.plot_y, 1, L.plot_h, kGridInk);
    for (double v : L.y_ticks) img.fill_rect(L.plot_x, tick_row(v), L.plot_w, 1, kGridInk);

    // The curves, drawn into the plot area alone so that clipped outliers stay inside it.
    Image area = img.crop(L.plot_x, L.plot_y, L.plot_w, L.plot_h);
    bool any = false;
    for (std::size_t k = 0; k < chart.series.size(); ++k) {
        const Series& ser = chart.series[k];
        for (const auto& run : detail::series_runs(ser, chart.log_x)) {
            std::vector<double> xs, ys;  // [run length], area pixel coordinates
            for (const auto& p : run) {
                xs.push_back(L.px(p.first) - L.plot_x);
                // Points far outside are pulled in to +-1e7 px: this moves the visible part of
                // a line by well under a pixel and keeps the arithmetic away from overflow.
                ys.push_back(std::clamp(L.py(p.second) - L.plot_y, -1e7, 1e7));
            }
            area.polyline(xs, ys, ser.color, 1.6 * s);
            any = true;
        }
    }
    img.blit(area, L.plot_x, L.plot_y);
    if (!any)
        draw_text_centered(img, L.plot_x + L.plot_w / 2, L.plot_y + L.plot_h / 2 - th / 2,
                           "no finite data", kTickInk, s);

    // Axes, ticks and tick labels.
    img.fill_rect(L.plot_x - 1, L.plot_y, 1, L.plot_h + 1, kAxisInk);
    img.fill_rect(L.plot_x - 1, bottom_y, L.plot_w + 1, 1, kAxisInk);
    for (std::size_t k = 0; k < L.x_ticks.size(); ++k) {
        const int x = tick_col(L.x_ticks[k]);
        img.fill_rect(x, bottom_y + 1, s, tick, kAxisInk);
        draw_text_centered(img, x, bottom_y + 1 + tick + 3 * s, L.x_labels[k], kTickInk, s);
    }
    for (std::size_t k = 0; k < L.y_ticks.size(); ++k) {
        const int y = tick_row(L.y_ticks[k]);
        img.fill_rect(L.plot_x - 1 - tick, y, tick, s, kAxisInk);
        draw_text_right(img, L.plot_x - 1 - tick - 3 * s, y - th / 2, L.y_labels[k], kTickInk, s);
    }

    // Axis labels and title.
    if (!chart.xlabel.empty())
        draw_text_centered(img, L.plot_x + L.plot_w / 2, L.height - pad - th, chart.xlabel, kLabelInk, s);
    if (!chart.ylabel.empty()) {
        const int len = text_width(chart.ylabel, s);
        draw_text_up(img, pad, std::max(0, L.plot_y + L.plot_h / 2 - len / 2), chart.ylabel, kLabelInk, s);
    }
    if (!chart.title.empty()) {
        const int ts = fitting_scale(chart.title, L.width - 2 * pad, s + 1);
        const int tw = text_width(chart.title, ts);
        draw_text(img, std::clamp(L.plot_x + L.plot_w / 2 - tw / 2, 0, std::max(0, L.width - tw)), pad,
                  chart.title, kTitleInk, ts);
    }

    // Legend.
    if (L.legend) {
        const int bx = L.legend_x, by = L.legend_y, inner = L.legend_inner;
        for (int y = by; y < by + L.legend_h; ++y)
            for (int x = bx; x < bx + L.legend_w; ++x) img.blend(x, y, kWhite, 0.88);
        img.frame_rect(bx, by, L.legend_w, L.legend_h, Rgb{210, 210, 210});
        for (std::size_t k = 0; k < L.legend_names.size(); ++k) {
            const int ty = by + inner + static_cast<int>(k) * L.legend_row;
            const double cy = ty + th / 2.0 - 0.5 * s;
            img.line(bx + inner, cy, bx + inner + L.legend_sample, cy, chart.series[k].color, 2.0 * s);
            draw_text(img, bx + inner + L.legend_sample + L.legend_gap, ty, L.legend_names[k], kLabelInk, s);
        }
    }
    return img;
}

}  // namespace nfvi::plot
