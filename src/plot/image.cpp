// The raster image and its drawing primitives (see image.h for the coordinate convention).
#include "src/plot/image.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace nfvi::plot {

namespace {

std::uint8_t mix_channel(std::uint8_t a, std::uint8_t b, double t) {
    return static_cast<std::uint8_t>(std::lround(a + (double(b) - double(a)) * t));
}

double clamp01(double t) { return std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0); }

// v clamped to [lo, hi] before the conversion, so that far-away coordinates stay defined.
int to_int_clamped(double v, int lo, int hi) {
    return static_cast<int>(std::clamp(v, double(lo), double(hi)));
}

// Distance from (px, py) to the segment (x0, y0)-(x1, y1).
double dist_to_segment(double px, double py, double x0, double y0, double x1, double y1) {
    const double dx = x1 - x0, dy = y1 - y0;
    const double len2 = dx * dx + dy * dy;
    double u = len2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / len2 : 0.0;
    u = std::clamp(u, 0.0, 1.0);
    const double qx = x0 + u * dx - px, qy = y0 + u * dy - py;
    return std::sqrt(qx * qx + qy * qy);
}

// A coverage buffer over the pixel box [bx, bx+bw) x [by, by+bh); values in [0, 1].
struct Coverage {
    int bx = 0, by = 0, bw = 0, bh = 0;
    std::vector<float> v;  // [bh][bw]

    void put(int x, int y, double c) {
        if (x < bx || y < by || x >= bx + bw || y >= by + bh || c <= 0) return;
        float& s = v[static_cast<std::size_t>(y - by) * bw + (x - bx)];
        s = std::max(s, static_cast<float>(std::min(c, 1.0)));
    }

    // Max-accumulates one stroke segment of half-width r. Sweeps the major axis, so the work
    // is proportional to the segment's length times its width, not to its bounding box.
    void segment(double x0, double y0, double x1, double y1, double r, double gain) {
        const bool x_major = std::abs(x1 - x0) >= std::abs(y1 - y0);
        if (!x_major) {  // swap the roles of x and y
            std::swap(x0, y0);
            std::swap(x1, y1);
        }
        const double lo = std::min(x0, x1), hi = std::max(x0, x1);
        const double reach = r + 1.0;
        // Along the minor axis a stroke at most 45 degrees off the major axis spans at most
        // sqrt(2) * (r + 0.5) from its centre line; 1.5 * reach is a safe bound.
        const double spread = 1.5 * reach + 1.0;
        const int major_lo = x_major ? bx : by, major_hi = x_major ? bx + bw : by + bh;
        const int minor_lo = x_major ? by : bx, minor_hi = x_major ? by + bh : bx + bw;
        const int a0 = to_int_clamped(std::floor(lo - reach), major_lo, major_hi);
        const int a1 = to_int_clamped(std::ceil(hi + reach), major_lo - 1, major_hi - 1);
        for (int a = a0; a <= a1; ++a) {
            const double ca = a + 0.5;
            const double cl = std::clamp(ca, lo, hi);
            const double centre = x1 != x0 ? y0 + (cl - x0) * (y1 - y0) / (x1 - x0) : y0;
            const int b0 = to_int_clamped(std::floor(centre - spread), minor_lo, minor_hi);
            const int b1 = to_int_clamped(std::ceil(centre + spread), minor_lo - 1, minor_hi - 1);
            for (int b = b0; b <= b1; ++b) {
                const double d = dist_to_segment(ca, b + 0.5, x0, y0, x1, y1);
                const double c = std::clamp(r + 0.5 - d, 0.0, 1.0) * gain;
                if (x_major) put(a, b, c);
                else put(b, a, c);
            }
        }
    }
};

}  // namespace

Rgb mix(Rgb a, Rgb b, double t) {
    t = clamp01(t);
    return {mix_channel(a.r, b.r, t), mix_channel(a.g, b.g, t), mix_channel(a.b, b.b, t)};
}

Image::Image(int width, int height, Rgb fill) : w_(width), h_(height) {
    if (width < 0 || height < 0)
        throw std::invalid_argument("nfvi::plot::Image: width and height must be >= 0, got " +
                                    std::to_string(width) + " x " + std::to_string(height));
    px_.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height), fill);
}

void Image::blend(int x, int y, Rgb c, double alpha) {
    if (!contains(x, y) || !(alpha > 0)) return;
    Rgb& p = at(x, y);
    p = alpha >= 1 ? c : mix(p, c, alpha);
}

void Image::fill_rect(int x, int y, int w, int h, Rgb c) {
    const int x0 = std::max(x, 0), y0 = std::max(y, 0);
    const int x1 = std::min(x + std::max(w, 0), w_), y1 = std::min(y + std::max(h, 0), h_);
    for (int yy = y0; yy < y1; ++yy)
        for (int xx = x0; xx < x1; ++xx) at(xx, yy) = c;
}

