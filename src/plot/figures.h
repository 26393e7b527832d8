// The pictures nfvi draws: density heat maps and 2-D histograms (in the style of Rezende &
// Mohamed 2015, Fig. 3: the density alone, on equal axes, in a perceptual colour map),
// scatter panels of samples, montages of panels, and line charts of training curves.
// Also the tick machinery the charts share (nice_ticks, log_ticks, format_tick).
//
// Grids: a grid of nx by ny cells is a row-major buffer values[iy * nx + ix] ([ny][nx]) with
// iy = 0 the TOP row of the picture. For a density over x in [xmin, xmax], y in [ymin, ymax]
// that means cell (ix, iy) holds the density at
//     x = xmin + (ix + 0.5) * (xmax - xmin) / nx,   y = ymax - (iy + 0.5) * (ymax - ymin) / ny,
// i.e. the caller walks y downwards from ymax so that y points up in the picture.
// histogram2d() returns its bins in the same layout.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/plot/image.h"

namespace nfvi::plot {

// ---- heat maps -----------------------------------------------------------------------------

struct HeatmapOptions {
    int cell_px = 0;      // side of a grid cell in pixels (the map is nx * cell_px wide);
                          // 0: the map's longer side is size_px pixels, and each pixel shows
                          // the cell under its centre (cells square to within a pixel)
    int size_px = 400;    // the map's longer side when cell_px = 0
    std::string title;    // drawn above the map, centred; empty: no title
    bool axes = false;    // small grey tick labels for [xmin, xmax] and [ymin, ymax] outside
                          // the map (off by default: the paper's figures show none)
    double xmin = -1, xmax = 1, ymin = -1, ymax = 1;  // the range the grid covers
    Rgb background = kWhite;  // colour of the margins around the map
};

// Colours cell (ix, iy) with colormap(values[iy * nx + ix] / vmax) (see the grid layout
// above); vmax <= 0 (or NaN) means the largest finite value (1 if there is none or it is 0).
// Values above vmax saturate, values below 0 show as 0, NaN shows as kNanGrey. With no title
// and no axes the image is exactly the map (see cell_px and size_px for its size).
// Throws std::invalid_argument if values.size() != nx * ny or nx, ny < 1.
Image heatmap(std::span<const double> values, int nx, int ny, double vmax,
              const HeatmapOptions& opt = {});

// The 2-D histogram of the points (xs[i], ys[i]) on bins x bins cells over
// [xmin, xmax] x [ymin, ymax], as a density: count / (n_inside * cell_area), so that it
// integrates to 1 over the range (all zero if no point falls inside). Points outside the
// range or with a NaN coordinate are ignored; the upper edges belong to the last cells.
// Layout [bins][bins] as above (row 0 = top = ymax). Use it with heatmap() to draw a
// learned and a true density with a shared vmax.
// Throws std::invalid_argument on xs.size() != ys.size(), bins < 1 or an empty range.
std::vector<double> histogram2d(std::span<const double> xs, std::span<const double> ys,
                                double xmin, double xmax, double ymin, double ymax, int bins);

// heatmap(histogram2d(...), bins, bins, 0, opt) with opt's range set to the histogram's.
Image hist2d(std::span<const double> xs, std::span<const double> ys, double xmin, double xmax,
             double ymin, double ymax, int bins, const HeatmapOptions& opt = {});

// ---- scatter panels --------------------------------------------------------------------------

struct ScatterOptions {
    double radius = 0;  // dot radius in pixels; 0: max(1.2, size_px / 250)
    double alpha = 0;   // dot opacity; 0: clamp(500 / n_points, 0.25, 0.9)
};

// The colour of a point with colour value v in a scatter panel: colormap(0.82 * v) (v clamped
// to [0, 1]; NaN gives kNanGrey). The top of the colour map is left out because its light
// yellows would vanish on the panel's light background.
Rgb scatter_color(double v);

// A size_px-square panel: each point (xs[i], ys[i]) in [xmin, xmax] x [ymin, ymax] as a small
// translucent dot of colour scatter_color(color_values[i]) on white (y up), a thin grey frame,
// and `label` (e.g. "layer 3") in the top-left corner. color_values may be empty (all dots
// scatter_color(0)); otherwise it must match xs in size. Points outside the range or with a
// NaN coordinate are not drawn. For equal axes pass ranges of equal length.
// Throws std::invalid_argument on mismatched sizes, size_px < 16 or an empty range.
Image scatter_panel(std::span<const double> xs, std::span<const double> ys,
                    std::span<const double> color_values, double xmin, double xmax, double ymin,
                    double ymax, int size_px, std::string_view label,
                    const ScatterOptions& opt = {});

// ---- montages --------------------------------------------------------------------------------

// Panels in a grid, row by row, `columns` to a row; each panel centred in a cell of the size
// of the largest panel (cw x ch). With g = gap_px, p = max(g, 6) and s = 2 if cw >= 240 else 1
// (the labels' text scale; the title's is 2):
//   width  = g + L + columns * (cw + g),        L = widest row label at scale s + p, or 0
//   height = g + T + C + rows * (ch + g),       T = 18 + p if there is a title, else 0
//                                               C = 9 * s + p if there are column labels, else 0
// The title is centred on top; row labels sit left of their row, column labels above their
// column. Fewer labels than rows / columns is fine.
// Throws std::invalid_argument if panels is empty, columns < 1, gap_px < 0, or there are
// more labels than rows / columns.
Image montage(std::span<const Image> panels, int columns, int gap_px, Rgb background = kWhite,
              std::string_view title = {}, std::span<const std::string> row_labels = {},
              std::span<const std::string> column_labels = {});

// ---- line charts -----------------------------------------------------------------------------

struct Series {
    std::string name;
    std::vector<double> x, y;  // same size; x may be empty, meaning x = 0, 1, 2, ...
    Rgb color;
};

struct Chart {
    std::string title, xlabel, ylabel;
    std::vector<Series> series;
    bool log_x = false;  // log10 x axis; points with x <= 0 are then skipped
    int width = 800, height = 500;
};

// A distinct line colour for series i (cycles after 8).
Rgb palette(int i);

// The chart as a picture: axes with nice ticks and tick labels, light grid lines, axis labels,
// title, and a legend when there is more than one series (in the corner of the plot area that
// covers the fewest stretches of curve; top right on ties). Points with a NaN or infinite
// coordinate are skipped and break the line. The y range is the finite data range, except
// that far outliers are cut off (see chart_y_range); lines leaving it are clipped.
// Throws std::invalid_argument if a series' x and y differ in size or the chart is too small
// (under 120 x 80 pixels).
Image line_chart(const Chart& chart);

// ---- ticks -----------------------------------------------------------------------------------

// Ticks k * step inside [lo, hi] (ends included up to rounding) with step in {1, 2, 5} x 10^k,
// the step chosen so that the number of ticks is closest to `target` (ties: fewer ticks).
// Values are exact multiples of the step (as doubles: k * step, with -0 made 0).
// lo == hi gives {lo}; non-finite or lo > hi gives {}.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// The step nice_ticks chose for the same arguments (0 when it returns fewer than 2 ticks).
double nice_step(double lo, double hi, int target = 6);

// Ticks for a log10 axis over [lo, hi], 0 < lo < hi: the powers of ten inside when there
// are at least 3 of them (every 2nd, 3rd... power when there are more than 8); else
// {1, 2, 5} x 10^k inside; else nice_ticks(lo, hi). {} when lo <= 0.
std::vector<double> log_ticks(double lo, double hi);

// A short label for tick value v on an axis whose ticks are `step` apart: fixed-point with
// just enough decimals for the step ("0.2", "-3", "10000"), or compact scientific ("2.5e-5",
// "1e6") when |v| >= 1e6 or step < 1e-4. step <= 0 labels v on its own (as on a log axis).
std::string format_tick(double v, double step);

namespace detail {

// The y range a line chart shows (before its 5% padding): the range of all finite y, where
// for each series of at least 20 finite points the values beyond
//     [q01 - 10 * spread, q99 + 10 * spread],   spread = q99 - q01,
// with q01 and q99 the 1st and 99th percentiles of the series' later half, are cut off: a
// training curve whose first steps are huge still shows its converged part in detail, while
// a curve that moves steadily keeps its whole range. {0, 1} if there is no finite point.
struct Range {
    double lo, hi;
};
Range chart_y_range(const Chart& chart);

// The geometry a line chart shares between its PNG and SVG forms.
struct ChartLayout {
    int width = 0, height = 0;
    int scale = 1;                     // text scale of tick labels, axis labels and legend
    int plot_x = 0, plot_y = 0, plot_w = 0, plot_h = 0;  // the plot area in pixels
    double x_lo = 0, x_hi = 1;         // x range in axis units (log10 x on a log axis)
    double y_lo = 0, y_hi = 1;
    bool log_x = false;
    std::vector<double> x_ticks, y_ticks;         // in data units
    std::vector<std::string> x_labels, y_labels;  // one per tick
    int y_label_width = 0;             // widest y tick label in pixels
    // The legend (only when there is more than one series): its box, one name per series,
    // and its metrics: a row per entry, each a line sample then the name.
    bool legend = false;
    int legend_x = 0, legend_y = 0, legend_w = 0, legend_h = 0;
    std::vector<std::string> legend_names;
    int legend_inner = 0, legend_sample = 0, legend_gap = 0, legend_row = 0;

    // Pixel coordinates of data point (x, y); NaN if it cannot be shown (non-finite, or
    // x <= 0 on a log axis).
    double px(double x) const;
    double py(double y) const;
};
ChartLayout chart_layout(const Chart& chart);

// The finite points of series s (x filled in when empty; x <= 0 dropped on a log axis) as
// runs of consecutive indices: a NaN or infinite point ends a run.
std::vector<std::vector<std::pair<double, double>>> series_runs(const Series& s, bool log_x);

}  // namespace detail

}  // namespace nfvi::plot
