// Tests of the plotting layer (src/plot): the image primitives, the bitmap font, the colour
// map (its lightness computed independently in OKLab), heat map orientation, 2-D histogram
// normalization, scatter panels, montage geometry, tick selection and labels, and the SVG
// line chart (well-formed, escaped, one polyline point per finite data point).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "src/plot/colormap.h"
#include "src/plot/figures.h"
#include "src/plot/font.h"
#include "src/plot/image.h"
#include "src/plot/svg.h"

using namespace nfvi::plot;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The bounding box of the pixels of `img` that differ from `bg`; {0,0,-1,-1} if none.
struct Box {
    int x0, y0, x1, y1;  // inclusive
    bool empty() const { return x1 < x0; }
};
Box changed_box(const Image& img, Rgb bg) {
    Box b{img.width(), img.height(), -1, -1};
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            if (!(img.at(x, y) == bg)) {
                b.x0 = std::min(b.x0, x), b.y0 = std::min(b.y0, y);
                b.x1 = std::max(b.x1, x), b.y1 = std::max(b.y1, y);
            }
    if (b.x1 < 0) return {0, 0, -1, -1};
    return b;
}

bool contains_color(const Image& img, Rgb c) {
    for (int y = 0; y < img.height(); ++y)
        for (int x = 0; x < img.width(); ++x)
            if (img.at(x, y) == c) return true;
    return false;
}

std::size_t count_substr(const std::string& s, const std::string& sub) {
    std::size_t n = 0;
    for (std::size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + 1)) ++n;
    return n;
}

// Checks that the XML elements in `doc` nest properly. Returns "" or a description of the
// first problem. Enough for our generated SVG: no comments, no CDATA, quoted attributes.
std::string check_balanced(const std::string& doc) {
    std::vector<std::string> stack;
    std::size_t i = 0;
    while ((i = doc.find('<', i)) != std::string::npos) {
        const std::size_t end = doc.find('>', i);
        if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
        const std::string tag = doc.substr(i + 1, end - i - 1);
        i = end + 1;
        if (tag.empty()) return "empty tag";
        if (tag[0] == '?') continue;  // the XML declaration
        if (tag.find('<') != std::string::npos) return "'<' inside a tag: " + tag;
        if (tag[0] == '/') {
            const std::string name = tag.substr(1);
            if (stack.empty() || stack.back() != name) return "unexpected </" + name + ">";
            stack.pop_back();
        } else if (tag.back() != '/') {
            stack.push_back(tag.substr(0, tag.find_first_of(" \n\t")));
        }
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    return "";
}

// The numbers of coordinate pairs in each points="..." of the document's polylines.
std::vector<int> polyline_point_counts(const std::string& doc) {
    std::vector<int> counts;
    for (std::size_t p = doc.find("<polyline"); p != std::string::npos; p = doc.find("<polyline", p + 1)) {
        const std::size_t a = doc.find("points=\"", p) + 8, b = doc.find('"', a);
        const std::string pts = doc.substr(a, b - a);
        int n = pts.empty() ? 0 : 1;
        for (char c : pts) n += c == ' ';
        CHECK(count_substr(pts, ",") == static_cast<std::size_t>(n));  // each point is "x,y"
        counts.push_back(n);
    }
    return counts;
}

}  // namespace

// ---- image -------------------------------------------------------------------------------------

TEST_CASE("image: RGB bytes are row-major, top row first") {
    Image img(3, 2, Rgb{9, 9, 9});
    img.at(1, 0) = {1, 2, 3};
    img.at(2, 1) = {4, 5, 6};
    REQUIRE(img.bytes().size() == 18u);
    const std::uint8_t* d = img.data();
    CHECK(d[3] == 1);
    CHECK(d[4] == 2);
    CHECK(d[5] == 3);
    CHECK(d[(1 * 3 + 2) * 3 + 0] == 4);
    CHECK(d[(1 * 3 + 2) * 3 + 2] == 6);
    CHECK(d[0] == 9);
    CHECK_THROWS_AS(Image(-1, 2), std::invalid_argument);
}

