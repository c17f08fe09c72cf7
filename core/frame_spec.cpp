#include "core/frame_spec.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "core/error.h"

namespace rfarm {
namespace {

[[noreturn]] void bad(std::string_view field, std::string_view spec, std::string_view token,
                      const std::string& problem, std::string_view fix) {
  std::string msg = "'" + std::string(token) + "' in '" + std::string(spec) + "': " + problem;
  throw_input_error({}, field, msg, fix);
}

constexpr std::string_view kSyntaxFix =
    "use Slurm array syntax such as 1-240, 1-240:2 or 1,5,9-12 (optionally %N)";

// Parses a non-negative decimal integer that must fill `text` entirely.
std::int64_t parse_number(std::string_view text, std::string_view field, std::string_view spec,
                          std::string_view token, const char* what) {
  std::int64_t value = 0;
  if (text.empty())
    bad(field, spec, token, std::string("missing ") + what, kSyntaxFix);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    bad(field, spec, token, std::string(what) + " is too large", "frame numbers must fit in 64 bits");
  if (ec != std::errc() || ptr != text.data() + text.size() || text.front() == '-' ||
      text.front() == '+')
    bad(field, spec, token, std::string(what) + " '" + std::string(text) + "' is not a non-negative integer",
        kSyntaxFix);
  return value;
}

}  // namespace

FrameSpec parse_frame_spec(std::string_view spec, std::string_view field) {
  FrameSpec out;
  if (spec.empty()) throw_input_error({}, field, "the frame list is empty", kSyntaxFix);

  std::string_view list = spec;
  if (auto pct = spec.find('%'); pct != std::string_view::npos) {
    std::string_view tail = spec.substr(pct + 1);
    std::int64_t n = parse_number(tail, field, spec, spec.substr(pct), "throttle");
    if (n < 1 || n > 1000000)
      bad(field, spec, spec.substr(pct), "throttle must be between 1 and 1000000", "write e.g. 1-240%8");
    out.throttle = static_cast<int>(n);
    list = spec.substr(0, pct);
    if (list.empty()) throw_input_error({}, field, "the frame list before '%' is empty", kSyntaxFix);
  }

  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view token = list.substr(start, comma - start);
    if (token.empty()) bad(field, spec, token, "empty item (two commas or a trailing comma)", kSyntaxFix);

    std::string_view range = token;
    std::int64_t step = 1;
    if (auto colon = token.find(':'); colon != std::string_view::npos) {
      range = token.substr(0, colon);
      step = parse_number(token.substr(colon + 1), field, spec, token, "step");
      if (step < 1) bad(field, spec, token, "step must be at least 1", "write e.g. 1-240:2");
      if (range.find('-') == std::string_view::npos)
        bad(field, spec, token, "a step needs a range", "write e.g. 1-240:2");
    }
    std::int64_t first = 0, last = 0;
    if (auto dash = range.find('-'); dash != std::string_view::npos) {
      first = parse_number(range.substr(0, dash), field, spec, token, "first frame");
      last = parse_number(range.substr(dash + 1), field, spec, token, "last frame");
      if (last < first)
        bad(field, spec, token, "the range runs backwards", "write the smaller frame first, e.g. 1-240");
    } else {
      first = last = parse_number(range, field, spec, token, "frame");
    }
    // Count before expanding so a huge range fails fast instead of allocating.
    std::int64_t count = (last - first) / step + 1;
    if (count < 0 || static_cast<std::uint64_t>(count) + out.frames.size() > kMaxFramesPerSpec)
      bad(field, spec, token,
          "expands to more than " + std::to_string(kMaxFramesPerSpec) + " frames",
          "split the job or check the range for a typo");
    for (std::int64_t f = first; f <= last; f += step) {
      out.frames.push_back(f);
      if (last - f < step) break;  // avoid overflow near INT64_MAX
    }
    start = comma + 1;
    if (comma == list.size()) break;
  }
  std::sort(out.frames.begin(), out.frames.end());
  out.frames.erase(std::unique(out.frames.begin(), out.frames.end()), out.frames.end());
  return out;
}

}  // namespace rfarm
