#pragma once
// The scene bundle sent with POST /v1/submit: content-addressed (its SHA-256 is stated in the
// request and checked before anything is unpacked), size-limited (kMaxBundleBytes,
// kMaxBundleFiles: federation/limits.h), and unpacked safely: a JSON document, so it holds regular
// files only (no links, devices or modes to honour), and every path is relative, without `..`,
// `.`, empty parts or backslashes; each file is created new (O_EXCL | O_NOFOLLOW) under a fresh
// directory. Format (UTF-8 JSON):
//   {"format": "rfarm-scene-bundle-v1", "scene": "<path of the scene among files>",
//    "files": [{"path": "scene.gltf", "data": "<base64>"}, ...]}
// JSON + base64 rather than tar: Debian's libarchive would bring symlinks, hard links and modes
// that the receiver must then refuse one by one; this format cannot express them at all.
#include <filesystem>
#include <string>
#include <string_view>

namespace rfarm::federation {

// Packs a .glb/.gltf scene: the file itself and, for .gltf, the relative URIs of its buffers and
// images (which must lie under the scene's directory). Error(BadInput) naming the file otherwise,
// or when the bundle would exceed the limits.
std::string make_scene_bundle(const std::filesystem::path& scene);

// SHA-256 of the bundle text, hex: its address.
std::string bundle_sha256(std::string_view bundle);

// Checks `bundle` (size, the stated SHA-256, format, every path) and writes its files under `dir`
// (created; must not exist). Returns the scene's path under `dir`. Error(BadInput) with the reason
// on any refusal; a refused bundle leaves `dir` removed.
std::filesystem::path unpack_scene_bundle(std::string_view bundle, std::string_view sha256_hex,
                                          const std::filesystem::path& dir);

}  // namespace rfarm::federation