TEST_CASE("image: fill_rect, blit and crop clip to the image") {
    Image img(10, 8);
    img.fill_rect(-5, 6, 8, 10, kBlack);  // covers x 0..2, y 6..7
    CHECK(changed_box(img, kWhite).x0 == 0);
    CHECK(changed_box(img, kWhite).x1 == 2);
    CHECK(changed_box(img, kWhite).y0 == 6);
    CHECK(changed_box(img, kWhite).y1 == 7);
    Image src(4, 4, Rgb{1, 2, 3});
    src.at(0, 0) = {7, 7, 7};
    img.blit(src, 8, -2);  // only src columns 0..1, rows 2..3 land
    CHECK(img.at(8, 0) == Rgb{1, 2, 3});
    CHECK(img.at(9, 1) == Rgb{1, 2, 3});
    CHECK(img.at(8, 2) == kWhite);
    const Image c = img.crop(8, 0, 5, 5);
    CHECK(c.width() == 2);
    CHECK(c.height() == 5);
    CHECK(c.at(0, 0) == Rgb{1, 2, 3});
}

TEST_CASE("image: anti-aliased line and dot cover the right pixels") {
    Image img(30, 20);
    img.line(2, 10.5, 25, 10.5, kBlack, 1);  // a horizontal 1-pixel line through row 10's centres
    for (int x = 3; x <= 24; ++x) {
        CHECK(img.at(x, 10) == kBlack);
        CHECK(img.at(x, 8) == kWhite);
        CHECK(img.at(x, 12) == kWhite);
    }
    CHECK(img.at(28, 10) == kWhite);
    // A diagonal: pixels on it are dark, pixels 3 away are untouched, partial ones in between.
    Image d(40, 40);
    d.line(5, 5, 35, 35, kBlack, 1.5);
    CHECK(d.at(20, 20).r < 40);
    CHECK(d.at(23, 20) == kWhite);
    bool partial = false;
    for (int y = 0; y < 40; ++y)
        for (int x = 0; x < 40; ++x) partial |= d.at(x, y).r > 0 && d.at(x, y).r < 255;
    CHECK(partial);
    // Far-away and non-finite coordinates are clipped, not crashes.
    d.line(-1e12, -1e12, 1e12, 1e12, kBlack, 2);
    d.line(kNaN, 0, 5, 5, kBlack, 2);
    const double xs[] = {1, 2, kNaN, 4, kInf, 6}, ys[] = {1, 2, 3, 4, 5, 6};
    d.polyline(xs, ys, kBlack, 1);
    // Dots: opaque centre, nothing outside radius + 1.
    Image p(20, 20);
    p.dot(10, 10, 3, Rgb{200, 10, 10}, 1);
    CHECK(p.at(10, 10) == Rgb{200, 10, 10});
    CHECK(p.at(9, 9) == Rgb{200, 10, 10});
    CHECK(p.at(15, 10) == kWhite);
    CHECK(p.at(10, 4) == kWhite);
    Image q(20, 20);
    q.dot(10, 10, 3, kBlack, 0.5);
    CHECK(q.at(10, 10) == mix(kWhite, kBlack, 0.5));
}

// ---- font --------------------------------------------------------------------------------------

TEST_CASE("font: every printable glyph is distinct from every other and from the box") {
    std::set<GlyphRows> seen;
    const GlyphRows box = box_glyph();
    for (int c = 32; c <= 126; ++c) {
        const GlyphRows g = glyph(static_cast<char>(c));
        CHECK_MESSAGE(g != box, "glyph " << c << " looks like the unknown-character box");
        CHECK_MESSAGE(seen.insert(g).second, "glyph " << c << " duplicates an earlier glyph");
        bool ink = false;
        for (std::uint8_t row : g) {
            CHECK(row < (1u << kGlyphWidth));  // nothing outside the 5 columns
            ink |= row != 0;
        }
        CHECK_MESSAGE(ink == (c != ' '), "glyph " << c);
    }
    CHECK(glyph('\n') == box);
    CHECK(glyph(static_cast<char>(127)) == box);
    CHECK(glyph(static_cast<char>(0xC3)) == box);
}

