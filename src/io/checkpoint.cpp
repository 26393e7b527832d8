// Checkpoint files (see checkpoint.h): the writer, and the checking parser that hands out a
// section only after the whole file has been validated.
#include "src/io/checkpoint.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "src/io/checksum.h"
#include "src/io/files.h"

namespace nfvi::io {

namespace {

constexpr char kMagic[8] = {'N', 'F', 'V', 'I', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t kOrderTag = 0x01020304;
constexpr std::uint32_t kOrderSwapped = 0x04030201;
constexpr std::size_t kHeaderBytes = 20;        // magic, version, byte-order tag, section count
constexpr std::size_t kEnvelopeBytes = 16 + 4;  // what every version has: magic, version, tag, CRC
constexpr std::size_t kCrcBytes = 4;
constexpr std::size_t kTensorHeaderBytes = 8;   // element size, rank (then 4 bytes per dim)

// What a reader of a bad file should do. The trainer's checkpoints are the main use.
constexpr const char* kWhatToDo = "use another checkpoint (a training run resumed with --resume starts from scratch once this file is deleted)";

std::string hex32(std::uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
    return buf;
}

std::string quoted(std::string_view s) {
    std::string q;
    q.reserve(s.size() + 2);
    q += '\'';
    q += s;
    q += '\'';
    return q;
}

template <class T>
T load_native(const std::uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Writes numbers (native byte order) and bytes into a buffer sized beforehand.
struct Cursor {
    std::uint8_t* p;
    template <class T>
    void num(T v) {
        std::memcpy(p, &v, sizeof v);
        p += sizeof v;
    }
    void raw(const void* src, std::size_t n) {
        if (n) std::memcpy(p, src, n);
        p += n;
    }
};

bool printable(unsigned char c) { return c >= 0x20 && c <= 0x7E; }

// Why a name may not be used, or nullptr.
const char* name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > kCheckpointMaxName) return "is longer than 64 bytes";
    for (char c : name)
        if (!printable(static_cast<unsigned char>(c))) return "has a byte that is not printable ASCII";
    return nullptr;
}

const char* real_name(std::uint32_t size) {
    return size == 4 ? "4-byte floats" : size == 8 ? "8-byte doubles" : "values of an unknown size";
}

bool starts_with(std::span<const std::uint8_t> b, std::string_view prefix) {
    return b.size() >= prefix.size() && std::memcmp(b.data(), prefix.data(), prefix.size()) == 0;
}

// What bytes that are not a checkpoint look like, as "; it looks like ...", or "".
std::string looks_like(std::span<const std::uint8_t> b) {
    using namespace std::string_view_literals;
    struct Signature {
        std::string_view prefix;
        const char* what;
    };
    static constexpr Signature kKnown[] = {
        {"\x89PNG"sv, "a PNG image"},
        {"GIF8"sv, "a GIF image"},
        {"\x1f\x8b"sv, "gzip-compressed data (if it is a compressed checkpoint, gunzip it first)"},
        {"PK\x03\x04"sv, "a ZIP archive (a PyTorch .pt file? nfvi cannot read those)"},
        {"\x7f" "ELF"sv, "an executable program"},
        {"NFVIOPT\0"sv, "an nfvi optimizer state (Optimizer::save_state), not a whole checkpoint"},
        {"NFVI"sv, "an nfvi file of another kind, or a checkpoint whose first bytes are damaged"},
        {"\0\0\x08\x01"sv, "an MNIST IDX label file"},
        {"\0\0\x08\x03"sv, "an MNIST IDX image file"},
    };
    const char* what = nullptr;
    for (const Signature& sig : kKnown)
        if (!what && starts_with(b, sig.prefix)) what = sig.what;
    if (!what && b.size() >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) what = "a Python pickle";
    if (!what) {
        std::size_t i = 0;
        if (starts_with(b, "\xEF\xBB\xBF"sv)) i = 3;  // UTF-8 byte-order mark
        while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) ++i;
        bool text = i < b.size();
        for (std::size_t k = i; k < b.size() && k < 512; ++k)
            if (b[k] < 0x20 && b[k] != '\t' && b[k] != '\r' && b[k] != '\n') text = false;
        if (text && (b[i] == '{' || b[i] == '['))
            what = "JSON text (summary.json?)";
        else if (text && b[i] == '<')
            what = "XML or HTML text (an SVG image, or an error page saved by a download?)";
        else if (text)
            what = "text (log.csv?)";
    }
    return what ? std::string("; it looks like ") + what : std::string();
}

// Errors about one file.
struct Context {
    std::string name;

