#include "renderer/exr_io.h"

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfInputFile.h>
#include <ImfIntAttribute.h>
#include <ImfOutputFile.h>
#include <ImfStringAttribute.h>
#include <ImfTestFile.h>
#include <ImfTiledInputFile.h>
#include <ImfTiledOutputFile.h>

#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"

namespace rfarm::render {
namespace {

// A frame buffer over `film`, shifted so that file pixel (min_x, min_y) lands at (0, 0). OpenEXR
// writes each decoded pixel (x, y) at base + x * xStride + y * yStride, so only the pixels of the
// blocks read must lie inside the film.
Imf::FrameBuffer frame_buffer(Film& film, int min_x, int min_y) {
  Imf::FrameBuffer fb;
  for (int c = 0; c < kChannelCount; ++c) {
    char* base = reinterpret_cast<char*>(film.channels[static_cast<std::size_t>(c)].data()) -
                 (static_cast<std::ptrdiff_t>(min_x) + static_cast<std::ptrdiff_t>(min_y) * film.width) *
                     static_cast<std::ptrdiff_t>(sizeof(float));
    fb.insert(std::string(kChannelNames[static_cast<std::size_t>(c)]),
              Imf::Slice(Imf::FLOAT, base, sizeof(float), sizeof(float) * static_cast<std::size_t>(film.width)));
  }
  return fb;
}

}  // namespace

void write_exr(const std::filesystem::path& path, const Film& film, const ExrAttributes& attrs) {
  Imf::Header header(film.width, film.height);
  header.compression() = Imf::ZIP_COMPRESSION;
  for (auto name : kChannelNames) header.channels().insert(std::string(name), Imf::Channel(Imf::FLOAT));
  for (const auto& [k, v] : attrs.strings) header.insert(k, Imf::StringAttribute(v));
  for (const auto& [k, v] : attrs.ints) header.insert(k, Imf::IntAttribute(v));
  const auto tile = attrs.ints.find("rfarm.tileSize");
  const bool tiled = tile != attrs.ints.end() && tile->second > 0;
  if (tiled) header.setTileDescription(Imf::TileDescription(static_cast<unsigned>(tile->second), static_cast<unsigned>(tile->second)));
  Imf::FrameBuffer fb = frame_buffer(const_cast<Film&>(film), 0, 0);  // OpenEXR only reads through it here
  write_file_atomically_with(path, [&](const std::filesystem::path& temp) {
    try {
      if (tiled) {
        Imf::TiledOutputFile out(temp.c_str(), header);
        out.setFrameBuffer(fb);
        out.writeTiles(0, out.numXTiles() - 1, 0, out.numYTiles() - 1);
      } else {
        Imf::OutputFile out(temp.c_str(), header);
        out.setFrameBuffer(fb);
        out.writePixels(film.height);
      }
    } catch (const std::exception& e) {
      throw Error(Error::Kind::Io, path.string() + ": cannot write EXR: " + e.what() +
                                       " (check the output directory is writable and has space)");
    }
  });
}

// One of the two is open, by the file's kind.
struct ExrReader::Files {
  std::unique_ptr<Imf::TiledInputFile> tiled;
  std::unique_ptr<Imf::InputFile> scanline;
};

ExrReader::ExrReader(const std::filesystem::path& path) : path_(path), files_(std::make_unique<Files>()) {
  try {
    bool is_tiled = false;
    if (!Imf::isOpenExrFile(path.c_str(), is_tiled))
      throw Error(Error::Kind::Integrity, path.string() + ": not an OpenEXR file (re-render the frame)");
    tiled_ = is_tiled;
    if (tiled_) files_->tiled = std::make_unique<Imf::TiledInputFile>(path.c_str());
    else files_->scanline = std::make_unique<Imf::InputFile>(path.c_str());
    const Imf::Header& h = tiled_ ? files_->tiled->header() : files_->scanline->header();
    const Imath::Box2i dw = h.dataWindow();
    min_x_ = dw.min.x;
    min_y_ = dw.min.y;
    width_ = dw.max.x - dw.min.x + 1;
    height_ = dw.max.y - dw.min.y + 1;
    if (width_ <= 0 || height_ <= 0)
      throw Error(Error::Kind::Integrity, path.string() + ": empty data window (not an rfarm frame; re-render it)");
    for (auto name : kChannelNames)
      if (!h.channels().findChannel(std::string(name)))
        throw Error(Error::Kind::Integrity,
                    path.string() + ": channel " + std::string(name) + " is missing (not an rfarm frame; re-render it)");
    for (auto it = h.begin(); it != h.end(); ++it) {
      std::string name = it.name();
      if (name.rfind("rfarm.", 0) != 0) continue;
      if (auto* s = dynamic_cast<const Imf::StringAttribute*>(&it.attribute())) attrs_.strings[name] = s->value();
      else if (auto* i = dynamic_cast<const Imf::IntAttribute*>(&it.attribute())) attrs_.ints[name] = i->value();
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(Error::Kind::Integrity, path.string() + ": cannot read EXR: " + e.what() + " (re-render the frame)");
  }
}

ExrReader::~ExrReader() = default;

void ExrReader::check_inside(const TileRect& r) const {
  if (r.w <= 0 || r.h <= 0 || r.x0 < 0 || r.y0 < 0 || r.x0 + r.w > width_ || r.y0 + r.h > height_)
    throw Error(Error::Kind::Internal, path_.string() + ": ExrReader read of a rectangle outside the image");
}

void ExrReader::read(const TileRect& r, Film& film) {
  check_inside(r);
  if (film.width != width_ || film.height != height_)
    throw Error(Error::Kind::Internal, path_.string() + ": ExrReader::read into a film of another size");
  try {
    if (tiled_) {
      Imf::TiledInputFile& in = *files_->tiled;
      in.setFrameBuffer(frame_buffer(film, min_x_, min_y_));
      const int tw = static_cast<int>(in.tileXSize()), th = static_cast<int>(in.tileYSize());
      in.readTiles(r.x0 / tw, (r.x0 + r.w - 1) / tw, r.y0 / th, (r.y0 + r.h - 1) / th);
    } else {
      Imf::InputFile& in = *files_->scanline;
      in.setFrameBuffer(frame_buffer(film, min_x_, min_y_));
      in.readPixels(min_y_ + r.y0, min_y_ + r.y0 + r.h - 1);
    }
  } catch (const std::exception& e) {
    throw Error(Error::Kind::Integrity, path_.string() + ": cannot read EXR pixels: " + e.what() + " (re-render the frame)");
  }
}

namespace {
// Makes `film` w x h without giving back storage (a vector's capacity survives a smaller size).
// Values are left unspecified: every caller overwrites every pixel.
void reshape(Film& film, int w, int h) {
  film.width = w;
  film.height = h;
  for (auto& c : film.channels) c.resize(static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
}
}  // namespace

void ExrReader::read_rect(const TileRect& r, Film& out) {
  check_inside(r);
  // The blocks OpenEXR decodes for r, clipped to the image: whole tiles, or whole rows.
  TileRect cover{0, r.y0, width_, r.h};
  if (tiled_) {
    const int tw = static_cast<int>(files_->tiled->tileXSize()), th = static_cast<int>(files_->tiled->tileYSize());
    cover.x0 = r.x0 / tw * tw;
    cover.y0 = r.y0 / th * th;
    cover.w = std::min(width_, (r.x0 + r.w + tw - 1) / tw * tw) - cover.x0;
    cover.h = std::min(height_, (r.y0 + r.h + th - 1) / th * th) - cover.y0;
  }
  const bool exact = cover.x0 == r.x0 && cover.y0 == r.y0 && cover.w == r.w && cover.h == r.h;
  Film& target = exact ? out : scratch_;
  reshape(target, cover.w, cover.h);
  try {
    // Shifting the buffer's origin by the cover's corner puts file pixel (cover.x0, cover.y0) at
    // target (0, 0); every decoded pixel then lies inside target.
    Imf::FrameBuffer fb = frame_buffer(target, min_x_ + cover.x0, min_y_ + cover.y0);
    if (tiled_) {
      Imf::TiledInputFile& in = *files_->tiled;
      in.setFrameBuffer(fb);
      const int tw = static_cast<int>(in.tileXSize()), th = static_cast<int>(in.tileYSize());
      in.readTiles(r.x0 / tw, (r.x0 + r.w - 1) / tw, r.y0 / th, (r.y0 + r.h - 1) / th);
    } else {
      Imf::InputFile& in = *files_->scanline;
      in.setFrameBuffer(fb);
      in.readPixels(min_y_ + r.y0, min_y_ + r.y0 + r.h - 1);  // writes these rows only
    }
  } catch (const std::exception& e) {
    throw Error(Error::Kind::Integrity, path_.string() + ": cannot read EXR pixels: " + e.what() + " (re-render the frame)");
  }
  if (exact) return;
  reshape(out, r.w, r.h);
  for (int c = 0; c < kChannelCount; ++c)
    for (int y = 0; y < r.h; ++y) {
      const float* src = &scratch_.at(c, r.x0 - cover.x0, r.y0 - cover.y0 + y);
      std::copy(src, src + r.w, &out.at(c, 0, y));
    }
}

ExrImage read_exr(const std::filesystem::path& path) {
  ExrReader reader(path);
  ExrImage img;
  img.film = Film(reader.width(), reader.height());
  reader.read({0, 0, reader.width(), reader.height()}, img.film);
  img.attrs = reader.attrs();
  return img;
}

}  // namespace rfarm::render
