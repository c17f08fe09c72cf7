#include "verifier/locate.h"

#include <cctype>

#include "core/error.h"
#include "renderer/settings.h"

namespace rfarm::verifier {

std::map<std::int64_t, std::filesystem::path> locate_frames(const std::string& renders,
                                                            const std::vector<std::int64_t>& frames) {
  std::map<std::int64_t, std::filesystem::path> out;
  if (renders.empty()) throw_input_error({}, "--renders", "is empty", "pass the renders' directory or a pattern such as renders/frame_####.exr");
  if (renders.find('#') != std::string::npos) {
    for (std::int64_t f : frames) out[f] = render::output_path_for(renders, f, true);
    return out;
  }
  const std::filesystem::path dir(renders);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw_input_error({}, "--renders", "'" + renders + "' is neither a directory nor a pattern with ####",
                      "pass the directory holding the EXRs or a pattern such as renders/frame_####.exr");
  std::map<std::int64_t, std::filesystem::path> found;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 5 || name.substr(name.size() - 4) != ".exr" || name.front() == '.') continue;
    std::size_t end = name.size() - 4, begin = end;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(name[begin - 1]))) --begin;
    if (begin == end || end - begin > 18) continue;
    const std::int64_t frame = std::stoll(name.substr(begin, end - begin));
    if (auto it = found.find(frame); it != found.end())
      throw_input_error({}, "--renders", "both " + it->second.filename().string() + " and " + name + " are frame " + std::to_string(frame),
                        "pass a pattern such as " + renders + "/frame_####.exr to say which files are the frames");
    found[frame] = entry.path();
  }
  if (ec) throw Error(Error::Kind::Io, renders + ": cannot list the directory: " + ec.message());
  for (std::int64_t f : frames) {
    auto it = found.find(f);
    out[f] = it != found.end() ? it->second : dir / render::output_path_for("frame_####.exr", f, true);
  }
  return out;
}

}  // namespace rfarm::verifier
