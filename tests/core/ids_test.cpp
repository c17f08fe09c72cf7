#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "core/error.h"

namespace rfarm {
namespace {

TEST(Ids, HexRoundTripAndOrder) {
  Id128 id{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
  EXPECT_EQ(id.hex(), "0123456789abcdeffedcba9876543210");
  EXPECT_EQ(Id128::from_hex(id.hex()), id);
  EXPECT_EQ(Id128::from_hex("2a"), (Id128{0, 42}));
  EXPECT_EQ(Id128::from_hex("10000000000000000"), (Id128{1, 0}));
  EXPECT_LT((Id128{0, UINT64_MAX}), (Id128{1, 0}));
  EXPECT_LT(Id128::from_hex("ff")->hex(), Id128::from_hex("100")->hex());  // text order == numeric
}

TEST(Ids, RejectsMalformed) {
  EXPECT_FALSE(Id128::from_hex(""));
  EXPECT_FALSE(Id128::from_hex(std::string(33, '1')));
  EXPECT_FALSE(Id128::from_hex("12g4"));
  EXPECT_FALSE(Id128::from_hex("-1"));
  EXPECT_THROW(parse_id("zz", "--id"), Error);
}

TEST(Ids, RandomIdsAreDistinctAndNonZero) {
  std::set<Id128> seen;
  for (int i = 0; i < 1000; ++i) {
    Id128 id = Id128::random();
    EXPECT_FALSE(id.is_zero());
    EXPECT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
}  // namespace rfarm

namespace rfarm {
namespace {

TEST(IdsDerived, IsAStableNonZeroFunctionOfTheText) {
  EXPECT_EQ(Id128::derived("rfarm-usage-v1:a/1/2/n"), Id128::derived("rfarm-usage-v1:a/1/2/n"));
  EXPECT_NE(Id128::derived("rfarm-usage-v1:a/1/2/n"), Id128::derived("rfarm-usage-v1:a/1/3/n"));
  EXPECT_FALSE(Id128::derived("").is_zero());
  // SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 ...: the first 128 bits, big-endian.
  EXPECT_EQ(Id128::derived("").hex(), "e3b0c44298fc1c149afbf4c8996fb924");
}

}  // namespace
}  // namespace rfarm