TEST_CASE("font: text_width") {
    CHECK(text_width("") == 0);
    CHECK(text_width("a") == 5);
    CHECK(text_width("abc") == 17);
    CHECK(text_width("abc", 2) == 34);
    CHECK(text_width("abc", 0) == 17);  // scale < 1 is 1
    CHECK(text_length("caf\xc3\xa9") == 4);  // a UTF-8 sequence is one character
    CHECK(text_width("caf\xc3\xa9") == 23);
    CHECK(text_height(3) == 27);
}

TEST_CASE("font: drawing text changes pixels only inside its box, and does change them") {
    for (int scale : {1, 2, 3}) {
        for (const char* s : {"Hg", "layer 3", "(x_1) = -2.5e-3 [%]", "j,", "|", "\x01\xc3\xa9"}) {
            Image img(200, 50);
            const int x = 7, y = 5;
            draw_text(img, x, y, s, kBlack, scale);
            const Box b = changed_box(img, kWhite);
            REQUIRE(!b.empty());
            CHECK(b.x0 >= x);
            CHECK(b.y0 >= y);
            CHECK(b.x1 < x + text_width(s, scale));
            CHECK(b.y1 < y + text_height(scale));
            // Up-turned text: its box is text_height wide and text_width tall.
            Image up(60, 200);
            draw_text_up(up, x, y, s, kBlack, scale);
            const Box u = changed_box(up, kWhite);
            REQUIRE(!u.empty());
            CHECK(u.x0 >= x);
            CHECK(u.y0 >= y);
            CHECK(u.x1 < x + text_height(scale));
            CHECK(u.y1 < y + text_width(s, scale));
        }
    }
    // Descenders use the rows below the baseline; capitals do not.
    Image g(20, 20), h(20, 20);
    draw_text(g, 0, 0, "g", kBlack);
    draw_text(h, 0, 0, "H", kBlack);
    CHECK(changed_box(g, kWhite).y1 == 8);
    CHECK(changed_box(h, kWhite).y1 == 6);
    // Centred and right-aligned placement.
    Image a(100, 20), c(100, 20), r(100, 20);
    draw_text(a, 50 - text_width("abc") / 2, 3, "abc", kBlack);
    draw_text_centered(c, 50, 3, "abc", kBlack);
    draw_text_right(r, 80, 3, "abc", kBlack);
    CHECK(changed_box(a, kWhite).x0 == changed_box(c, kWhite).x0);
    CHECK(changed_box(r, kWhite).x1 <= 79);
    CHECK(changed_box(r, kWhite).x1 >= 77);
}

// ---- colour map --------------------------------------------------------------------------------

TEST_CASE("colormap: OKLab conversion matches published values") {
    // sRGB red, green, blue in OKLab, as tabulated by Ottosson.
    const Oklab red = srgb_to_oklab({255, 0, 0}), blue = srgb_to_oklab({0, 0, 255});
    CHECK(red.L == doctest::Approx(0.627955).epsilon(1e-4));
    CHECK(red.a == doctest::Approx(0.224863).epsilon(1e-4));
    CHECK(red.b == doctest::Approx(0.125846).epsilon(1e-4));
    CHECK(blue.L == doctest::Approx(0.452014).epsilon(1e-4));
    CHECK(blue.b == doctest::Approx(-0.311528).epsilon(1e-4));
    CHECK(srgb_to_oklab(kWhite).L == doctest::Approx(1.0).epsilon(1e-4));
    CHECK(std::abs(srgb_to_oklab(kWhite).a) < 1e-4);
    CHECK(srgb_to_oklab(kBlack).L == doctest::Approx(0.0));
    // Round trip through 8 bits.
    for (Rgb c : {Rgb{12, 200, 99}, Rgb{255, 255, 0}, Rgb{40, 20, 90}}) CHECK(oklab_to_srgb(srgb_to_oklab(c)) == c);
}

