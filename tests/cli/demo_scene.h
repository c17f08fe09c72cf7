#pragma once
// The animated demo scene the render, submit and verify CLI tests drive rfarm with.
#include <string>

#include "support/process.h"

namespace rfarm::testing {

inline const std::string& demo_scene() {
  static const std::string path = (source_dir() / "examples/scenes/animated_demo.gltf").string();
  return path;
}

}  // namespace rfarm::testing
