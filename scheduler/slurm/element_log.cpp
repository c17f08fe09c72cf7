#include "scheduler/slurm/element_log.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <string>

namespace rfarm::scheduler {

ElementLog read_element_log(const std::filesystem::path& log, std::uint32_t chunk) {
  ElementLog f;
  std::ifstream in(log);
  if (!in) return f;
  f.exists = true;
  const std::string prefix = "rfarm: chunk " + std::to_string(chunk) + " ";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    const std::string rest = line.substr(prefix.size());
    if (rest.rfind("attempt ", 0) == 0 && rest.find(" frames ") != std::string::npos) ++f.attempts;
    if (rest == "rendered") {
      f.rendered = true;
      f.last_exit = 0;
    }
    if (const auto p = rest.find("(exit "); p != std::string::npos) f.last_exit = std::atoi(rest.c_str() + p + 6);
    if (rest.rfind("gave up", 0) == 0) f.gave_up = true;
    if (rest.rfind("nodes ", 0) == 0) {
      const std::string n = rest.substr(6);
      std::uint32_t v = 0;
      const auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
      if (!n.empty() && ec == std::errc() && end == n.data() + n.size()) f.nodes = v;
    }
    if (rest.rfind("slurm job ", 0) == 0) {
      const std::string id = rest.substr(10);
      std::uint32_t v = 0;
      const auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
      if (!id.empty() && ec == std::errc() && end == id.data() + id.size()) f.slurm_job = v;
    }
  }
  return f;
}

}  // namespace rfarm::scheduler
