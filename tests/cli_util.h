// Helpers of the end-to-end tests: the nfvi program under test (NFVI_EXE, set by meson test),
// scratch paths, and running the program with its exit status and stderr.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

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

}  // namespace nfvi::test
