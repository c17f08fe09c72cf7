#include "renderer/tile_hash.h"

#include <cstring>
#include <string>

#include "core/error.h"
#include "core/merkle.h"

namespace rfarm::render {
namespace {
// Little-endian store (the canonical layout is little-endian on every host).
std::uint8_t* put_u32(std::uint8_t* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) *out++ = static_cast<std::uint8_t>(v >> (8 * i));
  return out;
}
constexpr char kMagic[] = "rfarm-tile-v1";
constexpr std::size_t kMagicSize = sizeof(kMagic) - 1;  // 13, no terminator
}  // namespace

std::vector<std::uint8_t> canonical_tile_bytes(const Film& film, const TileGrid& grid, int tile) {
  return canonical_tile_bytes(film, 0, 0, grid, tile);
}

std::vector<std::uint8_t> canonical_tile_bytes(const Film& film, int part_x0, int part_y0, const TileGrid& grid, int tile) {
  const TileRect r = grid.rect(tile);
  if (r.x0 < part_x0 || r.y0 < part_y0 || r.x0 + r.w > part_x0 + film.width || r.y0 + r.h > part_y0 + film.height)
    throw Error(Error::Kind::Internal, "canonical_tile_bytes: tile " + std::to_string(tile) + " is not inside the film given");
  const std::size_t pixels = static_cast<std::size_t>(r.w) * static_cast<std::size_t>(r.h);
  std::vector<std::uint8_t> out(kMagicSize + 6 * 4 + pixels * kChannelCount * 4);
  std::uint8_t* p = out.data();
  for (std::size_t i = 0; i < kMagicSize; ++i) *p++ = static_cast<std::uint8_t>(kMagic[i]);
  for (int v : {tile, r.x0, r.y0, r.w, r.h, kChannelCount}) p = put_u32(p, static_cast<std::uint32_t>(v));
  for (int c = 0; c < kChannelCount; ++c)
    for (int y = r.y0; y < r.y0 + r.h; ++y)
      for (int x = r.x0; x < r.x0 + r.w; ++x) {
        std::uint32_t bits;
        float v = film.at(c, x - part_x0, y - part_y0);
        std::memcpy(&bits, &v, 4);
        p = put_u32(p, bits);
      }
  return out;
}

std::string tile_hash_list(const std::vector<Hash256>& leaf_hashes) {
  std::string out;
  out.reserve(leaf_hashes.size() * 64);
  for (const Hash256& h : leaf_hashes) out += h.hex();
  return out;
}

std::optional<std::vector<Hash256>> parse_tile_hash_list(std::string_view text, int count) {
  if (count < 0 || text.size() != static_cast<std::size_t>(count) * 64) return std::nullopt;
  std::vector<Hash256> out;
  out.reserve(static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < text.size(); i += 64) {
    auto h = Hash256::from_hex(text.substr(i, 64));
    if (!h || h->hex() != text.substr(i, 64)) return std::nullopt;  // canonical lower-case only
    out.push_back(*h);
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
