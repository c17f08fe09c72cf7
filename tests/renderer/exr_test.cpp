// EXR output: pixels and rfarm.* attributes round-trip; tileRoot recomputes; signatures verify.
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "core/signing.h"
#include "renderer/math/vecmath.h"
#include "renderer/exr_io.h"
#include "renderer/provenance.h"
#include "renderer/settings.h"
#include "renderer/tile_hash.h"
#include "support/process.h"

namespace rfarm::render {
namespace {

Film test_film() {
  Film f(37, 21);
  for (int c = 0; c < kChannelCount; ++c)
    for (int y = 0; y < f.height; ++y)
      for (int x = 0; x < f.width; ++x) f.at(c, x, y) = static_cast<float>(c * 1000 + y * 37 + x) * 0.123f;
  f.at(4, 0, 0) = kInfinity;
  return f;
}

TEST(Exr, PixelsAndAttributesRoundTrip) {
  rfarm::testing::TempDir dir;
  Film film = test_film();
  ExrAttributes a;
  a.strings["rfarm.sceneHash"] = "abc";
  a.strings["rfarm.tileRoot"] = tile_root(tile_hashes(film, {37, 21, 8})).hex();
  a.ints["rfarm.frame"] = 7;
  a.ints["rfarm.spp"] = 16;
  auto path = dir / "sub" / "f.exr";
  write_exr(path, film, a);
  ExrImage back = read_exr(path);
  EXPECT_EQ(back.attrs.strings, a.strings);
  EXPECT_EQ(back.attrs.ints, a.ints);
  ASSERT_EQ(back.film.width, 37);
  for (int c = 0; c < kChannelCount; ++c) EXPECT_EQ(back.film.channels[static_cast<std::size_t>(c)], film.channels[static_cast<std::size_t>(c)]);
  EXPECT_EQ(tile_root(tile_hashes(back.film, {37, 21, 8})).hex(), a.strings["rfarm.tileRoot"]);
}

TEST(Exr, CorruptFileIsAnIntegrityError) {
  rfarm::testing::TempDir dir;
  auto path = rfarm::testing::write_file(dir / "bad.exr", "not an exr");
  try {
    read_exr(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Integrity);
  }
}

// read_rect gives exactly the rectangle's pixels in a buffer of its own size, for tiled and
// scanline files, whole tiles (decoded in place) and rectangles that cut across tiles or rows
// (through the scratch buffer), with the buffer reused from one call to the next.
TEST(Exr, ReadRectGivesTheRectangleAlone) {
  rfarm::testing::TempDir dir;
  const Film film = test_film();  // 37 x 21
  ExrAttributes tiled_attrs;
  tiled_attrs.ints["rfarm.tileSize"] = 8;
  write_exr(dir / "tiled.exr", film, tiled_attrs);
  write_exr(dir / "scan.exr", film, {});
  for (const char* name : {"tiled.exr", "scan.exr"}) {
    ExrReader reader(dir / name);
    EXPECT_EQ(reader.tiled(), std::string(name) == "tiled.exr");
    Film part;
    for (TileRect r : {TileRect{8, 8, 8, 8}, TileRect{32, 16, 5, 5}, TileRect{0, 0, 37, 21}, TileRect{3, 5, 11, 9},
                       TileRect{36, 20, 1, 1}, TileRect{0, 16, 37, 5}, TileRect{9, 0, 4, 21}}) {
      reader.read_rect(r, part);
      ASSERT_EQ(part.width, r.w) << name;
      ASSERT_EQ(part.height, r.h) << name;
      for (int c = 0; c < kChannelCount; ++c)
        for (int y = 0; y < r.h; ++y)
          for (int x = 0; x < r.w; ++x)
            ASSERT_EQ(part.at(c, x, y), film.at(c, r.x0 + x, r.y0 + y))
                << name << " rect " << r.x0 << "," << r.y0 << " " << r.w << "x" << r.h << " pixel " << x << "," << y;
    }
    EXPECT_THROW(reader.read_rect({30, 0, 8, 8}, part), Error);  // past the right edge
    EXPECT_THROW(reader.read_rect({0, 0, 0, 4}, part), Error);
  }
}

// A tile hashed from a buffer holding only that tile (or a band around it) hashes as from the frame.
TEST(TileHash, PartOfTheFrameHashesLikeTheFrame) {
  const Film film = test_film();
  const TileGrid grid{37, 21, 16};
  for (int tile = 0; tile < grid.count(); ++tile) {
    const TileRect r = grid.rect(tile);
    Film part(r.w + 2, r.h + 1);  // the tile at (1, 1) inside a slightly larger part
    for (int c = 0; c < kChannelCount; ++c)
      for (int y = 0; y < r.h; ++y)
        for (int x = 0; x < r.w; ++x) part.at(c, x + 1, y + 1) = film.at(c, r.x0 + x, r.y0 + y);
    EXPECT_EQ(canonical_tile_bytes(part, r.x0 - 1, r.y0 - 1, grid, tile), canonical_tile_bytes(film, grid, tile)) << tile;
    EXPECT_THROW(canonical_tile_bytes(part, r.x0 + 1, r.y0, grid, tile), Error) << tile;  // the tile starts left of it
    EXPECT_THROW(canonical_tile_bytes(part, r.x0 - 1, r.y0 + 1, grid, tile), Error) << tile;  // ... above it
  }
}

TEST(TileHash, CanonicalLayoutAndMerkleRoot) {
  Film film = test_film();
  TileGrid grid{37, 21, 16};
  ASSERT_EQ(grid.count(), 6);
  auto bytes = canonical_tile_bytes(film, grid, 5);  // bottom-right tile: 5 x 5 pixels
  ASSERT_EQ(bytes.size(), 13u + 6 * 4 + 5 * 5 * kChannelCount * 4);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 13), "rfarm-tile-v1");
  EXPECT_EQ(bytes[13], 5);  // tile index, little-endian
  EXPECT_EQ(bytes[17], 32);  // x0 = 32
  // Changing one pixel changes exactly that tile's hash and the root.
  auto h1 = tile_hashes(film, grid);
  film.at(0, 36, 20) += 1;
  auto h2 = tile_hashes(film, grid);
  for (int t = 0; t < 5; ++t) EXPECT_EQ(h1[static_cast<std::size_t>(t)], h2[static_cast<std::size_t>(t)]);
  EXPECT_NE(h1[5], h2[5]);
  EXPECT_NE(tile_root(h1), tile_root(h2));
}

