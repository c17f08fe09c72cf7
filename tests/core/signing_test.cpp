#include "core/signing.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "core/error.h"
#include "support/process.h"

namespace rfarm {
namespace {

TEST(Signing, SignVerifyRoundTripAndTamperingFails) {
  SigningKey key = SigningKey::generate();
  std::string msg = "tree head: cluster=a size=3";
  Signature sig = key.sign(msg);
  EXPECT_TRUE(verify(key.public_key(), msg, sig));

  std::string tampered = msg;
  tampered[0] ^= 1;
  EXPECT_FALSE(verify(key.public_key(), tampered, sig));

  Signature bad_sig = sig;
  bad_sig.bytes[10] ^= 1;
  EXPECT_FALSE(verify(key.public_key(), msg, bad_sig));

  PublicKey other = SigningKey::generate().public_key();
  EXPECT_FALSE(verify(other, msg, sig));
}

TEST(Signing, SeededKeysAreDeterministic) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 7;
  SigningKey a = SigningKey::from_seed(seed), b = SigningKey::from_seed(seed);
  EXPECT_EQ(a.public_key(), b.public_key());
  EXPECT_EQ(a.sign("x"), b.sign("x"));  // Ed25519 signatures are deterministic
}

TEST(Signing, HexRoundTrips) {
  SigningKey key = SigningKey::generate();
  Signature sig = key.sign("m");
  EXPECT_EQ(PublicKey::from_hex(key.public_key().hex()), key.public_key());
  EXPECT_EQ(Signature::from_hex(sig.hex()), sig);
  EXPECT_FALSE(PublicKey::from_hex("abc"));
  EXPECT_FALSE(Signature::from_hex(key.public_key().hex()));
}

TEST(Signing, SaveLoadRoundTripWithPrivateMode) {
  testing::TempDir dir;
  SigningKey key = SigningKey::generate();
  key.save(dir / "cluster.key", dir / "cluster.pub");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "cluster.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  SigningKey loaded = SigningKey::load(dir / "cluster.key");
  EXPECT_EQ(loaded.public_key(), key.public_key());
  EXPECT_EQ(load_public_key(dir / "cluster.pub"), key.public_key());
  EXPECT_TRUE(verify(load_public_key(dir / "cluster.pub"), "hello", loaded.sign("hello")));
  // A bare hex public key is accepted too.
  testing::write_file(dir / "bare.pub", key.public_key().hex() + "\n");
  EXPECT_EQ(load_public_key(dir / "bare.pub"), key.public_key());
  // Saving over an existing key is refused: a lost cluster key cannot be recovered.
  EXPECT_THROW(SigningKey::generate().save(dir / "cluster.key", dir / "other.pub"), Error);
  EXPECT_EQ(SigningKey::load(dir / "cluster.key").public_key(), key.public_key());
}

TEST(Signing, LoadRefusesKeyReadableByOthers) {
  testing::TempDir dir;
  SigningKey::generate().save(dir / "k", dir / "k.pub");
  ASSERT_EQ(::chmod((dir / "k").c_str(), 0644), 0);
  try {
    SigningKey::load(dir / "k");
    FAIL() << "loaded a world-readable key";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused);
    std::string msg = e.what();
    EXPECT_NE(msg.find("0644"), std::string::npos) << msg;
    EXPECT_NE(msg.find("chmod 600"), std::string::npos) << msg;
  }
  ASSERT_EQ(::chmod((dir / "k").c_str(), 0640), 0);
  EXPECT_THROW(SigningKey::load(dir / "k"), Error);
}

TEST(Signing, LoadRejectsMalformedAndMissingFiles) {
  testing::TempDir dir;
  auto p = testing::write_file(dir / "bad.key", "rfarm-ed25519-private-v1 nothex\n");
  ::chmod(p.c_str(), 0600);
  try {
    SigningKey::load(p);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
  }
  try {
    SigningKey::load(dir / "missing.key");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Io);
  }
  testing::write_file(dir / "bad.pub", "hello\n");
  EXPECT_THROW(load_public_key(dir / "bad.pub"), Error);
}

}  // namespace
}  // namespace rfarm
