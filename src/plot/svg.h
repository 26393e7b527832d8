// Line charts as SVG text: the same chart as line_chart() draws (same layout, ticks, labels
// and legend, see figures.h), as a standalone SVG 1.1 document with a viewBox.
#pragma once

#include <string>
#include <string_view>

#include "src/plot/figures.h"

namespace nfvi::plot {

// The chart as an SVG document: one <polyline> per finite run of each series (a NaN or
// infinite point breaks the line), clipped to the plot area; axes, ticks, tick labels, axis
// labels, title and (for more than one series) a legend as <line>/<rect>/<text>.
// Throws what line_chart() throws.
std::string line_chart_svg(const Chart& chart);

// text with & < > " ' replaced by XML entities and control characters (which XML 1.0 does not
// allow) by '?'.
std::string xml_escape(std::string_view text);

}  // namespace nfvi::plot
