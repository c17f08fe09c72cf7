#include "core/signing.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sodium.h>

#include "core/error.h"
#include "core/hash.h"

namespace rfarm {

namespace {

constexpr std::string_view kPrivateTag = "rfarm-ed25519-private-v1";
constexpr std::string_view kPublicTag = "rfarm-ed25519-public-v1";
// A key file is one short line; anything much longer is not a key file.
constexpr std::uintmax_t kMaxKeyFileBytes = 4096;

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string read_small_file(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(Error::Kind::Io, path.string() + ": cannot read " + std::string(what) + ": " +
                                     std::strerror(errno) + " (check the path and permissions)");
  }
  std::string text;
  text.resize(kMaxKeyFileBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxKeyFileBytes) {
    throw_input_error({path.string()}, what, "file is too large to be a key file",
                      "point at the file written by `rfarm keygen`");
  }
  return text;
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw Error(Error::Kind::Io, path.string() + ": write failed: " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Write-temp, fsync, rename, fsync the directory: after return the file is durable and whole.
void write_key_file(const std::filesystem::path& path, std::string_view text, mode_t mode) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    throw Error(Error::Kind::Io, tmp.string() + ": cannot create: " + std::strerror(errno) +
                                     " (check that the directory exists and is writable)");
  }
  try {
    // open() applies the umask; fchmod sets exactly the mode we promise.
    if (::fchmod(fd, mode) != 0) throw Error(Error::Kind::Io, tmp.string() + ": chmod failed");
    write_all(fd, text, tmp);
    if (::fsync(fd) != 0) throw Error(Error::Kind::Io, tmp.string() + ": fsync failed");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    throw Error(Error::Kind::Io, path.string() + ": rename failed: " + std::strerror(errno));
  }
  std::filesystem::path dir = path.parent_path().empty() ? "." : path.parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace

std::string PublicKey::hex() const { return to_hex(bytes); }

std::optional<PublicKey> PublicKey::from_hex(std::string_view text) {
  PublicKey k;
  if (!from_hex_exact(text, k.bytes)) return std::nullopt;
  return k;
}

std::string Signature::hex() const { return to_hex(bytes); }

std::optional<Signature> Signature::from_hex(std::string_view text) {
  Signature s;
  if (!from_hex_exact(text, s.bytes)) return std::nullopt;
  return s;
}

SigningKey::~SigningKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(secret_.data(), secret_.size());
}

SigningKey SigningKey::from_seed(std::span<const std::uint8_t, 32> seed) {
  sodium_ready();
  SigningKey k;
  std::memcpy(k.seed_.data(), seed.data(), seed.size());
  crypto_sign_seed_keypair(k.public_.bytes.data(), k.secret_.data(), k.seed_.data());
  return k;
}

SigningKey SigningKey::generate() {
  sodium_ready();
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  SigningKey k = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

SigningKey SigningKey::load(const std::filesystem::path& private_path) {
  struct stat st {};
  if (::stat(private_path.c_str(), &st) != 0) {
    throw Error(Error::Kind::Io, private_path.string() + ": cannot read private key: " +
                                     std::strerror(errno) + " (create one with `rfarm keygen`)");
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw Error(Error::Kind::Refused, private_path.string() + ": private key is readable by group/others (mode " +
                                          mode + "); refusing to use it (run: chmod 600 " +
                                          private_path.string() + ")");
  }
  std::string text = read_small_file(private_path, "private key");
  std::string_view body = trim(text);
  std::array<std::uint8_t, 32> seed{};
  bool ok = body.size() == kPrivateTag.size() + 1 + 64 && body.substr(0, kPrivateTag.size()) == kPrivateTag &&
            body[kPrivateTag.size()] == ' ' && from_hex_exact(body.substr(kPrivateTag.size() + 1), seed);
  sodium_memzero(text.data(), text.size());
  if (!ok) {
    throw_input_error({private_path.string()}, "private key",
                      "not an rfarm Ed25519 private key (expected one line: " + std::string(kPrivateTag) +
                          " <64 hex characters>)",
                      "point at the private file written by `rfarm keygen`");
  }
  SigningKey k = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return k;
}

void SigningKey::save(const std::filesystem::path& private_path, const std::filesystem::path& public_path) const {
  std::error_code ec;
  if (std::filesystem::exists(private_path, ec)) {
    throw Error(Error::Kind::Refused, private_path.string() +
                                          ": a private key file already exists; refusing to overwrite it "
                                          "(move it away first or choose another path)");
  }
  std::string secret_line = std::string(kPrivateTag) + " " + to_hex(seed_) + "\n";
  try {
    write_key_file(private_path, secret_line, 0600);
  } catch (...) {
    sodium_memzero(secret_line.data(), secret_line.size());
    throw;
  }
  sodium_memzero(secret_line.data(), secret_line.size());
  write_key_file(public_path, std::string(kPublicTag) + " " + public_.hex() + "\n", 0644);
}

PublicKey SigningKey::public_key() const { return public_; }

Signature SigningKey::sign(std::span<const std::uint8_t> msg) const {
  Signature s;
  crypto_sign_detached(s.bytes.data(), nullptr, msg.data(), msg.size(), secret_.data());
  return s;
}

Signature SigningKey::sign(std::string_view msg) const { return sign(as_bytes(msg)); }

bool verify(const PublicKey& key, std::span<const std::uint8_t> msg, const Signature& sig) {
  sodium_ready();
  return crypto_sign_verify_detached(sig.bytes.data(), msg.data(), msg.size(), key.bytes.data()) == 0;
}

bool verify(const PublicKey& key, std::string_view msg, const Signature& sig) {
  return verify(key, as_bytes(msg), sig);
}

PublicKey load_public_key(const std::filesystem::path& path) {
  std::string text = read_small_file(path, "public key");
  std::string_view body = trim(text);
  if (body.size() == kPublicTag.size() + 1 + 64 && body.substr(0, kPublicTag.size()) == kPublicTag &&
      body[kPublicTag.size()] == ' ') {
    body.remove_prefix(kPublicTag.size() + 1);
  }
  auto key = PublicKey::from_hex(body);
  if (!key) {
    throw_input_error({path.string()}, "public key",
                      "not an rfarm Ed25519 public key (expected " + std::string(kPublicTag) +
                          " <64 hex characters>, or just the 64 hex characters)",
                      "point at the .pub file written by `rfarm keygen`");
  }
  return *key;
}

}  // namespace rfarm
