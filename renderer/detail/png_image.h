#pragma once
// PNG decoding for glTF textures (libpng's simplified API). JPEG is not built in: the loader
// warns and falls back to the material's factors.
#include <cstdint>
#include <string>
#include <vector>

namespace rfarm::render::detail {

bool is_png(const unsigned char* data, std::size_t size);

// Decodes to 8-bit RGBA. Returns false and sets `error` on a corrupt file.
bool decode_png(const unsigned char* data, std::size_t size, int& width, int& height,
                std::vector<std::uint8_t>& rgba, std::string& error);

}  // namespace rfarm::render::detail
