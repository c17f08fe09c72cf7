#pragma once
// Verification cells: the unit the verifier samples and re-renders. A cell is a C x C pixel square
// of the frame's tile grid; C is the largest divisor of the tile size not above the requested cell
// size, so every cell lies inside exactly one tile and the cells of a frame form one uniform grid
// (renderer TileGrid with tile_size = C, clipped at the right/bottom edges, numbered row-major).
// A faked tile (fewer samples, noise, blur, a copy) differs in essentially every pixel, so one
// random cell of it finds the fake while costing (C / tile size)^2 of re-rendering the tile.
#include <cstdint>

#include "renderer/film.h"

namespace rfarm::verifier {

inline constexpr int kDefaultCellSize = 8;

struct CellGrid {
  render::TileGrid tiles;  // the frame's tile grid
  render::TileGrid cells;  // the cell grid (tile_size = effective cell size)

  int cell_size() const { return cells.tile_size; }
  int count() const { return cells.count(); }
  render::TileRect rect(int cell) const { return cells.rect(cell); }
  // The tile holding `cell`.
  int tile_of(int cell) const;
};

// The largest divisor of tile_size that is <= requested (>= 1): core/cell_size.h, shared with the
// scheduler's quote. BadInput naming --tile-size / --cell-size on non-positive sizes.
int effective_cell_size(int tile_size, int requested);

CellGrid make_cell_grid(int width, int height, int tile_size, int requested_cell_size);

}  // namespace rfarm::verifier
