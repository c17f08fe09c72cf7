#include "renderer/detail/png_image.h"

#include <png.h>

#include <cstring>

namespace rfarm::render::detail {

bool is_png(const unsigned char* data, std::size_t size) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return size >= 8 && std::memcmp(data, sig, 8) == 0;
}

bool decode_png(const unsigned char* data, std::size_t size, int& width, int& height,
                std::vector<std::uint8_t>& rgba, std::string& error) {
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, data, size)) {
    error = image.message;
    return false;
  }
  image.format = PNG_FORMAT_RGBA;
  rgba.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, rgba.data(), 0, nullptr)) {
    error = image.message;
    png_image_free(&image);
    return false;
  }
  width = static_cast<int>(image.width);
  height = static_cast<int>(image.height);
  return true;
}

}  // namespace rfarm::render::detail
