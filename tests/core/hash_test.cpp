#include "core/hash.h"

#include <gtest/gtest.h>

namespace rfarm {
namespace {

TEST(Hash, Sha256KnownAnswers) {
  EXPECT_EQ(sha256(std::string_view{}).hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256("abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Hash, IncrementalMatchesOneShot) {
  std::string text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 h;
  h.update(std::string_view(text).substr(0, 7));
  h.update(std::string_view(text).substr(7));
  Hash256 got = h.finish();
  EXPECT_EQ(got, sha256(text));
  EXPECT_EQ(got.hex(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Hash, Blake2b256KnownAnswer) {
  // BLAKE2b-256("abc") from the BLAKE2 reference implementation.
  EXPECT_EQ(blake2b256(as_bytes("abc")).hex(),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(Hash, HexRoundTripAndRejects) {
  Hash256 h = sha256("x");
  auto back = Hash256::from_hex(h.hex());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, h);
  std::string upper = h.hex();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Hash256::from_hex(upper), h);
  EXPECT_FALSE(Hash256::from_hex(h.hex().substr(1)));
  EXPECT_FALSE(Hash256::from_hex(h.hex() + "0"));
  std::string bad = h.hex();
  bad[5] = 'g';
  EXPECT_FALSE(Hash256::from_hex(bad));
}

TEST(Hash, OrderingIsBytewise) {
  Hash256 a, b;
  b.bytes[0] = 1;
  a.bytes[31] = 0xff;
  EXPECT_LT(a, b);
}

}  // namespace
}  // namespace rfarm
