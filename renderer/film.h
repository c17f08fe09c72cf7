#pragma once
// The frame buffer: 11 float channels per pixel, stored planar, and the tile grid.
//
// Channel order is canonical (used for tile hashes, see tile_hash.h):
//   R G B A Z albedo.R albedo.G albedo.B N.X N.Y N.Z
// Tiles are tile_size x tile_size squares (clipped at the right/bottom edge), numbered row-major:
// tile index = ty * tiles_x + tx.
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

namespace rfarm::render {

inline constexpr int kChannelCount = 11;
inline constexpr std::array<std::string_view, kChannelCount> kChannelNames = {
    "R", "G", "B", "A", "Z", "albedo.R", "albedo.G", "albedo.B", "N.X", "N.Y", "N.Z"};

struct TileRect {
  int x0 = 0, y0 = 0, w = 0, h = 0;
};

struct TileGrid {
  int width = 0, height = 0, tile_size = 32;
  int tiles_x() const { return (width + tile_size - 1) / tile_size; }
  int tiles_y() const { return (height + tile_size - 1) / tile_size; }
  int count() const { return tiles_x() * tiles_y(); }
  TileRect rect(int index) const {
    int tx = index % tiles_x(), ty = index / tiles_x();
    TileRect r{tx * tile_size, ty * tile_size, tile_size, tile_size};
    if (r.x0 + r.w > width) r.w = width - r.x0;
    if (r.y0 + r.h > height) r.h = height - r.y0;
    return r;
  }
};

struct Film {
  int width = 0, height = 0;
  std::array<std::vector<float>, kChannelCount> channels;  // each width * height, row-major

  Film() = default;
  Film(int w, int h) : width(w), height(h) {
    for (auto& c : channels) c.assign(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 0.0f);
  }
  float& at(int channel, int x, int y) {
    return channels[static_cast<std::size_t>(channel)][static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
  }
  float at(int channel, int x, int y) const {
    return channels[static_cast<std::size_t>(channel)][static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
  }
};

}  // namespace rfarm::render
