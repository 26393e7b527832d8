// Whole-file reading and crash-safe writing. A file written with write_file_atomic is either
// its old self or completely new: the bytes go to a temporary file in the same directory,
// every write and the close are checked, and only then is it renamed over the target.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/io/error.h"

namespace nfvi::io {

// The whole file. IoError if it cannot be opened or read ("cannot open 'x': No such file or
// directory"); FormatError if it is larger than `max_bytes`.
std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes = std::size_t{1} << 31);

// Replaces (or creates) `path` with `bytes`: writes "<path>.tmp.<random hex>", checks every
// write, the flush and the close, then renames it to `path`. On failure the temporary is
// removed, `path` is untouched, and IoError names the path and the system's reason.
// (The standard library offers no fsync: after a power cut the new file may be empty on some
// file systems, but a crash of the program never leaves a half-written file at `path`.)
void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes);
void write_file_atomic(const std::string& path, std::string_view text);

// Creates `dir` and its parents if needed, then checks that a file can be created in it.
// IoError if it cannot be created, is not a directory, or is not writable.
void ensure_directory(const std::string& dir);

namespace detail {
// Writes `bytes` to `f`, flushes and closes it (always), and throws IoError naming `name` on
// any failure. Exposed for tests (e.g. writing to /dev/full).
void write_and_close(std::FILE* f, std::span<const std::uint8_t> bytes, const std::string& name);
}  // namespace detail

}  // namespace nfvi::io
