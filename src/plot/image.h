// An 8-bit RGB raster image and the few drawing primitives nfvi's plots need: filled
// rectangles, copies, anti-aliased lines and polylines, and anti-aliased round dots.
//
// Coordinates: pixel (ix, iy) is the unit square [ix, ix+1) x [iy, iy+1), x to the right,
// y downwards, (0, 0) the top-left pixel; its centre is (ix + 0.5, iy + 0.5). The continuous
// primitives (line, polyline, dot) take such real coordinates. Everything is clipped to the
// image: drawing outside it is allowed and does nothing there.
//
// Blending is done on the stored sRGB values (not in linear light), which is what most
// plotting programs do and is enough for anti-aliased edges and translucent dots.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#if defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__
#error "nfvi's plots skip NaN and infinite data, which fast-math hides; build without it"
#endif

namespace nfvi::plot {

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    friend bool operator==(Rgb, Rgb) = default;
};
static_assert(sizeof(Rgb) == 3, "Rgb must be 3 packed bytes so that Image::data() is RGB");

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};

// a * (1 - t) + b * t per channel, rounded; t is clamped to [0, 1].
Rgb mix(Rgb a, Rgb b, double t);

class Image {
public:
    Image() = default;  // 0 x 0
    // Throws std::invalid_argument for a negative size.
    Image(int width, int height, Rgb fill = kWhite);

    int width() const { return w_; }
    int height() const { return h_; }
    bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < w_ && y < h_; }

    // Unchecked access; (x, y) must be inside.
    Rgb& at(int x, int y) { return px_[static_cast<std::size_t>(y) * w_ + x]; }
    const Rgb& at(int x, int y) const { return px_[static_cast<std::size_t>(y) * w_ + x]; }

    // The pixels as bytes [height][width][3] (R, G, B), top row first: ready for
    // nfvi::io::encode_png(width(), height(), 3, bytes()).
    const std::uint8_t* data() const { return reinterpret_cast<const std::uint8_t*>(px_.data()); }
    std::span<const std::uint8_t> bytes() const { return {data(), px_.size() * 3}; }

    // Pixel (x, y) := mix(pixel, c, alpha); nothing if (x, y) is outside.
    void blend(int x, int y, Rgb c, double alpha);

    // The pixels [x, x+w) x [y, y+h), clipped.
    void fill_rect(int x, int y, int w, int h, Rgb c);
    // A 1-pixel outline just inside [x, x+w) x [y, y+h), clipped.
    void frame_rect(int x, int y, int w, int h, Rgb c);
    void fill(Rgb c) { fill_rect(0, 0, w_, h_, c); }

    // Copies src with its top-left pixel at (x, y), clipped.
    void blit(const Image& src, int x, int y);
    // The part [x, x+w) x [y, y+h) as a new image (clipped; may be smaller than asked).
    Image crop(int x, int y, int w, int h) const;

    // An anti-aliased straight segment of the given width (pixels) with round ends: each pixel
    // is blended with c by the fraction of it that the stroke covers (approximated from the
    // distance of the pixel centre to the segment).
    void line(double x0, double y0, double x1, double y1, Rgb c, double width = 1);
    // A connected polyline through (xs[i], ys[i]). Its coverage is the maximum over its
    // segments, so joints are not darkened by double blending. Non-finite points break the
    // line (each finite run is drawn on its own). xs and ys must have the same size.
    void polyline(std::span<const double> xs, std::span<const double> ys, Rgb c, double width = 1);
    // An anti-aliased disc of the given radius centred at (x, y), blended with opacity alpha.
    void dot(double x, double y, double radius, Rgb c, double alpha = 1);

private:
    int w_ = 0, h_ = 0;
    std::vector<Rgb> px_;  // [h][w]
};

}  // namespace nfvi::plot
