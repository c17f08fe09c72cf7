#pragma once
// OpenEXR output: one file per frame with the 11 float channels of film.h, ZIP-compressed
// (lossless, so tile hashes recomputed from the file match), written atomically
// (core/atomic_file.h), plus rfarm.* provenance attributes. read_exr() loads it back for resume
// validation and verification.
#include <filesystem>
#include <map>
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

}  // namespace rfarm::render
