// Writing pictures and charts: PNG through nfvi's own encoder, SVG as text; both atomic.
#pragma once

#include <string>

#include "src/plot/figures.h"
#include "src/plot/image.h"

namespace nfvi::cli {

void write_png(const std::string& path, const plot::Image& image);
// Writes `stem`.svg and `stem`.png.
void write_chart(const std::string& stem, const plot::Chart& chart);

}  // namespace nfvi::cli