void Image::frame_rect(int x, int y, int w, int h, Rgb c) {
    if (w <= 0 || h <= 0) return;
    fill_rect(x, y, w, 1, c);
    fill_rect(x, y + h - 1, w, 1, c);
    fill_rect(x, y, 1, h, c);
    fill_rect(x + w - 1, y, 1, h, c);
}

void Image::blit(const Image& src, int x, int y) {
    const int x0 = std::max(x, 0), y0 = std::max(y, 0);
    const int x1 = std::min(x + src.w_, w_), y1 = std::min(y + src.h_, h_);
    for (int yy = y0; yy < y1; ++yy)
        for (int xx = x0; xx < x1; ++xx) at(xx, yy) = src.at(xx - x, yy - y);
}

Image Image::crop(int x, int y, int w, int h) const {
    const int x0 = std::clamp(x, 0, w_), y0 = std::clamp(y, 0, h_);
    const int x1 = std::clamp(x + std::max(w, 0), x0, w_);
    const int y1 = std::clamp(y + std::max(h, 0), y0, h_);
    Image out(x1 - x0, y1 - y0);
    for (int yy = y0; yy < y1; ++yy)
        for (int xx = x0; xx < x1; ++xx) out.at(xx - x0, yy - y0) = at(xx, yy);
    return out;
}

void Image::line(double x0, double y0, double x1, double y1, Rgb c, double width) {
    const double xs[2] = {x0, x1}, ys[2] = {y0, y1};
    polyline(xs, ys, c, width);
}

void Image::polyline(std::span<const double> xs, std::span<const double> ys, Rgb c, double width) {
    if (xs.size() != ys.size())
        throw std::invalid_argument("nfvi::plot::Image::polyline: xs and ys differ in size (" +
                                    std::to_string(xs.size()) + " vs " +
                                    std::to_string(ys.size()) + ")");
    if (!(width > 0) || w_ == 0 || h_ == 0) return;
    const double r = width / 2;
    const double gain = std::min(1.0, width);  // hairlines fade rather than vanish
    const std::size_t n = xs.size();
    std::size_t i = 0;
    while (i < n) {
        // One run of finite points [i, j).
        while (i < n && !(std::isfinite(xs[i]) && std::isfinite(ys[i]))) ++i;
        std::size_t j = i;
        double lx = 1e300, hx = -1e300, ly = 1e300, hy = -1e300;
        while (j < n && std::isfinite(xs[j]) && std::isfinite(ys[j])) {
            lx = std::min(lx, xs[j]), hx = std::max(hx, xs[j]);
            ly = std::min(ly, ys[j]), hy = std::max(hy, ys[j]);
            ++j;
        }
        if (j == i) break;
        Coverage cov;
        const double pad = r + 2;
        cov.bx = static_cast<int>(std::clamp(std::floor(lx - pad), 0.0, double(w_)));
        cov.by = static_cast<int>(std::clamp(std::floor(ly - pad), 0.0, double(h_)));
        const int ex = static_cast<int>(std::clamp(std::ceil(hx + pad), 0.0, double(w_)));
        const int ey = static_cast<int>(std::clamp(std::ceil(hy + pad), 0.0, double(h_)));
        cov.bw = ex - cov.bx;
        cov.bh = ey - cov.by;
        if (cov.bw > 0 && cov.bh > 0) {
            cov.v.assign(static_cast<std::size_t>(cov.bw) * cov.bh, 0.0f);
            if (j - i == 1) cov.segment(xs[i], ys[i], xs[i], ys[i], r, gain);
            for (std::size_t k = i + 1; k < j; ++k)
                cov.segment(xs[k - 1], ys[k - 1], xs[k], ys[k], r, gain);
            for (int y = 0; y < cov.bh; ++y)
                for (int x = 0; x < cov.bw; ++x)
                    blend(cov.bx + x, cov.by + y, c, cov.v[static_cast<std::size_t>(y) * cov.bw + x]);
        }
        i = j;
    }
}

void Image::dot(double x, double y, double radius, Rgb c, double alpha) {
    if (!(radius > 0) || !(alpha > 0) || !std::isfinite(x) || !std::isfinite(y)) return;
    const int x0 = to_int_clamped(std::floor(x - radius - 1), 0, w_);
    const int y0 = to_int_clamped(std::floor(y - radius - 1), 0, h_);
    const int x1 = to_int_clamped(std::ceil(x + radius + 1), -1, w_ - 1);
    const int y1 = to_int_clamped(std::ceil(y + radius + 1), -1, h_ - 1);
    const double a = std::min(alpha, 1.0);
    for (int yy = y0; yy <= y1; ++yy)
        for (int xx = x0; xx <= x1; ++xx) {
            const double dx = xx + 0.5 - x, dy = yy + 0.5 - y;
            const double cover = std::clamp(radius + 0.5 - std::sqrt(dx * dx + dy * dy), 0.0, 1.0);
            blend(xx, yy, c, cover * a);
        }
}

}  // namespace nfvi::plot
