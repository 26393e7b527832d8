// Whole-file I/O with errors that name the file and the reason.
#include "src/io/files.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <random>
#include <system_error>
#include <thread>

namespace nfvi::io {

namespace {

namespace fs = std::filesystem;

std::string reason(int err) { return std::generic_category().message(err); }

// 16 hex digits that differ between processes, threads and calls: a name for temporaries.
std::string unique_token() {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t seed = 0;
    try {
        std::random_device rd;
        seed = std::uint64_t{rd()} << 32 | rd();
    } catch (...) {
        // No entropy source: the clock, thread and counter below still make collisions unlikely.
    }
    std::uint64_t x = seed ^ static_cast<std::uint64_t>(
                                 std::chrono::steady_clock::now().time_since_epoch().count());
    x ^= std::hash<std::thread::id>{}(std::this_thread::get_id()) * 0x9E3779B97F4A7C15ULL;
    x += counter.fetch_add(1) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 31)) * 0x94D049BB133111EBULL;
    x ^= x >> 29;
    static const char* digits = "0123456789abcdef";
    std::string s(16, '0');
    for (int i = 0; i < 16; ++i) s[static_cast<std::size_t>(i)] = digits[(x >> (60 - 4 * i)) & 0xF];
    return s;
}

}  // namespace

std::vector<std::uint8_t> read_file(const std::string& path, std::size_t max_bytes) {
    errno = 0;
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw IoError("cannot open '" + path + "': " + reason(errno ? errno : ENOENT));
    std::vector<std::uint8_t> data;
    constexpr std::size_t kChunk = std::size_t{1} << 16;
    int err = 0;
    for (;;) {
        const std::size_t old = data.size();
        data.resize(old + kChunk);
        errno = 0;
        const std::size_t got = std::fread(data.data() + old, 1, kChunk, f);
        data.resize(old + got);
        if (got < kChunk) {
            if (std::ferror(f)) err = errno ? errno : EIO;
            break;
        }
        if (data.size() > max_bytes) break;
    }
    std::fclose(f);
    if (err) throw IoError("cannot read '" + path + "': " + reason(err));
    if (data.size() > max_bytes)
        throw FormatError("'" + path + "' is larger than the limit of " + std::to_string(max_bytes) +
                          " bytes: not the expected file, or a corrupt one");
    return data;
}

namespace detail {

void write_and_close(std::FILE* f, std::span<const std::uint8_t> bytes, const std::string& name) {
    int err = 0;
    errno = 0;
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
        err = errno ? errno : EIO;
    if (!err && std::fflush(f) != 0) err = errno ? errno : EIO;
    if (!err && std::ferror(f)) err = errno ? errno : EIO;
    errno = 0;
    if (std::fclose(f) != 0 && !err) err = errno ? errno : EIO;
    if (err) throw IoError("cannot write '" + name + "': " + reason(err));
}

}  // namespace detail

void write_file_atomic(const std::string& path, std::span<const std::uint8_t> bytes) {
    const std::string tmp = path + ".tmp." + unique_token();
    errno = 0;
    std::FILE* f = std::fopen(tmp.c_str(), "wbx");  // "x": fail rather than reuse an existing file
    if (!f)
        throw IoError("cannot write '" + path + "': cannot create the temporary file '" + tmp +
                      "': " + reason(errno ? errno : EIO));
    try {
        detail::write_and_close(f, bytes, tmp);
    } catch (const IoError& e) {
        std::remove(tmp.c_str());
        throw IoError("cannot write '" + path + "' (" + e.what() + "); the file is unchanged");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        throw IoError("cannot write '" + path + "': renaming '" + tmp + "' to it failed: " + ec.message());
    }
}

void write_file_atomic(const std::string& path, std::string_view text) {
    write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void ensure_directory(const std::string& dir) {
    if (dir.empty()) throw IoError("cannot create a directory with an empty name");
    std::error_code ec;
    const fs::file_status st = fs::status(dir, ec);
    if (fs::exists(st) && !fs::is_directory(st))
        throw IoError("cannot use '" + dir + "' as a directory: it exists and is not a directory");
    if (!fs::exists(st)) {
        fs::create_directories(dir, ec);
        if (ec) throw IoError("cannot create directory '" + dir + "': " + ec.message());
    }
    // Probe: the only portable way to know that files can be created here.
    const std::string probe = (fs::path(dir) / (".nfvi-probe." + unique_token())).string();
    errno = 0;
    std::FILE* f = std::fopen(probe.c_str(), "wbx");
    if (!f)
        throw IoError("directory '" + dir + "' is not writable: " + reason(errno ? errno : EACCES));
    std::fclose(f);
    std::remove(probe.c_str());
}

}  // namespace nfvi::io
