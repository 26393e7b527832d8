// Helpers of the end-to-end tests: the nfvi program under test (NFVI_EXE, set by meson test),
// scratch paths, running the program with its exit status and stderr, and the checks of a
// refused invocation.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "src/io/files.h"
#include "src/io/json.h"

namespace nfvi::test {

namespace fs = std::filesystem;

inline std::string exe() {
    const char* e = std::getenv("NFVI_EXE");
    REQUIRE_MESSAGE(e != nullptr, "set NFVI_EXE to the nfvi program (meson test does)");
    return e;
}

// A path in the temporary directory that does not exist yet, unique to this process and call.
inline fs::path scratch(const std::string& name) {
    static std::atomic<int> counter{0};
    fs::path p = fs::temp_directory_path() /
                 ("nfvi_test_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(p);
    return p;
}

inline std::string read_text(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A JSON file the program wrote, parsed.
inline io::Json read_json(const fs::path& p) {
    const std::vector<std::uint8_t> bytes = io::read_file(p.string());
    return io::Json::parse(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

struct Run {
    int status;       // the exit status, or -1 if the program did not exit normally
    std::string err;  // what it wrote on stderr
};

// Runs `nfvi ARGS` through the shell, stdout discarded.
inline Run run(const std::string& args) {
    fs::path errf = scratch("stderr");
    std::string cmd = exe() + " " + args + " >/dev/null 2>" + errf.string();
    int raw = std::system(cmd.c_str());
    Run r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_text(errf)};
    fs::remove(errf);
    return r;
}

// `nfvi ARGS --out OUT` must be refused as bad input: exit status 2, one line on stderr that
// starts "nfvi: " and contains `word` (so that it fails for its own reason), nothing at OUT.
inline void check_rejected(const std::string& args, const fs::path& out, const std::string& word = "") {
    CAPTURE(args);
    Run r = run(args + " --out " + out.string());
    CHECK(r.status == 2);
    CHECK(r.err.rfind("nfvi: ", 0) == 0);
    CHECK(r.err.find(word) != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
}

// `nfvi ARGS` with an --out that cannot be made: exit status 2, and the message names it.
inline void check_unwritable_out(const std::string& args) {
    const std::string out = "/proc/nfvi-cannot-write-here";
    CAPTURE(args);
    Run r = run(args + " --out " + out);
    CHECK(r.status == 2);
    CHECK(r.err.find(out) != std::string::npos);
}

}  // namespace nfvi::test
