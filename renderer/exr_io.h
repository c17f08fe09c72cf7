#pragma once
// OpenEXR output: one file per frame with the 11 float channels of film.h, ZIP-compressed
// (lossless, so tile hashes recomputed from the file match), written atomically
// (core/atomic_file.h), plus rfarm.* provenance attributes. When the attributes carry
// rfarm.tileSize the file is a *tiled* EXR with that tile edge, so each rfarm tile is one EXR
// tile (one zlib stream): a verifier decodes the few tiles it samples and not the whole frame.
// read_exr() loads a whole file back (resume validation); ExrReader reads the header and then
// only the rectangles asked for.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "renderer/film.h"

namespace rfarm::render {

struct ExrAttributes {
  std::map<std::string, std::string> strings;  // e.g. rfarm.sceneHash
  std::map<std::string, int> ints;             // e.g. rfarm.frame
};

void write_exr(const std::filesystem::path& path, const Film& film, const ExrAttributes& attrs);

struct ExrImage {
  Film film;
  ExrAttributes attrs;  // rfarm.* string and int attributes only
};

// Throws rfarm::Error(Integrity) when the file is not a readable EXR with the 11 channels.
ExrImage read_exr(const std::filesystem::path& path);

// Opens a file, reads its header (size, rfarm.* attributes) and decodes pixels on demand. A
// tiled file decodes only the EXR tiles that overlap the rectangle; a scanline file only its rows
// (whole line blocks: 16 rows for ZIP). Every error is rfarm::Error(Integrity) naming the file.
class ExrReader {
 public:
  explicit ExrReader(const std::filesystem::path& path);
  ~ExrReader();
  ExrReader(const ExrReader&) = delete;
  ExrReader& operator=(const ExrReader&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  bool tiled() const { return tiled_; }
  const ExrAttributes& attrs() const { return attrs_; }

  // Decodes the pixels of `r` (frame coordinates, inside width() x height()) into `film`, which
  // must be width() x height(); pixels outside the decoded blocks are left as they are.
  void read(const TileRect& r, Film& film);

  // Decodes the pixels of `r` alone into `out`, which becomes r.w x r.h with out's (0, 0) at frame
  // pixel (r.x0, r.y0): a tile-sized buffer instead of a frame-sized one. out's storage is reused
  // when it is large enough, so reading tile after tile allocates once. A rectangle of whole file
  // tiles (an rfarm tile of a tiled frame) is decoded straight into `out`; any other is decoded
  // through a scratch buffer of the blocks covering it (kept for the next call).
  void read_rect(const TileRect& r, Film& out);

 private:
  struct Files;
  void check_inside(const TileRect& r) const;
  Film scratch_;
  std::filesystem::path path_;
  std::unique_ptr<Files> files_;
  int width_ = 0, height_ = 0, min_x_ = 0, min_y_ = 0;
  bool tiled_ = false;
  ExrAttributes attrs_;
};

}  // namespace rfarm::render