TEST_CASE("colormap: lightness rises strictly and about linearly along the table") {
    const auto& table = colormap_table();
    double prev = -1;
    for (int i = 0; i < 256; ++i) {
        const Oklab c = srgb_to_oklab(table[static_cast<std::size_t>(i)]);
        CHECK_MESSAGE(c.L > prev, "entry " << i);
        CHECK(c.L == doctest::Approx(0.27 + 0.68 * i / 255.0).epsilon(0.01));
        CHECK(std::hypot(c.a, c.b) > 0.05);  // a colour, never a grey
        prev = c.L;
    }
    const Oklab lo = srgb_to_oklab(table.front()), hi = srgb_to_oklab(table.back());
    CHECK(hi.L - lo.L > 0.6);
    CHECK(lo.b < 0);  // dark end blue-violet (b < 0) ...
    CHECK(hi.b > 0.1);  // ... light end yellow (b > 0)
    CHECK(colormap(0) == table.front());
    CHECK(colormap(1) == table.back());
    CHECK(colormap(-3) == table.front());
    CHECK(colormap(kInf) == table.back());
    CHECK(colormap(0.5) == table[128]);
    CHECK(colormap_background() == table.front());
    CHECK(colormap(kNaN) == kNanGrey);
    CHECK(std::find(table.begin(), table.end(), kNanGrey) == table.end());
}

// ---- heat maps and histograms ----------------------------------------------------------------

TEST_CASE("heatmap: cell (ix, iy) = values[iy * nx + ix], iy = 0 at the top") {
    // nx = 3, ny = 2: brightest top-left, darkest bottom-right.
    const std::vector<double> v = {4, 2, 3,   //  iy = 0 (top)
                                   1, 0.5, 0};  // iy = 1 (bottom)
    HeatmapOptions o;
    o.cell_px = 10;
    const Image img = heatmap(v, 3, 2, 0, o);
    REQUIRE(img.width() == 30);
    REQUIRE(img.height() == 20);
    CHECK(img.at(0, 0) == colormap(1));   // top-left cell is the maximum
    CHECK(img.at(9, 9) == colormap(1));
    CHECK(img.at(29, 19) == colormap(0));  // bottom-right is 0
    CHECK(img.at(15, 5) == colormap(0.5));
    CHECK(img.at(25, 5) == colormap(0.75));
    CHECK(img.at(5, 15) == colormap(0.25));
    // The mirrored grid puts the maximum bottom-right.
    const std::vector<double> w = {0, 0.5, 1, 3, 2, 4};
    const Image m = heatmap(w, 3, 2, 0, o);
    CHECK(m.at(29, 19) == colormap(1));
    CHECK(m.at(0, 0) == colormap(0));
    // An explicit vmax saturates; NaN and negatives have fixed colours.
    const std::vector<double> s = {8, kNaN, -1, 2, 1, 0};
    const Image si = heatmap(s, 3, 2, 4, o);
    CHECK(si.at(0, 0) == colormap(1));
    CHECK(si.at(15, 5) == kNanGrey);
    CHECK(si.at(25, 5) == colormap_background());
    CHECK(si.at(5, 15) == colormap(0.5));
}

TEST_CASE("heatmap: size_px, title and axes") {
    const std::vector<double> v(8 * 4, 1.0);
    HeatmapOptions o;
    o.size_px = 100;
    const Image a = heatmap(v, 8, 4, 0, o);
    CHECK(a.width() == 100);
    CHECK(a.height() == 50);
    o.title = "a title";
    o.axes = true;
    o.xmin = -4, o.xmax = 4, o.ymin = -2, o.ymax = 2;
    const Image b = heatmap(v, 8, 4, 0, o);
    CHECK(b.width() > 100);
    CHECK(b.height() > 50 + text_height());
    // The map sits intact inside the margins: exactly 100 x 50 pixels of colormap(1).
    int n = 0;
    for (int y = 0; y < b.height(); ++y)
        for (int x = 0; x < b.width(); ++x) n += b.at(x, y) == colormap(1);
    CHECK(n == 100 * 50);
    CHECK_THROWS_AS(heatmap(v, 8, 5, 0, o), std::invalid_argument);
    CHECK_THROWS_AS(heatmap(v, 0, 4, 0, o), std::invalid_argument);
}

