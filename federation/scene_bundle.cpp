#include "federation/scene_bundle.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hash.h"
#include "federation/detail/base64.h"
#include "federation/limits.h"

namespace rfarm::federation {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kFormat = "rfarm-scene-bundle-v1";

[[noreturn]] void refuse(const std::string& why) { throw Error(Error::Kind::BadInput, "scene bundle: " + why); }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw_input_error({p.string(), 0, 0}, "scene", "cannot be read", "check the path");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A bundle path: relative, '/'-separated, no empty, '.' or '..' part, no backslash or control byte.
bool safe_path(const std::string& p) {
  if (p.empty() || p.size() > 255 || p.front() == '/') return false;
  for (char c : p)
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\') return false;
  std::size_t start = 0;
  while (start <= p.size()) {
    const std::size_t slash = std::min(p.find('/', start), p.size());
    const std::string part = p.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

std::string bundle_sha256(std::string_view bundle) { return sha256(bundle).hex(); }

std::string make_scene_bundle(const fs::path& scene) {
  std::vector<std::string> names = {scene.filename().string()};
  if (scene.extension() == ".gltf") {
    const json g = json::parse(read_file(scene), nullptr, false);
    if (g.is_discarded()) throw_input_error({scene.string(), 0, 0}, "scene", "is not JSON glTF", "check the file");
    for (const char* key : {"buffers", "images"})
      if (g.contains(key) && g[key].is_array())
        for (const auto& item : g[key])
          if (item.contains("uri") && item["uri"].is_string()) {
            const std::string uri = item["uri"].get<std::string>();
            if (uri.rfind("data:", 0) == 0) continue;
            if (!safe_path(uri))
              throw_input_error({scene.string(), 0, 0}, std::string(key) + "[].uri",
                                "'" + uri + "' is not a relative path under the scene's directory",
                                "keep the scene's files next to it (no '..', no absolute paths)");
            names.push_back(uri);
          }
  }
  json files = json::array();
  std::set<std::string> seen;
  for (const auto& n : names)
    if (seen.insert(n).second) files.push_back({{"path", n}, {"data", detail::base64_encode(read_file(scene.parent_path() / n))}});
  const std::string text = json{{"format", kFormat}, {"scene", names.front()}, {"files", files}}.dump();
  if (text.size() > kMaxBundleBytes || files.size() > kMaxBundleFiles)
    throw_input_error({scene.string(), 0, 0}, "scene", "its bundle is " + std::to_string(text.size()) + " bytes in " +
                      std::to_string(files.size()) + " files, over the limit of " + std::to_string(kMaxBundleBytes) +
                      " bytes / " + std::to_string(kMaxBundleFiles) + " files",
                      "render it on this cluster, or make the scene smaller (e.g. compress its textures)");
  return text;
}

fs::path unpack_scene_bundle(std::string_view bundle, std::string_view sha256_hex, const fs::path& dir) {
  if (bundle.size() > kMaxBundleBytes)
    refuse(std::to_string(bundle.size()) + " bytes, over the limit of " + std::to_string(kMaxBundleBytes));
  if (bundle_sha256(bundle) != sha256_hex)
    refuse("its SHA-256 is " + bundle_sha256(bundle) + ", not the stated " + std::string(sha256_hex.substr(0, 64)));
  const json b = json::parse(bundle, nullptr, false);
  if (b.is_discarded() || !b.is_object() || b.value("format", "") != kFormat)
    refuse(std::string("not an ") + kFormat + " document");
  if (!b.contains("scene") || !b["scene"].is_string() || !b.contains("files") || !b["files"].is_array())
    refuse("scene (a string) and files (an array) are required");
  if (b["files"].size() > kMaxBundleFiles) refuse(std::to_string(b["files"].size()) + " files, over the limit of " + std::to_string(kMaxBundleFiles));
  // Every path is checked before anything is written: a refused bundle writes nothing.
  std::set<std::string> paths;
  for (const auto& f : b["files"]) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("data") || !f["data"].is_string())
      refuse("every file needs a path and base64 data (strings)");
    const std::string p = f["path"].get<std::string>();
    if (!safe_path(p)) refuse("unsafe path '" + p.substr(0, 100) + "' (absolute, '..', '.', empty part or backslash)");
    if (!paths.insert(p).second) refuse("path '" + p + "' given twice");
  }
  const std::string scene = b["scene"].get<std::string>();
  if (!paths.count(scene)) refuse("the scene '" + scene.substr(0, 100) + "' is not among its files");
  std::error_code ec;
  if (fs::exists(dir, ec)) refuse("the directory " + dir.string() + " exists already");
  fs::create_directories(dir);
  try {
    for (const auto& f : b["files"]) {
      const auto data = detail::base64_decode(f["data"].get<std::string>());
      const std::string p = f["path"].get<std::string>();
      if (!data) refuse("file '" + p + "': data is not base64");
      const fs::path target = dir / p;
      fs::create_directories(target.parent_path());
      const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) refuse("cannot create '" + p + "' (a file and a directory of one name?)");
      const bool ok = ::write(fd, data->data(), data->size()) == static_cast<ssize_t>(data->size());
      ::close(fd);
      if (!ok) throw Error(Error::Kind::Io, "scene bundle: cannot write " + target.string());
    }
  } catch (...) {
    fs::remove_all(dir, ec);
    throw;
  }
  return dir / scene;
}

}  // namespace rfarm::federation
