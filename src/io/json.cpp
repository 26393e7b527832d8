// JSON values: writer and strict parser. CSV cells and rows.
#include "src/io/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace nfvi::io {

// ---- values ----

Json& Json::operator=(const Json& other) {
    if (this != &other) {
        Json copy(other);  // `other` may live inside *this
        v_ = std::move(copy.v_);
    }
    return *this;
}

Json& Json::operator=(Json&& other) noexcept {
    if (this != &other) {
        auto moved = std::move(other.v_);  // `other` may live inside *this
        v_ = std::move(moved);
    }
    return *this;
}

Json Json::array(std::initializer_list<Json> items) {
    Json j;
    j.v_ = Array(items);
    return j;
}

Json Json::object(std::initializer_list<Member> members) {
    Json j;
    j.v_ = Object{};
    for (const Member& m : members) j[m.first] = m.second;
    return j;
}

namespace {

const char* type_name(Json::Type t) {
    switch (t) {
        case Json::Type::null: return "null";
        case Json::Type::boolean: return "a boolean";
        case Json::Type::number: return "a number";
        case Json::Type::string: return "a string";
        case Json::Type::array: return "an array";
        case Json::Type::object: return "an object";
    }
    return "?";
}

[[noreturn]] void wrong_type(Json::Type have, const char* want) {
    throw FormatError(std::string("json: expected ") + want + ", found " + type_name(have));
}

}  // namespace

bool Json::as_bool() const {
    if (!is_bool()) wrong_type(type(), "a boolean");
    return std::get<bool>(v_);
}
double Json::as_number() const {
    if (!is_number()) wrong_type(type(), "a number");
    return std::get<double>(v_);
}
const std::string& Json::as_string() const {
    if (!is_string()) wrong_type(type(), "a string");
    return std::get<std::string>(v_);
}
const Json::Array& Json::as_array() const {
    if (!is_array()) wrong_type(type(), "an array");
    return std::get<Array>(v_);
}
const Json::Object& Json::as_object() const {
    if (!is_object()) wrong_type(type(), "an object");
    return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const {
    if (!is_object()) return nullptr;
    for (const Member& m : std::get<Object>(v_))
        if (m.first == key) return &m.second;
    return nullptr;
}

const Json& Json::at(std::string_view key) const {
    if (!is_object()) wrong_type(type(), "an object");
    if (const Json* j = find(key)) return *j;
    throw FormatError("json: missing key \"" + std::string(key) + "\"");
}

const Json& Json::at(std::size_t index) const {
    const Array& a = as_array();
    if (index >= a.size())
        throw FormatError("json: index " + std::to_string(index) + " is past the end of an array of " +
                          std::to_string(a.size()));
    return a[index];
}

std::size_t Json::size() const {
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    return 0;
}

Json& Json::operator[](std::string_view key) {
    if (is_null()) v_ = Object{};
    if (!is_object())
        throw std::logic_error("json: operator[] with key \"" + std::string(key) + "\" on " +
                               type_name(type()));
    Object& o = std::get<Object>(v_);
    for (Member& m : o)
        if (m.first == key) return m.second;
    o.emplace_back(std::string(key), Json());
    return o.back().second;
}

Json& Json::operator[](std::size_t index) {
    if (!is_array()) throw std::logic_error(std::string("json: operator[] with an index on ") + type_name(type()));
    Array& a = std::get<Array>(v_);
    if (index >= a.size())
        throw std::out_of_range("json: index " + std::to_string(index) + " is past the end of an array of " +
                                std::to_string(a.size()));
    return a[index];
}

void Json::push_back(Json item) {
    if (is_null()) v_ = Array{};
    if (!is_array()) throw std::logic_error(std::string("json: push_back on ") + type_name(type()));
    std::get<Array>(v_).push_back(std::move(item));
}

bool operator==(const Json& a, const Json& b) {
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case Json::Type::null: return true;
        case Json::Type::boolean: return a.as_bool() == b.as_bool();
        case Json::Type::number: return a.as_number() == b.as_number();
        case Json::Type::string: return a.as_string() == b.as_string();
        case Json::Type::array: return a.as_array() == b.as_array();
        case Json::Type::object: return a.as_object() == b.as_object();
    }
    return false;
}

