#pragma once
// Crash-safe file replacement: readers see either the old file or the complete new one, never a
// torn write. The data goes to a temporary file in the same directory (so rename(2) is atomic,
// same filesystem), is fsync'ed, renamed over the target, and then the directory is fsync'ed so
// the rename itself survives a power loss.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string_view>

namespace rfarm {

// Atomically replaces `path` with `bytes`. Creates missing parent directories.
// Throws rfarm::Error(Io) naming the path and the failing system call.
void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes);
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

// For libraries that write by file name (OpenEXR): `writer` is given a temporary path in the
// same directory and must create the complete file there; then it is fsync'ed and renamed over
// `path`. If `writer` throws, the temporary file is removed and the exception propagates; the
// target is left untouched.
void write_file_atomically_with(const std::filesystem::path& path,
                                const std::function<void(const std::filesystem::path& temp)>& writer);

// fsync(2) of an existing file or directory by path (Io error on failure).
void fsync_path(const std::filesystem::path& path);

}  // namespace rfarm
