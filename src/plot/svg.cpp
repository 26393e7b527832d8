// SVG output of line charts (see svg.h); the geometry comes from detail::chart_layout, shared
// with the raster line_chart().
#include "src/plot/svg.h"

#include <algorithm>
#include <cstdio>

#include "src/plot/font.h"

namespace nfvi::plot {

namespace {

// Number with at most 2 decimals, trailing zeros dropped ("12.5", "300").
std::string num(double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    std::string s = buf;
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s == "-0" ? "0" : s;
}

std::string hex(Rgb c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}

// The same inks as the raster chart.
const std::string kTitleInk = "#232323", kLabelInk = "#464646", kTickInk = "#6e6e6e",
                  kAxisInk = "#969696", kGridInk = "#eaeaea";

struct Svg {
    std::string out;

    // Text whose bitmap-font box would have its top at y; SVG places the baseline, which for
    // the bitmap font is 7 pixels per scale below the top. anchor: start, middle or end.
    void text(double x, double y_top, int scale, std::string_view s, const std::string& ink,
              const char* anchor = "start", bool up = false) {
        const double fs = 10.0 * scale;  // a monospace advance of 0.6 em = 6 px per scale, as the bitmap font
        if (up) {
            // Rotated anticlockwise about (x, y): the box x..x+9s, centred on y_top.
            const double bx = x + 7 * scale;
            out += "<text x=\"" + num(bx) + "\" y=\"" + num(y_top) + "\" font-size=\"" + num(fs) +
                   "\" fill=\"" + ink + "\" text-anchor=\"middle\" transform=\"rotate(-90 " + num(bx) +
                   " " + num(y_top) + ")\">" + xml_escape(s) + "</text>\n";
            return;
        }
        out += "<text x=\"" + num(x) + "\" y=\"" + num(y_top + 7 * scale) + "\" font-size=\"" + num(fs) +
               "\" fill=\"" + ink + "\" text-anchor=\"" + anchor + "\">" + xml_escape(s) + "</text>\n";
    }
    void line(double x0, double y0, double x1, double y1, const std::string& ink, double w) {
        out += "<line x1=\"" + num(x0) + "\" y1=\"" + num(y0) + "\" x2=\"" + num(x1) + "\" y2=\"" + num(y1) +
               "\" stroke=\"" + ink + "\" stroke-width=\"" + num(w) + "\"/>\n";
    }
};

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += '?';
                else out += c;
        }
    }
    return out;
}

std::string line_chart_svg(const Chart& chart) {
    const detail::ChartLayout L = detail::chart_layout(chart);
    const int s = L.scale, th = text_height(s), tick = 4 * s, pad = 12 * s;
    const double left = L.plot_x, top = L.plot_y, right = L.plot_x + L.plot_w,
                 bottom = L.plot_y + L.plot_h;
    auto tick_x = [&](double v) { return std::clamp(L.px(v), left, right); };
    auto tick_y = [&](double v) { return std::clamp(L.py(v), top, bottom); };

    Svg g;
    const std::string w = std::to_string(L.width), h = std::to_string(L.height);
    g.out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    g.out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + w + "\" height=\"" + h +
             "\" viewBox=\"0 0 " + w + " " + h + "\" font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\">\n";
    g.out += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
    g.out += "<defs><clipPath id=\"plot-area\"><rect x=\"" + num(left) + "\" y=\"" + num(top) +
             "\" width=\"" + num(L.plot_w) + "\" height=\"" + num(L.plot_h) + "\"/></clipPath></defs>\n";

    // Grid.
    for (double v : L.x_ticks) g.line(tick_x(v), top, tick_x(v), bottom, kGridInk, 1);
    for (double v : L.y_ticks) g.line(left, tick_y(v), right, tick_y(v), kGridInk, 1);

    // Curves.
    g.out += "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"" + num(1.6 * s) +
             "\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n";
    bool any = false;
    for (const Series& ser : chart.series)
        for (const auto& run : detail::series_runs(ser, chart.log_x)) {
            g.out += "<polyline stroke=\"" + hex(ser.color) + "\" points=\"";
            for (std::size_t i = 0; i < run.size(); ++i) {
                if (i) g.out += ' ';
                g.out += num(L.px(run[i].first)) + "," + num(std::clamp(L.py(run[i].second), -1e7, 1e7));
            }
            g.out += "\"/>\n";
            any = true;
        }
    g.out += "</g>\n";
    if (!any) g.text(left + L.plot_w / 2.0, top + L.plot_h / 2.0 - th / 2.0, s, "no finite data", kTickInk, "middle");

    // Axes, ticks, tick labels.
    g.line(left - 0.5, top, left - 0.5, bottom + 0.5, kAxisInk, 1);
    g.line(left - 0.5, bottom + 0.5, right, bottom + 0.5, kAxisInk, 1);
    for (std::size_t k = 0; k < L.x_ticks.size(); ++k) {
        const double x = tick_x(L.x_ticks[k]);
        g.line(x, bottom + 1, x, bottom + 1 + tick, kAxisInk, s);
        g.text(x, bottom + 1 + tick + 3 * s, s, L.x_labels[k], kTickInk, "middle");
    }
    for (std::size_t k = 0; k < L.y_ticks.size(); ++k) {
        const double y = tick_y(L.y_ticks[k]);
        g.line(left - 1 - tick, y, left - 1, y, kAxisInk, s);
        g.text(left - 1 - tick - 3 * s, y - th / 2.0, s, L.y_labels[k], kTickInk, "end");
    }

    // Axis labels and title.
    if (!chart.xlabel.empty())
        g.text(left + L.plot_w / 2.0, L.height - pad - th, s, chart.xlabel, kLabelInk, "middle");
    if (!chart.ylabel.empty()) g.text(pad, top + L.plot_h / 2.0, s, chart.ylabel, kLabelInk, "middle", true);
    if (!chart.title.empty()) g.text(left + L.plot_w / 2.0, pad, s + 1, chart.title, kTitleInk, "middle");

    // Legend.
    if (L.legend) {
        const double bx = L.legend_x, by = L.legend_y;
        const int inner = L.legend_inner;
        g.out += "<rect x=\"" + num(bx) + "\" y=\"" + num(by) + "\" width=\"" + num(L.legend_w) +
                 "\" height=\"" + num(L.legend_h) +
                 "\" fill=\"#ffffff\" fill-opacity=\"0.88\" stroke=\"#d2d2d2\" stroke-width=\"1\"/>\n";
        for (std::size_t k = 0; k < L.legend_names.size(); ++k) {
            const double ty = by + inner + static_cast<double>(k) * L.legend_row;
            const double cy = ty + th / 2.0;
            g.line(bx + inner, cy, bx + inner + L.legend_sample, cy, hex(chart.series[k].color), 2.0 * s);
            g.text(bx + inner + L.legend_sample + L.legend_gap, ty, s, L.legend_names[k], kLabelInk);
        }
    }
    g.out += "</svg>\n";
    return g.out;
}

}  // namespace nfvi::plot
