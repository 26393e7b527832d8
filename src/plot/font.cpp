// The built-in 5x9 bitmap font (see font.h for its metrics) and text drawing.
//
// Each glyph below is drawn as 9 rows of 5 cells, top row first, '#' = ink, '.' = paper.
// Rows 0..6 are the body (baseline under row 6), rows 7..8 the descender space.
#include "src/plot/font.h"

#include <algorithm>
#include <string_view>

namespace nfvi::plot {

namespace {

struct GlyphArt {
    char c;
    const char* art;  // 9 rows of 5 cells, separated by single spaces
};

// clang-format off
constexpr GlyphArt kArt[] = {
    {' ',  "..... ..... ..... ..... ..... ..... ..... ..... ....."},
    {'!',  "..#.. ..#.. ..#.. ..#.. ..#.. ..... ..#.. ..... ....."},
    {'"',  ".#.#. .#.#. .#.#. ..... ..... ..... ..... ..... ....."},
    {'#',  ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#. ..... ....."},
    {'$',  "..#.. .#### #.#.. .###. ..#.# ####. ..#.. ..... ....."},
    {'%',  "##... ##..# ...#. ..#.. .#... #..## ...## ..... ....."},
    {'&',  ".##.. #..#. #.#.. .#... #.#.# #..#. .##.# ..... ....."},
    {'\'', "..#.. ..#.. .#... ..... ..... ..... ..... ..... ....."},
    {'(',  "...#. ..#.. .#... .#... .#... ..#.. ...#. ..... ....."},
    {')',  ".#... ..#.. ...#. ...#. ...#. ..#.. .#... ..... ....."},
    {'*',  "..... ..#.. #.#.# .###. #.#.# ..#.. ..... ..... ....."},
    {'+',  "..... ..#.. ..#.. ##### ..#.. ..#.. ..... ..... ....."},
    {',',  "..... ..... ..... ..... ..... .##.. .##.. ..#.. .#..."},
    {'-',  "..... ..... ..... .###. ..... ..... ..... ..... ....."},
    {'.',  "..... ..... ..... ..... ..... .##.. .##.. ..... ....."},
    {'/',  "....# ....# ...#. ..#.. .#... #.... #.... ..... ....."},
    {'0',  ".###. #...# #..## #.#.# ##..# #...# .###. ..... ....."},
    {'1',  "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {'2',  ".###. #...# ....# ...#. ..#.. .#... ##### ..... ....."},
    {'3',  "##### ...#. ..#.. ...#. ....# #...# .###. ..... ....."},
    {'4',  "...#. ..##. .#.#. #..#. ##### ...#. ...#. ..... ....."},
    {'5',  "##### #.... ####. ....# ....# #...# .###. ..... ....."},
    {'6',  "..##. .#... #.... ####. #...# #...# .###. ..... ....."},
    {'7',  "##### ....# ...#. ..#.. .#... .#... .#... ..... ....."},
    {'8',  ".###. #...# #...# .###. #...# #...# .###. ..... ....."},
    {'9',  ".###. #...# #...# .#### ....# ...#. .##.. ..... ....."},
    {':',  "..... .##.. .##.. ..... .##.. .##.. ..... ..... ....."},
    {';',  "..... .##.. .##.. ..... .##.. .##.. ..#.. .#... ....."},
    {'<',  "...#. ..#.. .#... #.... .#... ..#.. ...#. ..... ....."},
    {'=',  "..... ..... ##### ..... ##### ..... ..... ..... ....."},
    {'>',  ".#... ..#.. ...#. ....# ...#. ..#.. .#... ..... ....."},
    {'?',  ".###. #...# ....# ...#. ..#.. ..... ..#.. ..... ....."},
    {'@',  ".###. #...# #.### #.#.# #.### #.... .###. ..... ....."},
    {'A',  ".###. #...# #...# ##### #...# #...# #...# ..... ....."},
    {'B',  "####. #...# #...# ####. #...# #...# ####. ..... ....."},
    {'C',  ".###. #...# #.... #.... #.... #...# .###. ..... ....."},
    {'D',  "###.. #..#. #...# #...# #...# #..#. ###.. ..... ....."},
    {'E',  "##### #.... #.... ####. #.... #.... ##### ..... ....."},
    {'F',  "##### #.... #.... ####. #.... #.... #.... ..... ....."},
    {'G',  ".###. #...# #.... #.### #...# #...# .#### ..... ....."},
    {'H',  "#...# #...# #...# ##### #...# #...# #...# ..... ....."},
    {'I',  ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {'J',  "..### ...#. ...#. ...#. ...#. #..#. .##.. ..... ....."},
    {'K',  "#...# #..#. #.#.. ##... #.#.. #..#. #...# ..... ....."},
    {'L',  "#.... #.... #.... #.... #.... #.... ##### ..... ....."},
    {'M',  "#...# ##.## #.#.# #.#.# #...# #...# #...# ..... ....."},
    {'N',  "#...# #...# ##..# #.#.# #..## #...# #...# ..... ....."},
    {'O',  ".###. #...# #...# #...# #...# #...# .###. ..... ....."},
    {'P',  "####. #...# #...# ####. #.... #.... #.... ..... ....."},
    {'Q',  ".###. #...# #...# #...# #.#.# #..#. .##.# ..... ....."},
    {'R',  "####. #...# #...# ####. #.#.. #..#. #...# ..... ....."},
    {'S',  ".#### #.... #.... .###. ....# ....# ####. ..... ....."},
    {'T',  "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..... ....."},
    {'U',  "#...# #...# #...# #...# #...# #...# .###. ..... ....."},
    {'V',  "#...# #...# #...# #...# #...# .#.#. ..#.. ..... ....."},
    {'W',  "#...# #...# #...# #.#.# #.#.# #.#.# .#.#. ..... ....."},
    {'X',  "#...# #...# .#.#. ..#.. .#.#. #...# #...# ..... ....."},
    {'Y',  "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.. ..... ....."},
    {'Z',  "##### ....# ...#. ..#.. .#... #.... ##### ..... ....."},
    {'[',  ".###. .#... .#... .#... .#... .#... .###. ..... ....."},
    {'\\', "#.... #.... .#... ..#.. ...#. ....# ....# ..... ....."},
    {']',  ".###. ...#. ...#. ...#. ...#. ...#. .###. ..... ....."},
    {'^',  "..#.. .#.#. #...# ..... ..... ..... ..... ..... ....."},
    {'_',  "..... ..... ..... ..... ..... ..... ..... ##### ....."},
    {'`',  ".#... ..#.. ...#. ..... ..... ..... ..... ..... ....."},
    {'a',  "..... ..... .###. ....# .#### #...# .#### ..... ....."},
    {'b',  "#.... #.... #.##. ##..# #...# #...# ####. ..... ....."},
    {'c',  "..... ..... .###. #.... #.... #...# .###. ..... ....."},
    {'d',  "....# ....# .##.# #..## #...# #...# .#### ..... ....."},
    {'e',  "..... ..... .###. #...# ##### #.... .###. ..... ....."},
    {'f',  "..##. .#..# .#... ###.. .#... .#... .#... ..... ....."},
    {'g',  "..... ..... .#### #...# #...# #...# .#### ....# .###."},
    {'h',  "#.... #.... #.##. ##..# #...# #...# #...# ..... ....."},
    {'i',  "..#.. ..... .##.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {'j',  "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##.."},
    {'k',  "#.... #.... #..#. #.#.. ##... #.#.. #..#. ..... ....."},
    {'l',  ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###. ..... ....."},
    {'m',  "..... ..... ##.#. #.#.# #.#.# #...# #...# ..... ....."},
    {'n',  "..... ..... #.##. ##..# #...# #...# #...# ..... ....."},
    {'o',  "..... ..... .###. #...# #...# #...# .###. ..... ....."},
    {'p',  "..... ..... ####. #...# #...# #...# ####. #.... #...."},
    {'q',  "..... ..... .#### #...# #...# #...# .#### ....# ....#"},
    {'r',  "..... ..... #.##. ##..# #.... #.... #.... ..... ....."},
    {'s',  "..... ..... .#### #.... .###. ....# ####. ..... ....."},
    {'t',  ".#... .#... ###.. .#... .#... .#..# ..##. ..... ....."},
    {'u',  "..... ..... #...# #...# #...# #..## .##.# ..... ....."},
    {'v',  "..... ..... #...# #...# #...# .#.#. ..#.. ..... ....."},
    {'w',  "..... ..... #...# #...# #.#.# #.#.# .#.#. ..... ....."},
    {'x',  "..... ..... #...# .#.#. ..#.. .#.#. #...# ..... ....."},
    {'y',  "..... ..... #...# #...# #...# #...# .#### ....# .###."},
    {'z',  "..... ..... ##### ...#. ..#.. .#... ##### ..... ....."},
    {'{',  "...## ..#.. ..#.. .#... ..#.. ..#.. ...## ..... ....."},
    {'|',  "..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ..#.. ....."},
    {'}',  "##... ..#.. ..#.. ...#. ..#.. ..#.. ##... ..... ....."},
    {'~',  "..... ..... .#... #.#.# ...#. ..... ..... ..... ....."},
};
// clang-format on
constexpr const char* kBoxArt = "##### #...# #...# #...# #...# #...# ##### ..... .....";

constexpr int kFirst = 32, kLast = 126;
static_assert(std::size(kArt) == kLast - kFirst + 1, "one glyph per printable ASCII character");

// Parses one glyph's art; a malformed entry stops compilation (throw in a constant expression).
constexpr GlyphRows parse(const char* art) {
    GlyphRows rows{};
    int i = 0;
    for (int r = 0; r < kGlyphHeight; ++r) {
        std::uint8_t bits = 0;
        for (int c = 0; c < kGlyphWidth; ++c, ++i) {
            if (art[i] != '#' && art[i] != '.') throw "glyph art: expected '#' or '.'";
            bits = static_cast<std::uint8_t>(bits << 1 | (art[i] == '#'));
        }
        if (r + 1 < kGlyphHeight && art[i++] != ' ') throw "glyph art: rows are separated by one space";
        rows[static_cast<std::size_t>(r)] = bits;
    }
    if (art[i] != '\0') throw "glyph art: more than 9 rows";
    return rows;
}

constexpr std::array<GlyphRows, kLast - kFirst + 1> build_font() {
    std::array<GlyphRows, kLast - kFirst + 1> font{};
    for (int k = 0; k <= kLast - kFirst; ++k) {
        if (kArt[k].c != kFirst + k) throw "glyph table out of order";
        font[static_cast<std::size_t>(k)] = parse(kArt[k].art);
    }
    return font;
}

constexpr auto kFont = build_font();
constexpr GlyphRows kBox = parse(kBoxArt);

int clamp_scale(int scale) { return std::clamp(scale, 1, 64); }

bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Calls fn(glyph, index) for each character of text.
template <class F>
void for_each_glyph(std::string_view text, F&& fn) {
    int k = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (utf8_continuation(text[i]) && i > 0 && static_cast<unsigned char>(text[i - 1]) >= 0x80)
            continue;  // part of the previous multi-byte character
        fn(glyph(text[i]), k++);
    }
}

}  // namespace

GlyphRows glyph(char c) {
    const int u = static_cast<unsigned char>(c);
    if (u < kFirst || u > kLast) return kBox;
    return kFont[static_cast<std::size_t>(u - kFirst)];
}

GlyphRows box_glyph() { return kBox; }

int text_length(std::string_view text) {
    int n = 0;
    for_each_glyph(text, [&](const GlyphRows&, int) { ++n; });
    return n;
}

int text_width(std::string_view text, int scale) {
    const int n = text_length(text);
    return n == 0 ? 0 : (kGlyphAdvance * n - 1) * clamp_scale(scale);
}

int text_height(int scale) { return kGlyphHeight * clamp_scale(scale); }

void draw_text(Image& img, int x, int y, std::string_view text, Rgb color, int scale) {
    scale = clamp_scale(scale);
    for_each_glyph(text, [&](const GlyphRows& g, int k) {
        const int gx = x + k * kGlyphAdvance * scale;
        for (int r = 0; r < kGlyphHeight; ++r)
            for (int c = 0; c < kGlyphWidth; ++c)
                if (g[static_cast<std::size_t>(r)] >> (kGlyphWidth - 1 - c) & 1)
                    img.fill_rect(gx + c * scale, y + r * scale, scale, scale, color);
    });
}

void draw_text_centered(Image& img, int cx, int y, std::string_view text, Rgb color, int scale) {
    draw_text(img, cx - text_width(text, scale) / 2, y, text, color, scale);
}

void draw_text_right(Image& img, int right, int y, std::string_view text, Rgb color, int scale) {
    draw_text(img, right - text_width(text, scale), y, text, color, scale);
}

void draw_text_up(Image& img, int x, int y, std::string_view text, Rgb color, int scale) {
    scale = clamp_scale(scale);
    const int len = text_width(text, scale);
    // Unrotated pixel (u, v) of the text box goes to (x + v, y + len - 1 - u).
    for_each_glyph(text, [&](const GlyphRows& g, int k) {
        const int gu = k * kGlyphAdvance * scale;
        for (int r = 0; r < kGlyphHeight; ++r)
            for (int c = 0; c < kGlyphWidth; ++c)
                if (g[static_cast<std::size_t>(r)] >> (kGlyphWidth - 1 - c) & 1)
                    img.fill_rect(x + r * scale, y + len - (gu + (c + 1) * scale), scale, scale, color);
    });
}

}  // namespace nfvi::plot