TEST(Provenance, SignatureCoversTheAttributes) {
  ExrAttributes a;
  a.strings["rfarm.tileRoot"] = "00ff";
  a.ints["rfarm.frame"] = 3;
  SigningKey key = SigningKey::generate();
  a.strings["rfarm.publicKey"] = key.public_key().hex();
  a.strings["rfarm.signature"] = key.sign(signing_message(a)).hex();
  EXPECT_EQ(signing_message(a), "rfarm-frame-v1\nrfarm.frame=3\nrfarm.publicKey=" + key.public_key().hex() + "\nrfarm.tileRoot=00ff\n");
  auto sig = Signature::from_hex(a.strings["rfarm.signature"]);
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify(key.public_key(), signing_message(a), *sig));
  a.ints["rfarm.frame"] = 4;
  EXPECT_FALSE(verify(key.public_key(), signing_message(a), *sig));
}

TEST(Settings, OutputPattern) {
  EXPECT_EQ(output_path_for("renders/frame_####.exr", 7, true), "renders/frame_0007.exr");
  EXPECT_EQ(output_path_for("f_##.exr", 123, true), "f_123.exr");
  EXPECT_EQ(output_path_for("one.exr", 5, false), "one.exr");
  EXPECT_EQ(output_path_for("dir.v2/out.exr", 5, true), "dir.v2/out_0005.exr");
}

TEST(Settings, ValidationNamesTheFlag) {
  RenderSettings s;
  s.scene = "x.gltf";
  s.spp = 0;
  try {
    validate(s);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--spp"), std::string::npos);
  }
}

}  // namespace
}  // namespace rfarm::render
