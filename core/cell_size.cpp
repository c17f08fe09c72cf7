#include "core/cell_size.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace rfarm {

std::uint32_t effective_cell_size(std::uint32_t tile_size, std::uint32_t requested) {
  if (tile_size == 0) throw_input_error({}, "tile_size", "0 is not positive", "e.g. 32 (pixels)");
  if (requested == 0) throw_input_error({}, "cell_size", "0 is not positive", "e.g. 8 (pixels)");
  // Downward search: at most min(tile, request) <= 4096 steps, once per job or verification run.
  for (std::uint32_t c = std::min(tile_size, requested); c > 1; --c)
    if (tile_size % c == 0) return c;
  return 1;
}

}  // namespace rfarm
