// A small built-in bitmap font for plot labels: printable ASCII 32..126, drawn crisp (no
// anti-aliasing) at an integer scale.
//
// Metrics at scale 1: each glyph is 5 pixels wide and 9 tall: rows 0..6 hold capitals and
// digits (cap height 7, baseline under row 6), lowercase letters have an x-height of 5
// (rows 2..6), and rows 7..8 hold descenders (g j p q y , ;). Characters advance by 6
// pixels (one blank column between glyphs). A string of n characters is 6n - 1 pixels wide
// and 9 tall; everything scales by `scale`.
//
// A "character" is one byte, except that a UTF-8 multi-byte sequence counts as one character.
// Characters outside 32..126 (control bytes, non-ASCII) are drawn as a hollow box.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "src/plot/image.h"

namespace nfvi::plot {

inline constexpr int kGlyphWidth = 5;
inline constexpr int kGlyphHeight = 9;
inline constexpr int kGlyphAdvance = 6;

// The glyph for character c as 9 rows, top first; bit 4 of a row is its leftmost pixel.
// Unknown characters give the box glyph.
using GlyphRows = std::array<std::uint8_t, kGlyphHeight>;
GlyphRows glyph(char c);
GlyphRows box_glyph();

// Number of characters in text as draw_text counts them (see above).
int text_length(std::string_view text);
// Width and height in pixels of text drawn at scale: (6n - 1) * scale and 9 * scale; 0 for
// an empty string.
int text_width(std::string_view text, int scale = 1);
int text_height(int scale = 1);

// Draws text with the top-left corner of its box at (x, y). Only pixels inside the box
// [x, x + text_width) x [y, y + text_height) change; drawing is clipped to the image.
// Here and below, scale is clamped to [1, 64].
void draw_text(Image& img, int x, int y, std::string_view text, Rgb color, int scale = 1);
// The same with the box's horizontal centre at cx, or its right edge at right (exclusive).
void draw_text_centered(Image& img, int cx, int y, std::string_view text, Rgb color, int scale = 1);
void draw_text_right(Image& img, int right, int y, std::string_view text, Rgb color, int scale = 1);
// Text turned 90 degrees anticlockwise (reading upwards), for a vertical axis label. Its box
// is text_height wide and text_width tall, with its top-left corner at (x, y).
void draw_text_up(Image& img, int x, int y, std::string_view text, Rgb color, int scale = 1);

}  // namespace nfvi::plot