TEST_CASE("histogram2d: a density over the range, row 0 at the top, outside points ignored") {
    // 4 x 4 bins over [0, 4] x [0, 8]: cells 1 wide, 2 tall.
    std::vector<double> xs = {0.5, 0.5, 3.5, 4.0, 2.2}, ys = {7.5, 7.9, 0.1, 0.0, 3.0};
    const auto h = histogram2d(xs, ys, 0, 4, 0, 8, 4);
    REQUIRE(h.size() == 16u);
    const double unit = 1.0 / (5 * 1.0 * 2.0);  // one point's density
    CHECK(h[0 * 4 + 0] == doctest::Approx(2 * unit));  // (0.5, 7.5), (0.5, 7.9): top-left
    CHECK(h[3 * 4 + 3] == doctest::Approx(2 * unit));  // (3.5, 0.1) and the corner (4, 0)
    CHECK(h[2 * 4 + 2] == doctest::Approx(unit));      // (2.2, 3.0): y-bin 1 from the bottom
    double integral = 0;
    for (double v : h) integral += v * 1.0 * 2.0;
    CHECK(integral == doctest::Approx(1.0));
    // Points outside the range or with NaN change nothing.
    xs.insert(xs.end(), {-0.1, 5, 1, kNaN, 1});
    ys.insert(ys.end(), {1, 1, 8.5, 1, kNaN});
    CHECK(histogram2d(xs, ys, 0, 4, 0, 8, 4) == h);
    // Many points: still integrates to 1.
    std::vector<double> px, py;
    for (int i = 0; i < 5000; ++i) {
        px.push_back(std::sin(i * 0.37) * 3);
        py.push_back(std::cos(i * 0.91) * 3);
    }
    const auto g = histogram2d(px, py, -2, 2, -2.5, 2.5, 17);
    double s = 0;
    for (double v : g) s += v * (4.0 / 17) * (5.0 / 17);
    CHECK(s == doctest::Approx(1.0));
    CHECK(histogram2d(std::vector<double>{9}, std::vector<double>{9}, 0, 1, 0, 1, 3) == std::vector<double>(9, 0.0));
    CHECK_THROWS_AS(histogram2d(px, ys, 0, 1, 0, 1, 3), std::invalid_argument);
    CHECK_THROWS_AS(histogram2d(px, py, 1, 1, 0, 1, 3), std::invalid_argument);
    // hist2d draws the same: the top-left cell is the brightest.
    HeatmapOptions o;
    o.cell_px = 5;
    const Image img = hist2d(std::vector<double>{0.1, 0.1, 0.9}, std::vector<double>{0.9, 0.95, 0.1}, 0, 1, 0, 1, 2, o);
    CHECK(img.width() == 10);
    CHECK(img.at(2, 2) == colormap(1));
    CHECK(img.at(7, 7) == colormap(0.5));
    CHECK(img.at(7, 2) == colormap(0));
}

// ---- scatter panels and montages -------------------------------------------------------------

