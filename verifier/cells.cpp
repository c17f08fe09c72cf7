#include "verifier/cells.h"

#include <string>

#include "core/cell_size.h"
#include "core/error.h"

namespace rfarm::verifier {

int CellGrid::tile_of(int cell) const {
  const render::TileRect r = cells.rect(cell);
  return (r.y0 / tiles.tile_size) * tiles.tiles_x() + r.x0 / tiles.tile_size;
}

int effective_cell_size(int tile_size, int requested) {
  if (tile_size < 1) throw_input_error({}, "--tile-size", std::to_string(tile_size) + " is not positive", "e.g. 32");
  if (requested < 1)
    throw_input_error({}, "--cell-size", std::to_string(requested) + " is not positive", "e.g. 8 (pixels)");
  return static_cast<int>(
      rfarm::effective_cell_size(static_cast<std::uint32_t>(tile_size), static_cast<std::uint32_t>(requested)));
}

CellGrid make_cell_grid(int width, int height, int tile_size, int requested_cell_size) {
  if (width < 1 || height < 1)
    throw_input_error({}, "--resolution", std::to_string(width) + "x" + std::to_string(height) + " is empty",
                      "e.g. 640x360");
  const int c = effective_cell_size(tile_size, requested_cell_size);
  return CellGrid{render::TileGrid{width, height, tile_size}, render::TileGrid{width, height, c}};
}

}  // namespace rfarm::verifier
