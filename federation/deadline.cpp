#include "federation/deadline.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>
#include <utility>

#include "core/error.h"
#include "ledger/statement.h"

namespace rfarm::federation {

namespace {

constexpr const char* kForms =
    "write YYYY-MM-DD[THH:MM[:SS]] (UTC) or now+N[seconds|minutes|hours|days|weeks], e.g. 2026-11-24T18:00 or now+6hours";

[[noreturn]] void bad(std::string_view text, const std::string& problem) {
  throw_input_error({}, "--deadline", "'" + std::string(text.substr(0, 80)) + "' " + problem, kForms);
}

bool iequals_prefix(std::string_view s, std::string_view word) {
  if (s.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != word[i]) return false;
  return true;
}

// "now", "now+N", "now+N UNIT": seconds from now; nullopt when `t` does not start with "now".
std::optional<std::int64_t> relative_seconds(std::string_view t) {
  if (!iequals_prefix(t, "now")) return std::nullopt;
  std::string_view rest = t.substr(3);
  if (rest.empty()) return 0;
  if (rest.front() != '+') bad(t, "is not a deadline (after now, only +N[UNIT] may follow)");
  rest.remove_prefix(1);
  std::int64_t n = 0;
  std::size_t digits = 0;
  while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
    if (n > kMaxDeadlineAheadSeconds) bad(t, "is too far ahead (at most 10 years)");
    n = n * 10 + (rest[digits] - '0');
    ++digits;
  }
  if (digits == 0) bad(t, "has no number after now+");
  rest.remove_prefix(digits);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (rest.empty()) return n;
  // Slurm's unit names (src/common/parse_time.c), longest spelling first.
  static constexpr std::pair<std::string_view, std::int64_t> kUnits[] = {
      {"seconds", 1},         {"second", 1},         {"minutes", 60},       {"minute", 60},
      {"hours", 3'600},       {"hour", 3'600},       {"days", 86'400},      {"day", 86'400},
      {"weeks", 7 * 86'400},  {"week", 7 * 86'400}};
  for (const auto& [name, seconds] : kUnits) {
    if (rest.size() == name.size() && iequals_prefix(rest, name)) {
      if (n > kMaxDeadlineAheadSeconds / seconds) bad(t, "is too far ahead (at most 10 years)");
      return n * seconds;
    }
  }
  bad(t, "has an unknown unit '" + std::string(rest.substr(0, 20)) + "'");
}

// YYYY-MM-DD[THH:MM[:SS]][Z] in UTC, through the ledger's strict UTC parser.
std::int64_t absolute_seconds(std::string_view t) {
  std::string s(t);
  if (!s.empty() && (s.back() == 'Z' || s.back() == 'z') && s.size() > 10) s.pop_back();
  if (s.size() == 16) s += ":00";  // THH:MM
  if (s.size() == 19) s += "Z";
  if (s.size() != 10 && s.size() != 20) bad(t, "is not a deadline");
  try {
    return static_cast<std::int64_t>(ledger::parse_utc_time(s, "--deadline") / 1'000'000'000ULL);
  } catch (const Error&) {
    bad(t, "is not a valid date and time");
  }
}

}  // namespace

std::int64_t parse_deadline(std::string_view text, std::int64_t now_unix) {
  if (text.empty()) bad(text, "is empty");
  std::int64_t at = 0;
  if (const auto ahead = relative_seconds(text)) at = now_unix + *ahead;
  else at = absolute_seconds(text);
  if (at <= now_unix) bad(text, "is not in the future (now is " + format_utc_seconds(now_unix) + ")");
  if (at - now_unix > kMaxDeadlineAheadSeconds) bad(text, "is too far ahead (at most 10 years)");
  return at;
}

std::string format_utc_seconds(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace rfarm::federation
