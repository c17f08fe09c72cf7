#pragma once
// The verification cell edge, shared by the verifier (which samples cells) and the scheduler's quote
// (which prices them), so both always agree on what a cell is: the largest divisor C of the tile
// size not above the requested size. A divisor keeps every C x C cell inside exactly one tile, so a
// sampled cell needs only its own tile decoded and re-rendered; "largest" keeps the cell as close to
// the request as the tile grid allows (C = 1 when no divisor of the tile size lies in 2..request).
#include <cstdint>

namespace rfarm {

// The largest divisor of tile_size that is <= requested (at least 1, at most tile_size).
// Throws Error(BadInput) naming `tile_size` or `cell_size` when either is 0.
std::uint32_t effective_cell_size(std::uint32_t tile_size, std::uint32_t requested);

}  // namespace rfarm
