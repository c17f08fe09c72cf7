#pragma once
// A cheating provider's scene, for the tests that must catch one: a copy of the demo scene (with
// its buffer and texture) under <dir>/cheat/ whose key light is at a sixth of its intensity.
// Returns the copy's .gltf. (The Slurm tests in tests/integration/slurm_site.h and the
// cross-cluster verification test use it.)
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "support/process.h"

namespace rfarm::testing {

inline std::filesystem::path doctored_scene_in(const std::filesystem::path& dir) {
  const std::filesystem::path cheat_dir = dir / "cheat";
  std::filesystem::create_directories(cheat_dir);
  for (const char* f : {"animated_demo.gltf", "animated_demo.bin", "checker.png"})
    std::filesystem::copy_file(source_dir() / "examples/scenes" / f, cheat_dir / f,
                               std::filesystem::copy_options::overwrite_existing);
  std::string gltf = read_file(cheat_dir / "animated_demo.gltf");
  const auto at = gltf.find("\"intensity\": 12.0");
  EXPECT_NE(at, std::string::npos) << "the demo scene's key light changed: update doctored_scene_in";
  if (at != std::string::npos) gltf.replace(at, 17, "\"intensity\": 2.0");
  write_file(cheat_dir / "animated_demo.gltf", gltf);
  return cheat_dir / "animated_demo.gltf";
}

}  // namespace rfarm::testing
