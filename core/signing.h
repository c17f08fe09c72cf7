#pragma once
// Ed25519 signing keys, public keys and signatures (libsodium crypto_sign_*).
//
// Key file format (text, one line, trailing newline optional, surrounding whitespace ignored):
//   private key file: "rfarm-ed25519-private-v1 " followed by the 32-byte seed as 64 hex characters
//   public key file:  "rfarm-ed25519-public-v1 "  followed by the 32-byte public key as 64 hex characters
// The seed, not libsodium's 64-byte secret key, is stored: the key pair is derived from it
// (crypto_sign_seed_keypair), so the file cannot hold a secret and public half that disagree.
// A public key file may also be just the 64 hex characters (easy to paste from `rfarm keygen`).
// The private key file is written with mode 0600 and load() refuses one that group or others may
// read: a leaked cluster key lets anyone sign tree heads in the cluster's name.
#include <array>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rfarm {

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  std::string hex() const;
  static std::optional<PublicKey> from_hex(std::string_view);
  auto operator<=>(const PublicKey&) const = default;
};

struct Signature {
  std::array<std::uint8_t, 64> bytes{};
  std::string hex() const;
  static std::optional<Signature> from_hex(std::string_view);
  bool operator==(const Signature&) const = default;
};

class SigningKey {
 public:
  static SigningKey generate();
  // Deterministic key from a 32-byte seed (tests, simulation).
  static SigningKey from_seed(std::span<const std::uint8_t, 32> seed);
  // Reads a private key file. Throws Error(Refused) when group/others can read it, Error(Io) when it
  // cannot be read, Error(BadInput) when it is not in the format above.
  static SigningKey load(const std::filesystem::path& private_path);

  SigningKey(const SigningKey&) = default;
  SigningKey& operator=(const SigningKey&) = default;
  ~SigningKey();  // wipes the secret bytes (sodium_memzero)

  // Writes the private file (mode 0600, via a temporary file, fsync and rename, so a crash leaves
  // either the old file or the new one) and the public file (mode 0644). Refuses to overwrite an
  // existing private key file: losing a cluster key is not undoable.
  void save(const std::filesystem::path& private_path, const std::filesystem::path& public_path) const;

  PublicKey public_key() const;
  Signature sign(std::span<const std::uint8_t> msg) const;
  Signature sign(std::string_view msg) const;

 private:
  SigningKey() = default;
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 64> secret_{};  // libsodium's expanded secret key (seed || public key)
  PublicKey public_;
};

bool verify(const PublicKey& key, std::span<const std::uint8_t> msg, const Signature& sig);
bool verify(const PublicKey& key, std::string_view msg, const Signature& sig);
// Reads a public key file (either form above). Throws Error(Io) / Error(BadInput).
PublicKey load_public_key(const std::filesystem::path& path);

}  // namespace rfarm