// ---- numbers ----

std::string format_number(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    if (x == 0) return std::signbit(x) ? "-0" : "0";
    char buf[64];
    if (std::abs(x) < 0x1p53 && x == std::trunc(x)) {
        const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(x));
        return std::string(buf, r.ptr);
    }
    const auto r = std::to_chars(buf, buf + sizeof buf, x);  // shortest round-trip form
    return std::string(buf, r.ptr);
}

// ---- writer ----

namespace {

void write_string(std::string& out, std::string_view s) {
    static const char* hex = "0123456789abcdef";
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out += hex[c >> 4];
                    out += hex[c & 0xF];
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void newline(std::string& out, int indent, int level) {
    if (indent <= 0) return;
    out += '\n';
    out.append(static_cast<std::size_t>(indent) * static_cast<std::size_t>(level), ' ');
}

void write_value(std::string& out, const Json& j, int indent, int level) {
    switch (j.type()) {
        case Json::Type::null: out += "null"; break;
        case Json::Type::boolean: out += j.as_bool() ? "true" : "false"; break;
        case Json::Type::number: {
            const double x = j.as_number();
            out += std::isfinite(x) ? format_number(x) : "null";
            break;
        }
        case Json::Type::string: write_string(out, j.as_string()); break;
        case Json::Type::array: {
            const Json::Array& a = j.as_array();
            if (a.empty()) {
                out += "[]";
                break;
            }
            out += '[';
            for (std::size_t i = 0; i < a.size(); ++i) {
                if (i) out += ',';
                newline(out, indent, level + 1);
                write_value(out, a[i], indent, level + 1);
            }
            newline(out, indent, level);
            out += ']';
            break;
        }
        case Json::Type::object: {
            const Json::Object& o = j.as_object();
            if (o.empty()) {
                out += "{}";
                break;
            }
            out += '{';
            bool first = true;
            for (const Json::Member& m : o) {
                if (!first) out += ',';
                first = false;
                newline(out, indent, level + 1);
                write_string(out, m.first);
                out += indent > 0 ? ": " : ":";
                write_value(out, m.second, indent, level + 1);
            }
            newline(out, indent, level);
            out += '}';
            break;
        }
    }
}

}  // namespace

std::string Json::dump(int indent) const {
    std::string out;
    write_value(out, *this, indent, 0);
    return out;
}

// ---- parser ----

namespace {

constexpr int kMaxDepth = 256;

class Parser {
public:
    explicit Parser(std::string_view s) : s_(s) {}

    Json document() {
        skip_space();
        Json v = value(0);
        skip_space();
        if (i_ != s_.size()) error("unexpected text after the value", i_);
        return v;
    }

private:
    [[noreturn]] void error(const std::string& what, std::size_t at) const {
        at = std::min(at, s_.size());
        std::size_t line = 1, line_start = 0;
        for (std::size_t k = 0; k < at; ++k)
            if (s_[k] == '\n') {
                ++line;
                line_start = k + 1;
            }
        throw FormatError("json: " + what + " at line " + std::to_string(line) + ", column " +
                          std::to_string(at - line_start + 1));
    }

    bool at_end() const { return i_ >= s_.size(); }
    char peek() const { return at_end() ? '\0' : s_[i_]; }

    void skip_space() {
        while (!at_end() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
    }

    void expect_word(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) error("invalid literal (expected '" + std::string(w) + "')", i_);
        i_ += w.size();
    }

    Json value(int depth) {
        if (at_end()) error("unexpected end of input, expected a value", i_);
        switch (s_[i_]) {
            case '{': return object(depth + 1);
            case '[': return array(depth + 1);
            case '"': return Json(string());
            case 't': expect_word("true"); return Json(true);
            case 'f': expect_word("false"); return Json(false);
            case 'n': expect_word("null"); return Json();
            default:
                if (s_[i_] == '-' || (s_[i_] >= '0' && s_[i_] <= '9')) return Json(number());
                error(std::string("unexpected character '") + printable(s_[i_]) + "', expected a value", i_);
        }
    }

