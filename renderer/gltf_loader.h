#pragma once
// Loads a glTF 2.0 scene (.gltf + .bin/images, or .glb) with tinygltf into a render::Scene:
// triangle meshes (indexed or not, strips and fans converted), the node hierarchy, perspective
// cameras, metallic-roughness materials with PNG textures, KHR_materials_emissive_strength,
// KHR_lights_punctual, and TRS animations. Unsupported features are named in Scene::warnings;
// malformed input (missing buffers, indices out of range, NaNs) throws rfarm::Error(BadInput)
// naming the file, the glTF field and a fix.
#include <filesystem>

#include "renderer/scene.h"

namespace rfarm::render {

Scene load_gltf(const std::filesystem::path& path);

}  // namespace rfarm::render
