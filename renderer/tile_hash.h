#pragma once
// Per-tile hashes and the frame's tile Merkle root (rfarm.tileRoot).
//
// Canonical tile bytes (version 1), all integers little-endian uint32:
//   "rfarm-tile-v1" (13 ASCII bytes), tile index, x0, y0, width, height, channel count (11),
//   then for each channel in film.h's canonical order, for each row top to bottom, for each pixel
//   left to right: the IEEE-754 binary32 bit pattern of the value, little-endian.
// tile hash  = RFC 6962 leaf hash = SHA-256(0x00 || tile bytes)
// tileRoot   = RFC 6962 Merkle tree hash over the tile hashes in tile-index order.
// A verifier re-renders any tile (--tiles) and compares its leaf hash, or recomputes the root
// from the EXR's pixels (EXR FLOAT channels with lossless compression round-trip exactly).
//
// rfarm.tileHashes (EXR attribute): every tile hash in tile-index order, 64 lower-case hex digits
// each, no separator. With it a verifier proves a sampled tile against rfarm.tileRoot by hashing
// that tile's pixels alone: the other leaves are the listed hashes (verifier/frame_check.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"
#include "renderer/film.h"

namespace rfarm::render {

std::vector<std::uint8_t> canonical_tile_bytes(const Film& film, const TileGrid& grid, int tile);
// The same bytes from a film holding only part of the frame: `part`'s pixel (0, 0) is frame pixel
// (part_x0, part_y0), and the tile must lie inside it (a tile- or cell-sized buffer, a band of
// rows). The header still carries the tile's frame coordinates, so the hash is the same.
// Throws Error(Internal) when the tile is not inside `part`.
std::vector<std::uint8_t> canonical_tile_bytes(const Film& part, int part_x0, int part_y0, const TileGrid& grid, int tile);
std::vector<Hash256> tile_hashes(const Film& film, const TileGrid& grid);
Hash256 tile_root(const std::vector<Hash256>& leaf_hashes);

// rfarm.tileHashes text for `leaf_hashes`, and back; parse returns nullopt unless the text is
// exactly `count` hashes of 64 hex digits.
std::string tile_hash_list(const std::vector<Hash256>& leaf_hashes);
std::optional<std::vector<Hash256>> parse_tile_hash_list(std::string_view text, int count);

}  // namespace rfarm::render
