// The two exceptions of nfvi's I/O layer: FormatError for bytes that are not what they claim
// to be (a corrupt or hostile file), IoError for the operating system refusing a file operation.
#pragma once

#include <stdexcept>

namespace nfvi::io {

// Malformed, truncated or oversized data. The message names the format, what is wrong and
// the byte (or line and column) where it was found.
class FormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A file could not be opened, read, written or renamed. The message names the path and
// carries the system's reason (strerror).
class IoError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace nfvi::io
