#include "scheduler/job.h"

#include <array>

namespace rfarm::scheduler {
namespace {
constexpr std::array<std::pair<State, std::string_view>, 8> kNames = {{
    {State::Pending, "pending"},     {State::Queued, "queued"},     {State::Running, "running"},
    {State::Rendered, "rendered"},   {State::Verifying, "verifying"}, {State::Verified, "verified"},
    {State::Failed, "failed"},       {State::Cancelled, "cancelled"},
}};
}  // namespace

std::string_view to_string(State state) {
  for (const auto& [s, name] : kNames)
    if (s == state) return name;
  return "unknown";
}

std::optional<State> parse_state(std::string_view text) {
  for (const auto& [s, name] : kNames)
    if (name == text) return s;
  return std::nullopt;
}

bool is_final_for_chunk(State state) {
  return state == State::Rendered || state == State::Verified || state == State::Failed ||
         state == State::Cancelled;
}

std::string compact_frame_spec(const std::vector<std::int64_t>& frames) {
  std::string out;
  std::size_t i = 0;
  while (i < frames.size()) {
    if (!out.empty()) out += ',';
    std::size_t j = i;
    if (i + 1 < frames.size()) {
      const std::int64_t step = frames[i + 1] - frames[i];
      j = i + 1;
      while (j + 1 < frames.size() && frames[j + 1] - frames[j] == step) ++j;
      // A run of two frames with a step > 1 reads better as "a,b".
      if (step != 1 && j == i + 1) j = i;
      if (j > i) {
        out += std::to_string(frames[i]) + "-" + std::to_string(frames[j]);
        if (step != 1) out += ":" + std::to_string(step);
        i = j + 1;
        continue;
      }
    }
    out += std::to_string(frames[i]);
    ++i;
  }
  return out;
}

}  // namespace rfarm::scheduler
