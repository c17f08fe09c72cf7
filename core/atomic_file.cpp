#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "core/error.h"

namespace rfarm {
namespace {

[[noreturn]] void io_error(const std::filesystem::path& path, const char* call, int err) {
  throw Error(Error::Kind::Io, path.string() + ": " + call + " failed: " + std::strerror(err) +
                                   " (check the directory exists, is writable and has free space)");
}

// A name no other writer (thread or process) will pick: hidden, same directory, pid + counter.
std::filesystem::path temp_path_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  std::string name = "." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  return path.parent_path() / name;
}

void ensure_parent(const std::filesystem::path& path) {
  std::error_code ec;
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) io_error(path.parent_path(), "mkdir", ec.value());
}

std::filesystem::path dir_of(const std::filesystem::path& path) {
  return path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
}

void commit(const std::filesystem::path& temp, const std::filesystem::path& path) {
  fsync_path(temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(temp.c_str());
    io_error(path, "rename", err);
  }
  fsync_path(dir_of(path));
}

}  // namespace

void fsync_path(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) io_error(path, "open", errno);
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    io_error(path, "fsync", err);
  }
  ::close(fd);
}

void write_file_atomically(const std::filesystem::path& path, std::span<const std::uint8_t> bytes) {
  write_file_atomically_with(path, [&](const std::filesystem::path& temp) {
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) io_error(temp, "open", errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        io_error(temp, "write", err);
      }
      done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0) io_error(temp, "close", errno);
  });
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, std::span<const std::uint8_t>(
                                  reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

void write_file_atomically_with(const std::filesystem::path& path,
                                const std::function<void(const std::filesystem::path& temp)>& writer) {
  ensure_parent(path);
  const std::filesystem::path temp = temp_path_for(path);
  try {
    writer(temp);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(temp, ec);
    throw;
  }
  if (!std::filesystem::exists(temp))
    throw Error(Error::Kind::Internal, temp.string() + ": the writer returned without creating the file");
  commit(temp, path);
}

}  // namespace rfarm