TEST_CASE("scatter_panel: a dot of the point's colour where the point lies") {
    const std::vector<double> xs = {0.5, -0.5}, ys = {-0.5, 0.5}, cv = {1.0, 0.0};
    ScatterOptions so;
    so.radius = 3;
    so.alpha = 1;
    const Image img = scatter_panel(xs, ys, cv, -1, 1, -1, 1, 100, "layer 3", so);
    REQUIRE(img.width() == 100);
    REQUIRE(img.height() == 100);
    CHECK(img.at(75, 75) == scatter_color(1.0));  // (0.5, -0.5): right, lower half (y up)
    CHECK(img.at(25, 25) == scatter_color(0.0));
    CHECK(img.at(75, 25) == kWhite);
    CHECK(img.at(50, 50) == kWhite);
    CHECK(!(img.at(0, 50) == kWhite));  // the frame
    CHECK(scatter_color(1.0) == colormap(0.82));
    CHECK(scatter_color(kNaN) == kNanGrey);
    // The label is in the top-left corner.
    const Box b = changed_box(img.crop(1, 1, 60, 20), kWhite);
    CHECK(!b.empty());
    CHECK_THROWS_AS(scatter_panel(xs, ys, std::vector<double>{1}, -1, 1, -1, 1, 100, ""), std::invalid_argument);
    // Points outside are skipped; an empty panel is fine.
    const Image e = scatter_panel(std::vector<double>{5}, std::vector<double>{5}, {}, -1, 1, -1, 1, 50, "");
    CHECK(changed_box(e.crop(1, 1, 48, 48), kWhite).empty());
}

TEST_CASE("montage: dimensions and placement") {
    std::vector<Image> panels(3, Image(30, 20, Rgb{10, 20, 30}));
    panels.emplace_back(10, 10, Rgb{1, 1, 1});
    const Rgb bg{200, 200, 200};
    const Image m = montage(panels, 2, 5, bg);
    CHECK(m.width() == 5 + 2 * (30 + 5));
    CHECK(m.height() == 5 + 2 * (20 + 5));
    CHECK(m.at(5, 5) == Rgb{10, 20, 30});
    CHECK(m.at(4, 5) == bg);
    CHECK(m.at(5 + 30 + 5, 5) == Rgb{10, 20, 30});  // second column
    CHECK(m.at(40 + 15, 30 + 10) == Rgb{1, 1, 1});    // small panel centred in its cell
    // With title and labels, as documented (cw < 240: label scale 1; title scale 2).
    const std::vector<std::string> rows = {"U1", "U2 long"}, cols = {"K=2"};
    const Image t = montage(panels, 2, 5, bg, "title", rows, cols);
    const int p = 6;
    CHECK(t.width() == 5 + (text_width("U2 long") + p) + 2 * (30 + 5));
    CHECK(t.height() == 5 + (18 + p) + (9 + p) + 2 * (20 + 5));
    CHECK_THROWS_AS(montage({}, 2, 5, bg), std::invalid_argument);
    CHECK_THROWS_AS(montage(panels, 2, 5, bg, "", std::vector<std::string>(3, "r")), std::invalid_argument);
}

// ---- ticks -------------------------------------------------------------------------------------

