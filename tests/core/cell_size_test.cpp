// core/cell_size.h: the verification cell edge the verifier samples and the scheduler's quote prices.
#include "core/cell_size.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>

#include "core/error.h"

namespace rfarm {
namespace {

TEST(CellSize, LargestDivisorOfTheTileNotAboveTheRequest) {
  EXPECT_EQ(effective_cell_size(32, 8), 8u);
  EXPECT_EQ(effective_cell_size(30, 8), 6u);
  EXPECT_EQ(effective_cell_size(48, 7), 6u);
  EXPECT_EQ(effective_cell_size(7, 8), 7u);    // a request above the tile gives the whole tile
  EXPECT_EQ(effective_cell_size(48, 100), 48u);
  EXPECT_EQ(effective_cell_size(13, 4), 1u);   // a prime tile below the request: single pixels
  EXPECT_EQ(effective_cell_size(16, 4), 4u);
  EXPECT_EQ(effective_cell_size(1, 1), 1u);
  EXPECT_EQ(effective_cell_size(4096, 4096), 4096u);
}

// Against the definition, for every tile and request up to 64: the result divides the tile, is
// not above the request, and no larger divisor is.
TEST(CellSize, MatchesTheDefinitionExhaustively) {
  for (std::uint32_t tile = 1; tile <= 64; ++tile)
    for (std::uint32_t req = 1; req <= 64; ++req) {
      const std::uint32_t c = effective_cell_size(tile, req);
      ASSERT_EQ(tile % c, 0u) << tile << " " << req;
      ASSERT_LE(c, std::min(tile, req)) << tile << " " << req;
      for (std::uint32_t d = c + 1; d <= std::min(tile, req); ++d) ASSERT_NE(tile % d, 0u) << tile << " " << req;
    }
}

TEST(CellSize, ZeroSizesAreRefusedNamingTheField) {
  for (auto [tile, req, field] : {std::tuple{0u, 8u, "tile_size"}, {16u, 0u, "cell_size"}}) {
    try {
      effective_cell_size(tile, req);
      FAIL() << "no error for " << tile << " " << req;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::BadInput);
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace rfarm
