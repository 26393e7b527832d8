// JSON (RFC 8259) values for run summaries and parameter files, and CSV rows for logs.
//
//   Json s = Json::object();
//   s["kl"] = 0.5;
//   s["settings"]["lr"] = 2e-3;          // a null member becomes an object when indexed
//   s["shape"] = Json::array({2, 3});
//   write_file_atomic(dir + "/summary.json", s.dump());
//   double lr = Json::parse(text).at("settings").at("lr").as_number();
//
// Objects keep their members in insertion order. Numbers are doubles, written with the
// fewest digits that read back to the same double (integers up to 2^53 without exponent);
// NaN and ±Inf have no JSON form and are written as null. Strings are UTF-8 and pass
// through unchanged except for the escapes JSON requires.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "src/io/error.h"

namespace nfvi::io {

class Json {
public:
    enum class Type { null, boolean, number, string, array, object };
    using Array = std::vector<Json>;
    using Member = std::pair<std::string, Json>;
    using Object = std::list<Member>;  // a list, so that references to members stay valid

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : v_(b) {}
    template <class T>
        requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
    Json(T x) : v_(static_cast<double>(x)) {}
    Json(const char* s) : v_(std::string(s)) {}
    Json(std::string s) : v_(std::move(s)) {}
    Json(std::string_view s) : v_(std::string(s)) {}
    explicit Json(Array items) : v_(std::move(items)) {}
    explicit Json(Object members) : v_(std::move(members)) {}  // keys should be distinct

    Json(const Json&) = default;
    Json(Json&&) noexcept = default;
    // Assignment copies or moves the source out first, so `j = j["child"]` is safe.
    Json& operator=(const Json& other);
    Json& operator=(Json&& other) noexcept;
    ~Json() = default;

    static Json array(std::initializer_list<Json> items = {});
    static Json object(std::initializer_list<Member> members = {});

    Type type() const { return static_cast<Type>(v_.index()); }
    bool is_null() const { return type() == Type::null; }
    bool is_bool() const { return type() == Type::boolean; }
    bool is_number() const { return type() == Type::number; }
    bool is_string() const { return type() == Type::string; }
    bool is_array() const { return type() == Type::array; }
    bool is_object() const { return type() == Type::object; }

    // Reading: a value of another type, a missing key or an index out of range throws
    // FormatError (the usual cause is a file that is not what the program expects).
    bool as_bool() const;
    double as_number() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    const Object& as_object() const;
    const Json& at(std::string_view key) const;
    const Json& at(std::size_t index) const;
    const Json* find(std::string_view key) const;  // nullptr if absent or not an object
                                                   // (a linear search: objects are small)
    bool contains(std::string_view key) const { return find(key) != nullptr; }
    std::size_t size() const;  // elements of an array or members of an object, else 0

    // Building: operator[] with a key turns null into an object and adds a null member if
    // the key is new; push_back turns null into an array. On values of another type they
    // throw std::logic_error (a bug in the calling code).
    Json& operator[](std::string_view key);
    Json& operator[](std::size_t index);  // std::out_of_range past the end
    void push_back(Json item);

    // JSON text. indent > 0: one member or element per line, nested `indent` spaces deeper;
    // indent ≤ 0: one line without spaces. No trailing newline.
    std::string dump(int indent = 2) const;

    // Strict RFC 8259 parser: any value at top level, no comments or trailing commas, no
    // duplicate keys, valid UTF-8, nesting at most 256 deep. FormatError with line and column.
    static Json parse(std::string_view text);

    friend bool operator==(const Json& a, const Json& b);

private:
    std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

// The shortest decimal text that reads back as x ("0.1", "1e-300", "-25000000000"), with
// integers below 2^53 written in full; "nan", "inf" or "-inf" when x is not finite.
std::string format_number(double x);

// One CSV cell: text (quoted when needed), a number (round-trip digits) or a bool.
class CsvCell {
public:
    CsvCell(std::string_view s);
    CsvCell(const char* s) : CsvCell(std::string_view(s)) {}
    CsvCell(const std::string& s) : CsvCell(std::string_view(s)) {}
    CsvCell(bool b) : text_(b ? "true" : "false") {}
    CsvCell(double x) : text_(format_number(x)) {}
    CsvCell(float x);  // the shortest text that reads back as the same float
    template <class T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    CsvCell(T x) : text_(std::to_string(x)) {}
    const std::string& text() const { return text_; }

private:
    std::string text_;
};

// A field quoted as RFC 4180 asks when it holds a comma, quote, CR or LF ("a""b").
std::string csv_field(std::string_view s);

// One CSV line, cells separated by commas, ending with "\n".
std::string csv_row(std::initializer_list<CsvCell> cells);
std::string csv_row(std::span<const CsvCell> cells);

}  // namespace nfvi::io