TEST_CASE("nice_ticks: known ranges") {
    CHECK(nice_ticks(0, 1) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
    CHECK(nice_ticks(0, 37) == std::vector<double>{0, 10, 20, 30});
    CHECK(nice_ticks(-3.2, 12) == std::vector<double>{-2, 0, 2, 4, 6, 8, 10, 12});
    CHECK(nice_ticks(0.013, 0.019, 4) == std::vector<double>{0.014, 0.016, 0.018});
    CHECK(nice_ticks(3, 3) == std::vector<double>{3});
    CHECK(nice_ticks(1, 0).empty());
    CHECK(nice_ticks(0, kNaN).empty());
    CHECK(log_ticks(1e-3, 1e2) == std::vector<double>{1e-3, 1e-2, 0.1, 1, 10, 100});
    CHECK(log_ticks(3, 70) == std::vector<double>{5, 10, 20, 50});
    CHECK(log_ticks(1, 1e20).size() <= 8u);
    CHECK(log_ticks(0, 1).empty());
}

TEST_CASE("nice_ticks: 1-2-5 steps, evenly spaced, inside the range") {
    const double ranges[][2] = {{0, 1}, {-3.2, 12}, {1e-7, 3e-7}, {-5e8, 2.5e9}, {99.5, 100.25}, {-1, -0.001}};
    for (const auto& r : ranges)
        for (int target : {3, 5, 6, 8}) {
            const auto t = nice_ticks(r[0], r[1], target);
            const double step = nice_step(r[0], r[1], target);
            REQUIRE(t.size() >= 2u);
            CHECK(t.size() <= static_cast<std::size_t>(2 * target + 1));
            const double e = std::floor(std::log10(step) + 1e-9);
            const double m = step / std::pow(10.0, e);
            CHECK((std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9));
            for (std::size_t i = 0; i < t.size(); ++i) {
                CHECK(t[i] >= r[0] - 1e-9 * step);
                CHECK(t[i] <= r[1] + 1e-9 * step);
                CHECK(std::abs(t[i] / step - std::round(t[i] / step)) < 1e-6);
                if (i) CHECK(t[i] - t[i - 1] == doctest::Approx(step));
            }
        }
}

TEST_CASE("format_tick") {
    CHECK(format_tick(0.2, 0.2) == "0.2");
    CHECK(format_tick(1, 0.2) == "1.0");
    CHECK(format_tick(0.05, 0.05) == "0.05");
    CHECK(format_tick(-3, 1) == "-3");
    CHECK(format_tick(10000, 2000) == "10000");
    CHECK(format_tick(0, 0.5) == "0");
    CHECK(format_tick(2.5e-5, 5e-6) == "2.5e-5");
    CHECK(format_tick(3e6, 1e6) == "3e6");
    CHECK(format_tick(1.5e7, 5e6) == "1.5e7");
    CHECK(format_tick(0.001, 0) == "0.001");
    CHECK(format_tick(100, 0) == "100");
    CHECK(format_tick(1e-6, 0) == "1e-6");
}

// ---- line charts -------------------------------------------------------------------------------

TEST_CASE("line_chart: NaN, Inf, empty and degenerate data do not crash") {
    Chart c;
    c.title = "t";
    c.series.push_back({"a", {0, 1, 2, 3, 4, 5, 6}, {1, kNaN, 3, 4, kInf, 2, 2.5}, palette(0)});
    c.series.push_back({"b", {}, {kNaN, kNaN}, palette(1)});
    c.series.push_back({"c", {}, {}, palette(2)});
    c.series.push_back({"d", {5}, {7}, palette(3)});
    const Image img = line_chart(c);
    CHECK(img.width() == 800);
    CHECK(img.height() == 500);
    CHECK(contains_color(img, palette(0)));
    Chart none;
    none.series.push_back({"x", {}, {kNaN}, palette(0)});
    CHECK_NOTHROW(line_chart(none));
    CHECK_NOTHROW(line_chart_svg(none));
    Chart flat;
    flat.log_x = true;
    flat.series.push_back({"f", {-1, 0, 1, 10, 100}, {1e300, 2, 2, 2, -1e300}, palette(0)});
    CHECK_NOTHROW(line_chart(flat));
    CHECK_NOTHROW(line_chart_svg(flat));
    Chart bad;
    bad.series.push_back({"bad", {1, 2}, {1, 2, 3}, palette(0)});
    CHECK_THROWS_AS(line_chart(bad), std::invalid_argument);
    Chart tiny;
    tiny.width = 50;
    CHECK_THROWS_AS(line_chart(tiny), std::invalid_argument);
}

TEST_CASE("line_chart: y range cuts far outliers of a training curve, keeps steady trends") {
    Chart c;
    Series s{"loss", {}, {}, palette(0)};
    for (int i = 0; i < 1000; ++i) s.y.push_back(2 + 1e6 * std::exp(-i / 10.0) + 0.1 * std::sin(i));
    c.series.push_back(s);
    const auto r = detail::chart_y_range(c);
    CHECK(r.lo == doctest::Approx(1.9).epsilon(0.01));
    CHECK(r.hi < 5);
    Chart lin;
    Series l{"lin", {}, {}, palette(0)};
    for (int i = 0; i <= 100; ++i) l.y.push_back(100 - i);
    lin.series.push_back(l);
    const auto q = detail::chart_y_range(lin);
    CHECK(q.lo == 0);
    CHECK(q.hi == 100);
    // The curve's converged part is drawn in the plot: its colour appears at mid-height.
    const Image img = line_chart(c);
    const auto L = detail::chart_layout(c);
    CHECK(L.y_hi < 5);
    CHECK(contains_color(img.crop(L.plot_x, L.plot_y + L.plot_h / 4, L.plot_w, L.plot_h / 2), palette(0)));
}

TEST_CASE("line_chart_svg: well-formed, escaped, one polyline point per finite data point") {
    Chart c;
    c.title = "a <b> & 'c'";
    c.xlabel = "step";
    c.ylabel = "loss <&>";
    Series a{"first & <one>", {}, {}, palette(0)}, b{"second", {}, {}, palette(1)};
    int finite = 0, runs_a = 0;
    bool in_run = false;
    for (int i = 0; i < 200; ++i) {
        const bool gap = (i >= 50 && i < 53) || i == 120;
        a.y.push_back(gap ? kNaN : std::cos(i * 0.1));
        if (!gap) ++finite, runs_a += !in_run;
        in_run = !gap;
        b.x.push_back(i * 10.0);
        b.y.push_back(i == 7 ? kInf : 0.5);
        finite += i != 7;
    }
    b.x[0] = 0;
    c.series = {a, b};
    const std::string svg = line_chart_svg(c);
    CHECK(check_balanced(svg) == "");
    CHECK(svg.find("<svg") != std::string::npos);
    CHECK(svg.find("viewBox=\"0 0 800 500\"") != std::string::npos);
    CHECK(svg.find("a &lt;b&gt; &amp; &apos;c&apos;") != std::string::npos);
    CHECK(svg.find("loss &lt;&amp;&gt;") != std::string::npos);
    CHECK(svg.find("first &amp; &lt;one&gt;") != std::string::npos);
    CHECK(svg.find("<b>") == std::string::npos);
    CHECK(svg.find("<&") == std::string::npos);
    const auto counts = polyline_point_counts(svg);
    int total = 0;
    for (int n : counts) total += n;
    CHECK(total == finite);
    CHECK(counts.size() == static_cast<std::size_t>(runs_a + 2));  // b breaks once, at i = 7
    CHECK(xml_escape("x\x01y") == "x?y");
    // The raster chart of the same data shows both colours.
    const Image img = line_chart(c);
    CHECK(contains_color(img, palette(0)));
    CHECK(contains_color(img, palette(1)));
}

TEST_CASE("line_chart: the legend takes the corner with the least curve under it") {
    // Two rising curves that fill the top right: the legend moves to the top left.
    Chart c;
    Series a{"a", {}, {}, palette(0)}, b{"b", {}, {}, palette(1)};
    for (int i = 1; i <= 100; ++i) {
        a.y.push_back(-95 - 10 * std::exp(-i / 20.0));
        b.y.push_back(-93 - 12 * std::exp(-i / 15.0));
    }
    c.series = {a, b};
    const auto L = detail::chart_layout(c);
    REQUIRE(L.legend);
    CHECK(L.legend_x < L.plot_x + L.plot_w / 2);
    CHECK(L.legend_y < L.plot_y + L.plot_h / 2);
    CHECK(L.legend_names == std::vector<std::string>{"a", "b"});
    // Falling curves leave the top right free: the legend stays there.
    for (Series& s : c.series)
        for (double& y : s.y) y = -y;
    const auto R = detail::chart_layout(c);
    CHECK(R.legend_x > R.plot_x + R.plot_w / 2);
    CHECK(R.legend_y < R.plot_y + R.plot_h / 2);
    // One series: no legend.
    c.series.pop_back();
    CHECK(!detail::chart_layout(c).legend);
}
