#include "src/outputs.h"

#include "src/io/files.h"
#include "src/io/png.h"
#include "src/plot/svg.h"

namespace nfvi::cli {

void write_png(const std::string& path, const plot::Image& image) {
    std::span<const std::uint8_t> px(image.data(), static_cast<std::size_t>(image.width()) * image.height() * 3);
    io::write_file_atomic(path, io::encode_png(image.width(), image.height(), 3, px));
}

void write_chart(const std::string& stem, const plot::Chart& chart) {
    io::write_file_atomic(stem + ".svg", plot::line_chart_svg(chart));
    write_png(stem + ".png", plot::line_chart(chart));
}

}  // namespace nfvi::cli