    static std::string printable(char c) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) return std::string(1, c);
        static const char* hex = "0123456789abcdef";
        return std::string("\\x") + hex[u >> 4] + hex[u & 0xF];
    }

    Json array(int depth) {
        if (depth > kMaxDepth) error("arrays and objects nested deeper than 256 levels", i_);
        ++i_;  // '['
        Json a = Json::array();
        skip_space();
        if (peek() == ']') {
            ++i_;
            return a;
        }
        for (;;) {
            skip_space();
            a.push_back(value(depth));
            skip_space();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == ']') {
                ++i_;
                return a;
            }
            error(at_end() ? "unexpected end of input in an array" : "expected ',' or ']'", i_);
        }
    }

    Json object(int depth) {
        if (depth > kMaxDepth) error("arrays and objects nested deeper than 256 levels", i_);
        ++i_;  // '{'
        Json::Object members;
        std::unordered_set<std::string_view> keys;  // views of the keys stored in `members`
        skip_space();
        if (peek() == '}') {
            ++i_;
            return Json(std::move(members));
        }
        for (;;) {
            skip_space();
            if (peek() != '"')
                error(at_end() ? "unexpected end of input in an object" : "expected a string key", i_);
            const std::size_t key_at = i_;
            std::string key = string();
            if (keys.count(key)) error("duplicate key \"" + key + "\"", key_at);
            skip_space();
            if (peek() != ':') error("expected ':' after the key", i_);
            ++i_;
            skip_space();
            members.emplace_back(std::move(key), Json());
            keys.insert(members.back().first);
            members.back().second = value(depth);
            skip_space();
            if (peek() == ',') {
                ++i_;
                continue;
            }
            if (peek() == '}') {
                ++i_;
                return Json(std::move(members));
            }
            error(at_end() ? "unexpected end of input in an object" : "expected ',' or '}'", i_);
        }
    }

    unsigned hex4() {
        if (s_.size() - i_ < 4) error("unexpected end of input in a \\u escape", i_);
        unsigned v = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = s_[i_ + static_cast<std::size_t>(k)];
            unsigned d;
            if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
            else error("invalid hex digit in a \\u escape", i_ + static_cast<std::size_t>(k));
            v = v << 4 | d;
        }
        i_ += 4;
        return v;
    }

    static void put_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | cp >> 6);
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | cp >> 12);
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | cp >> 18);
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // Length of the valid UTF-8 sequence starting at i_ (2-4), or 0 if it is invalid
    // (overlong forms, surrogates and code points above U+10FFFF are invalid).
    std::size_t utf8_length() const {
        auto at = [&](std::size_t k) -> unsigned {
            return i_ + k < s_.size() ? static_cast<unsigned char>(s_[i_ + k]) : 0u;
        };
        const unsigned c = at(0);
        auto cont = [&](std::size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
            const unsigned b = at(k);
            return b >= lo && b <= hi;
        };
        if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
        if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
        if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
        if (c >= 0xE1 && c <= 0xEF) return cont(1) && cont(2) ? 3 : 0;
        if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
        if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
        if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
        return 0;
    }

    std::string string() {
        const std::size_t open = i_;
        ++i_;  // '"'
        std::string out;
        for (;;) {
            if (at_end()) error("unterminated string", open);
            const auto c = static_cast<unsigned char>(s_[i_]);
            if (c == '"') {
                ++i_;
                return out;
            }
            if (c < 0x20) error("unescaped control character in a string", i_);
            if (c >= 0x80) {
                const std::size_t n = utf8_length();
                if (n == 0) error("invalid UTF-8 in a string", i_);
                out.append(s_.substr(i_, n));
                i_ += n;
                continue;
            }
            if (c != '\\') {
                out += static_cast<char>(c);
                ++i_;
                continue;
            }
            const std::size_t esc = i_;
            ++i_;
            if (at_end()) error("unterminated string", open);
            const char e = s_[i_++];
            switch (e) {
                case '"': out += '"'; break;
                case '\\': out += '\\'; break;
                case '/': out += '/'; break;
                case 'b': out += '\b'; break;
                case 'f': out += '\f'; break;
                case 'n': out += '\n'; break;
                case 'r': out += '\r'; break;
                case 't': out += '\t'; break;
                case 'u': {
                    unsigned cp = hex4();
                    if (cp >= 0xDC00 && cp <= 0xDFFF) error("unpaired low surrogate in a \\u escape", esc);
                    if (cp >= 0xD800 && cp <= 0xDBFF) {
                        if (s_.substr(i_, 2) != "\\u") error("unpaired high surrogate in a \\u escape", esc);
                        i_ += 2;
                        const unsigned lo = hex4();
                        if (lo < 0xDC00 || lo > 0xDFFF) error("unpaired high surrogate in a \\u escape", esc);
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    put_utf8(out, cp);
                    break;
                }
                default: error("invalid escape '\\" + printable(e) + "' in a string", esc);
            }
        }
    }

    double number() {
        const std::size_t start = i_;
        auto digit = [&] { return !at_end() && s_[i_] >= '0' && s_[i_] <= '9'; };
        if (peek() == '-') ++i_;
        if (!digit()) error("invalid number (expected a digit)", i_);
        const std::size_t int_start = i_;
        if (s_[i_] == '0') {
            ++i_;
            if (digit()) error("invalid number (leading zero)", int_start);
        } else {
            while (digit()) ++i_;
        }
        const std::size_t int_end = i_;
        std::size_t frac_start = i_, frac_end = i_;
        if (peek() == '.') {
            ++i_;
            if (!digit()) error("invalid number (expected a digit after '.')", i_);
            frac_start = i_;
            while (digit()) ++i_;
            frac_end = i_;
        }
        long exponent = 0;  // saturates: only its sign and rough size matter below
        if (peek() == 'e' || peek() == 'E') {
            ++i_;
            bool negative = false;
            if (peek() == '+' || peek() == '-') negative = s_[i_++] == '-';
            if (!digit()) error("invalid number (expected a digit in the exponent)", i_);
            while (digit()) exponent = std::min(exponent * 10 + (s_[i_++] - '0'), 1000000L);
            if (negative) exponent = -exponent;
        }
        double x = 0;
        const auto r = std::from_chars(s_.data() + start, s_.data() + i_, x);
        if (r.ec == std::errc::result_out_of_range) {
            // Decimal exponent of the leading digit: positive means too large for a double
            // (an error), negative means too small (it rounds to zero).
            long lead = 0;
            if (s_[int_start] != '0') {
                lead = static_cast<long>(int_end - int_start) - 1 + exponent;
            } else {
                std::size_t k = frac_start;
                while (k < frac_end && s_[k] == '0') ++k;
                lead = -static_cast<long>(k - frac_start + 1) + exponent;
            }
            if (lead >= 0) error("number out of the range of a double", start);
            return s_[start] == '-' ? -0.0 : 0.0;
        }
        if (r.ec != std::errc() || r.ptr != s_.data() + i_) error("invalid number", start);
        return x;
    }

    std::string_view s_;
    std::size_t i_ = 0;
};

}  // namespace

Json Json::parse(std::string_view text) { return Parser(text).document(); }

// ---- CSV ----

CsvCell::CsvCell(std::string_view s) : text_(csv_field(s)) {}

CsvCell::CsvCell(float x) {
    if (!std::isfinite(x)) {
        text_ = format_number(static_cast<double>(x));
        return;
    }
    if (std::abs(x) < 0x1p24f && x == std::trunc(x)) {
        text_ = format_number(static_cast<double>(x));
        return;
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, x);
    text_.assign(buf, r.ptr);
}

std::string csv_field(std::string_view s) {
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

std::string csv_row(std::span<const CsvCell> cells) {
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i) out += ',';
        out += cells[i].text();
    }
    out += '\n';
    return out;
}

std::string csv_row(std::initializer_list<CsvCell> cells) {
    return csv_row(std::span<const CsvCell>(cells.begin(), cells.size()));
}

}  // namespace nfvi::io