    [[noreturn]] void corrupt(const std::string& what) const {
        throw FormatError("corrupt checkpoint " + quoted(name) + ": " + what + "; " + kWhatToDo);
    }
    // `walked`: found by following the lengths of the sections, one of which may be damaged.
    [[noreturn]] void truncated(const std::string& what, bool walked = false) const {
        corrupt("truncated: " + what + " (the file was cut short, e.g. by a full disk or an interrupted copy" +
                (walked ? ", or a length in it is damaged)" : ")"));
    }
    [[noreturn]] void not_a_checkpoint(const std::string& what, std::span<const std::uint8_t> b) const {
        throw FormatError(quoted(name) + " is not an nfvi checkpoint: " + what + looks_like(b) +
                          "; pass a checkpoint written by nfvi vae train --checkpoint-every, or start without "
                          "--resume");
    }
    [[noreturn]] void checksum(std::uint32_t stored, std::uint32_t computed) const {
        corrupt("checksum mismatch (stored " + hex32(stored) + ", computed " + hex32(computed) +
                "): some of its bytes are damaged");
    }
};

// The first problem found while walking the sections of a version-1 file.
enum class Problem { None, Truncated, Invalid };

}  // namespace

// ---------------------------------------------------------------- writer

void CheckpointWriter::check_new_name(const std::string& name) const {
    if (const char* why = name_problem(name))
        throw std::invalid_argument("checkpoint section name " + quoted(name) + " " + why +
                                    " (names are 1..64 bytes of printable ASCII)");
    for (const Section& s : sections_)
        if (s.name == name)
            throw std::invalid_argument("checkpoint section " + quoted(name) + " is added twice: names must be unique");
    if (sections_.size() >= kCheckpointMaxSections)
        throw std::invalid_argument("a checkpoint holds at most 4096 sections; cannot add " + quoted(name));
}

void CheckpointWriter::add(std::string name, std::span<const std::uint8_t> payload) {
    check_new_name(name);
    sections_.push_back({std::move(name), std::vector<std::uint8_t>(payload.begin(), payload.end())});
}

void CheckpointWriter::add(std::string name, std::span<const std::byte> payload) {
    add(std::move(name), std::span(reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size()));
}

