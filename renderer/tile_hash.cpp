#include "renderer/tile_hash.h"

#include <cstring>

#include "core/merkle.h"

namespace rfarm::render {
namespace {
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
}  // namespace

std::vector<std::uint8_t> canonical_tile_bytes(const Film& film, const TileGrid& grid, int tile) {
  TileRect r = grid.rect(tile);
  std::vector<std::uint8_t> out;
  out.reserve(13 + 24 + static_cast<std::size_t>(r.w * r.h * kChannelCount * 4));
  const char* magic = "rfarm-tile-v1";
  out.insert(out.end(), magic, magic + 13);
  for (int v : {tile, r.x0, r.y0, r.w, r.h, kChannelCount}) put_u32(out, static_cast<std::uint32_t>(v));
  for (int c = 0; c < kChannelCount; ++c)
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) {
        std::uint32_t bits;
        float v = film.at(c, x, y);
        std::memcpy(&bits, &v, 4);
        put_u32(out, bits);
      }
  return out;
}

std::vector<Hash256> tile_hashes(const Film& film, const TileGrid& grid) {
  std::vector<Hash256> out;
  out.reserve(static_cast<std::size_t>(grid.count()));
  for (int t = 0; t < grid.count(); ++t) out.push_back(merkle::leaf_hash(canonical_tile_bytes(film, grid, t)));
  return out;
}

Hash256 tile_root(const std::vector<Hash256>& leaf_hashes) { return merkle::root(leaf_hashes); }

}  // namespace rfarm::render
