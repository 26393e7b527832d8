// libFuzzer entry point for the JSON parser (src/io/json.h), which reads parameter files and
// the settings stored in checkpoints. Any input must either parse or throw FormatError; a
// crash, a sanitizer report, any other exception or a broken property below is a bug.
// A parsed value is walked: every accessor of the right type must work, every accessor of a
// wrong type must throw FormatError, every element and member must be reachable by index and
// key; then it is written with dump (indented and on one line), and both texts must parse back
// to an equal value and dump to the same text again (numbers and strings round-trip exactly).
//
// Build and run with scripts/fuzz.sh SECONDS json (seeds in corpus/json/).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "src/io/json.h"

namespace {

using nfvi::io::FormatError;
using nfvi::io::Json;

template <class F>
bool throws_format_error(F&& f) {
    try {
        f();
    } catch (const FormatError&) {
        return true;
    }
    return false;
}

void walk(const Json& j) {
    const Json::Type t = j.type();
    if ((t == Json::Type::boolean) == throws_format_error([&] { (void)j.as_bool(); })) __builtin_trap();
    if ((t == Json::Type::number) == throws_format_error([&] { (void)j.as_number(); })) __builtin_trap();
    if ((t == Json::Type::string) == throws_format_error([&] { (void)j.as_string(); })) __builtin_trap();
    if ((t == Json::Type::array) == throws_format_error([&] { (void)j.as_array(); })) __builtin_trap();
    if ((t == Json::Type::object) == throws_format_error([&] { (void)j.as_object(); })) __builtin_trap();
    if (!throws_format_error([&] { (void)j.at(j.size()); })) __builtin_trap();  // one past the end
    if (t == Json::Type::array) {
        if (j.size() != j.as_array().size()) __builtin_trap();
        for (std::size_t i = 0; i < j.size(); ++i) {
            if (!(j.at(i) == j.as_array()[i])) __builtin_trap();
            walk(j.at(i));
        }
    } else if (t == Json::Type::object) {
        if (j.size() != j.as_object().size()) __builtin_trap();
        for (const Json::Member& m : j.as_object()) {
            if (j.find(m.first) != &m.second || &j.at(m.first) != &m.second) __builtin_trap();
            walk(m.second);
        }
    } else {
        if (j.size() != 0 || j.find("") != nullptr) __builtin_trap();
    }
    if (t == Json::Type::number) {
        const double x = j.as_number();
        if (x != x || x - x != 0) __builtin_trap();  // the parser yields finite numbers only
    }
}

void round_trip(const Json& j, int indent) {
    const std::string text = j.dump(indent);
    const Json back = Json::parse(text);  // a FormatError here escapes: dump wrote bad JSON
    if (!(back == j) || back.dump(indent) != text) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    Json j;
    try {
        j = Json::parse(text);
    } catch (const FormatError&) {
        return 0;
    }
    walk(j);
    round_trip(j, 2);
    round_trip(j, 0);
    return 0;
}