void CheckpointWriter::add_text(std::string name, std::string_view text) {
    add(std::move(name), std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void CheckpointWriter::add_u64(std::string name, std::uint64_t v) {
    std::vector<std::uint8_t> b(sizeof v);
    Cursor{b.data()}.num(v);
    add(std::move(name), b);
}

void CheckpointWriter::add_i64(std::string name, std::int64_t v) {
    std::vector<std::uint8_t> b(sizeof v);
    Cursor{b.data()}.num(v);
    add(std::move(name), b);
}

void CheckpointWriter::add_tensor(std::string name, const Tensor& t) {
    if (t.data() == nullptr)
        throw std::invalid_argument("checkpoint tensor " + quoted(name) +
                                    " has no storage (a default-constructed Tensor): give it a shape first");
    const Shape& s = t.shape();
    const std::size_t values = static_cast<std::size_t>(t.numel()) * sizeof(real);
    std::vector<std::uint8_t> b(kTensorHeaderBytes + 4 * static_cast<std::size_t>(s.rank) + values);
    Cursor out{b.data()};
    out.num(static_cast<std::uint32_t>(sizeof(real)));
    out.num(static_cast<std::uint32_t>(s.rank));
    for (int i = 0; i < s.rank; ++i) out.num(static_cast<std::uint32_t>(s[i]));
    out.raw(t.data(), values);
    add(std::move(name), b);
}

std::vector<std::uint8_t> CheckpointWriter::bytes() const {
    std::size_t total = kHeaderBytes + kCrcBytes;
    for (const Section& s : sections_) total += 4 + s.name.size() + 8 + s.payload.size();
    std::vector<std::uint8_t> buf(total);
    Cursor out{buf.data()};
    out.raw(kMagic, sizeof kMagic);
    out.num(kCheckpointVersion);
    out.num(kOrderTag);
    out.num(static_cast<std::uint32_t>(sections_.size()));
    for (const Section& s : sections_) {
        out.num(static_cast<std::uint32_t>(s.name.size()));
        out.raw(s.name.data(), s.name.size());
        out.num(static_cast<std::uint64_t>(s.payload.size()));
        out.raw(s.payload.data(), s.payload.size());
    }
    out.num(crc32(std::span(buf).first(total - kCrcBytes)));
    return buf;
}

void CheckpointWriter::write(const std::string& path) const { write_file_atomic(path, bytes()); }

// ---------------------------------------------------------------- reader

Checkpoint Checkpoint::parse(std::span<const std::uint8_t> bytes, std::string_view name_for_messages) {
    return parse_owned(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), name_for_messages);
}

Checkpoint Checkpoint::load(const std::string& path, std::size_t max_bytes) {
    std::vector<std::uint8_t> data;
    try {
        data = read_file(path, max_bytes);
    } catch (const FormatError& e) {
        throw FormatError(std::string(e.what()) + " (reading checkpoint " + quoted(path) + "; " + kWhatToDo + ")");
    }
    return parse_owned(std::move(data), path);
}

Checkpoint Checkpoint::parse_owned(std::vector<std::uint8_t> data, std::string_view name_for_messages) {
    const Context c{std::string(name_for_messages)};
    const std::span<const std::uint8_t> b(data);
    const std::size_t n = b.size();

    // Magic. A file shorter than it is truncated if what is there matches.
    if (n < sizeof kMagic) {
        if (n == 0 || std::memcmp(b.data(), kMagic, n) == 0)
            c.truncated(n == 0 ? std::string("the file is empty")
                               : "only " + std::to_string(n) + " bytes, less than the 8-byte magic");
        c.not_a_checkpoint("it is " + std::to_string(n) + " bytes long and does not start with \"NFVICKPT\"", b);
    }
    if (std::memcmp(b.data(), kMagic, sizeof kMagic) != 0)
        c.not_a_checkpoint("it does not start with \"NFVICKPT\"", b);

    // Version and byte order.
    if (n < 16) c.truncated("only " + std::to_string(n) + " bytes, less than the 16 of the header's first fields");
    const auto version = load_native<std::uint32_t>(b.data() + 8);
    const auto order = load_native<std::uint32_t>(b.data() + 12);
    if (order == kOrderSwapped)
        throw FormatError("checkpoint " + quoted(c.name) +
                          " was written on a machine of the other byte order (little- vs big-endian), which this "
                          "nfvi cannot read: resume on a machine like the one that wrote it, or start without "
                          "--resume");

    // Every version ends with a CRC of all bytes before it. A version other than 1 (or a tag
    // other than the two above) with a valid CRC is genuine; with an invalid one, damage.
    auto check_crc = [&] {
        if (n < kEnvelopeBytes)
            c.truncated("only " + std::to_string(n) + " bytes, less than the " + std::to_string(kEnvelopeBytes) +
                        " of the smallest checkpoint");
        const auto stored = load_native<std::uint32_t>(b.data() + n - kCrcBytes);
        const std::uint32_t computed = crc32(b.first(n - kCrcBytes));
        if (stored != computed) c.checksum(stored, computed);
    };
    if (version != kCheckpointVersion || order != kOrderTag) {
        check_crc();
        if (order != kOrderTag) c.corrupt("its byte-order tag is " + hex32(order) + ", expected " + hex32(kOrderTag));
        if (version > kCheckpointVersion)
            throw FormatError("checkpoint " + quoted(c.name) + " was written by a newer nfvi (format version " +
                              std::to_string(version) + "; this nfvi reads version " +
                              std::to_string(kCheckpointVersion) +
                              "): use that nfvi or a newer one, or start without --resume");
        c.corrupt("its format version is " + std::to_string(version) + ", which no nfvi writes");
    }

    // Walk the sections with every length checked against the bytes that remain before the
    // trailing CRC (the file's last 4 bytes). The first problem stops the walk; a truncation is
    // reported at once, anything else only after the CRC (a damaged byte then says "checksum
    // mismatch", a well-formed but invalid file says what is invalid).
    if (n < kHeaderBytes + kCrcBytes)
        c.truncated("only " + std::to_string(n) + " bytes, less than the " +
                    std::to_string(kHeaderBytes + kCrcBytes) + " of an empty checkpoint");
    const std::size_t end = n - kCrcBytes;  // sections lie in [kHeaderBytes, end)
    Problem problem = Problem::None;
    std::string detail;
    std::vector<Section> sections;
    std::map<std::string, std::size_t, std::less<>> index;
    std::size_t pos = kHeaderBytes - 4;  // at the section count
    auto have = [&](std::size_t k) { return end - pos >= k; };
    auto stop = [&](Problem p, std::string what) {
        problem = p;
        detail = std::move(what);
    };
    auto cut = [&](const std::string& what) {
        stop(Problem::Truncated, "the file ends after " + std::to_string(n) + " bytes, before the end of " + what +
                                     " (which starts at byte " + std::to_string(pos) +
                                     ") and the 4-byte checksum that must follow");
    };

    const auto count = load_native<std::uint32_t>(b.data() + pos);
    pos += 4;
    if (count > kCheckpointMaxSections)
        stop(Problem::Invalid, "it announces " + std::to_string(count) + " sections, more than the limit of " +
                                   std::to_string(kCheckpointMaxSections));
    for (std::uint32_t i = 0; problem == Problem::None && i < count; ++i) {
        const std::string nth = "section " + std::to_string(i + 1) + " of " + std::to_string(count);
        if (!have(4)) {
            cut("the name length of " + nth);
            break;
        }
        const auto name_len = load_native<std::uint32_t>(b.data() + pos);
        if (name_len == 0 || name_len > kCheckpointMaxName) {
            stop(Problem::Invalid, "the name of " + nth + " is " + std::to_string(name_len) +
                                       " bytes long; names are 1..64 bytes");
            break;
        }
        pos += 4;
        if (!have(name_len)) {
            cut("the name of " + nth);
            break;
        }
        std::string name(reinterpret_cast<const char*>(b.data() + pos), name_len);
        if (name_problem(name)) {
            stop(Problem::Invalid, "the name of " + nth + " has a byte that is not printable ASCII");
            break;
        }
        pos += name_len;
        if (!have(8)) {
            cut("the payload length of section " + quoted(name));
            break;
        }
        const auto len = load_native<std::uint64_t>(b.data() + pos);
        pos += 8;
        if (len > end - pos) {
            cut("the " + std::to_string(len) + "-byte payload of section " + quoted(name));
            break;
        }
        if (index.count(name)) {
            stop(Problem::Invalid, "section name " + quoted(name) + " appears twice");
            break;
        }
        index.emplace(name, sections.size());
        sections.push_back({std::move(name), pos, static_cast<std::size_t>(len)});
        pos += static_cast<std::size_t>(len);
    }
    if (problem == Problem::None && pos != end) {
        const std::size_t extra = end - pos;
        if (load_native<std::uint32_t>(b.data() + pos) == crc32(b.first(pos)))
            c.corrupt(std::to_string(extra) + " unexpected bytes follow its end (byte " +
                      std::to_string(pos + kCrcBytes) + "): something was appended to it");
        stop(Problem::Invalid, std::to_string(extra) + " bytes follow the last section, where only the 4-byte "
                                                        "checksum belongs");
    }
    if (problem == Problem::Truncated) c.truncated(detail, true);
    check_crc();
    if (problem == Problem::Invalid) c.corrupt(detail);

    Checkpoint ck;
    ck.source_ = c.name;
    ck.data_ = std::move(data);
    ck.sections_ = std::move(sections);
    ck.index_ = std::move(index);
    return ck;
}

std::vector<std::string> Checkpoint::names() const {
    std::vector<std::string> v;
    v.reserve(sections_.size());
    for (const Section& s : sections_) v.push_back(s.name);
    return v;
}

bool Checkpoint::has(std::string_view name) const { return index_.find(name) != index_.end(); }

const Checkpoint::Section& Checkpoint::find(std::string_view name) const {
    const auto it = index_.find(name);
    if (it != index_.end()) return sections_[it->second];
    std::string list;
    constexpr std::size_t kShown = 12;
    for (std::size_t i = 0; i < sections_.size() && i < kShown; ++i) list += (i ? ", " : "") + sections_[i].name;
    if (sections_.size() > kShown) list += ", ... (" + std::to_string(sections_.size()) + " in all)";
    throw FormatError("checkpoint " + quoted(source_) + " has no section " + quoted(name) + " (it has: " +
                      (list.empty() ? std::string("none") : list) +
                      "): it was written by another program or version of nfvi, or for another model; " + kWhatToDo);
}

std::span<const std::uint8_t> Checkpoint::bytes(std::string_view name) const {
    const Section& s = find(name);
    return std::span(data_).subspan(s.offset, s.size);
}

std::string Checkpoint::text(std::string_view name) const {
    const auto b = bytes(name);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

std::uint64_t Checkpoint::u64(std::string_view name) const {
    const auto b = bytes(name);
    if (b.size() != 8)
        throw FormatError("checkpoint " + quoted(source_) + ": section " + quoted(name) + " holds " +
                          std::to_string(b.size()) + " bytes, not the 8 of an integer: it was written by another "
                          "program or version of nfvi; " + kWhatToDo);
    return load_native<std::uint64_t>(b.data());
}

std::int64_t Checkpoint::i64(std::string_view name) const { return static_cast<std::int64_t>(u64(name)); }

namespace {

struct TensorLayout {
    std::uint32_t elem_size = 0;
    Shape shape;
    std::size_t value_bytes = 0;  // numel · elem_size
    const std::uint8_t* values = nullptr;
};

[[noreturn]] void bad_tensor(const std::string& source, std::string_view name, const std::string& what) {
    throw FormatError("checkpoint " + quoted(source) + ": section " + quoted(name) + " is not a valid tensor: it " +
                      what + "; " + kWhatToDo);
}

// Decodes and checks the tensor payload `b` of section `name` in checkpoint `source`.
TensorLayout decode_tensor(std::span<const std::uint8_t> b, const std::string& source, std::string_view name) {
    if (b.size() < kTensorHeaderBytes)
        bad_tensor(source, name, "holds " + std::to_string(b.size()) + " bytes, too few for a tensor header");
    TensorLayout t;
    t.elem_size = load_native<std::uint32_t>(b.data());
    const auto rank = load_native<std::uint32_t>(b.data() + 4);
    if (t.elem_size != 4 && t.elem_size != 8)
        bad_tensor(source, name,
                   "has an element size of " + std::to_string(t.elem_size) + " bytes; tensors hold 4 or 8");
    if (rank > 4) bad_tensor(source, name, "has rank " + std::to_string(rank) + "; tensors have at most 4 dims");
    const std::size_t header = kTensorHeaderBytes + 4 * std::size_t{rank};
    if (b.size() < header)
        bad_tensor(source, name, "holds " + std::to_string(b.size()) + " bytes, too few for the header of a rank-" +
                                     std::to_string(rank) + " tensor");

    t.shape.rank = static_cast<int>(rank);
    bool zero = false;
    for (std::uint32_t i = 0; i < rank; ++i) {
        const auto d = load_native<std::uint32_t>(b.data() + kTensorHeaderBytes + 4 * std::size_t{i});
        if (d > 0x7FFFFFFFu) bad_tensor(source, name, "has dim " + std::to_string(d) + ", more than 2^31-1");
        t.shape.dims[i] = static_cast<int>(d);
        zero = zero || d == 0;
    }
    // n = product of dims, checked against what the payload can hold before each product (no
    // overflow, even for four dims of 2^31-1).
    const std::uint64_t max_n = (b.size() - header) / t.elem_size;
    std::uint64_t n = zero ? 0 : 1;
    for (std::uint32_t i = 0; i < rank && !zero; ++i) {
        const auto d = static_cast<std::uint64_t>(t.shape.dims[i]);
        if (n > max_n / d)
            bad_tensor(source, name, "has shape " + t.shape.str() + ", more values than its " +
                                         std::to_string(b.size()) + " bytes hold");
        n *= d;
    }
    t.value_bytes = static_cast<std::size_t>(n) * t.elem_size;
    if (b.size() - header != t.value_bytes)
        bad_tensor(source, name, "has shape " + t.shape.str() + " of " + real_name(t.elem_size) + " (" +
                                     std::to_string(t.value_bytes) + " bytes) but holds " +
                                     std::to_string(b.size() - header) + " bytes of values");
    t.values = b.data() + header;
    return t;
}

}  // namespace

Shape Checkpoint::tensor_shape(std::string_view name) const {
    return decode_tensor(bytes(name), source_, name).shape;
}

void Checkpoint::read_tensor(std::string_view name, Tensor& into) const {
    const TensorLayout t = decode_tensor(bytes(name), source_, name);
    const bool shape_ok = t.shape == into.shape();
    const bool size_ok = t.elem_size == sizeof(real);
    if (!shape_ok || !size_ok) {
        const std::string found = shape_ok ? real_name(t.elem_size) : "shape " + t.shape.str() +
                                  (size_ok ? "" : std::string(" of ") + real_name(t.elem_size));
        const std::string expected = shape_ok ? real_name(sizeof(real)) : into.shape().str() +
                                     (size_ok ? "" : std::string(" of ") + real_name(sizeof(real)));
        std::string why;
        if (!shape_ok)
            why = "a different architecture (other --latent, --hidden, --layers or --flow settings)";
        if (!size_ok)
            why += std::string(why.empty() ? "" : " and ") + "a different build (" +
                   (t.elem_size == 8 ? "double" : "float") + " vs " + (sizeof(real) == 8 ? "double" : "float") +
                   ", meson option -Dreal)";
        throw FormatError("checkpoint " + quoted(source_) + ": tensor " + quoted(name) + " holds " + found +
                          ", but this model expects " + expected + ": the checkpoint comes from " + why +
                          "; resume with the settings and build that wrote it, or start without --resume");
    }
    into.resize(into.shape());  // a no-op, except for a default-constructed Tensor (no storage yet)
    if (t.value_bytes) std::memcpy(into.data(), t.values, t.value_bytes);
}

}  // namespace nfvi::io
