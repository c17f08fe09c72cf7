#pragma once
// `rfarm submit --clusters ... --deadline`: the deadline in sbatch's --deadline spellings.
//   YYYY-MM-DD[THH:MM[:SS]]   UTC (rfarm's dates are UTC everywhere; a trailing Z is accepted);
//                             a date alone is its midnight, as in Slurm
//   now[+N[UNIT]]             N seconds (no unit) or N UNITs from now; UNIT one of Slurm's:
//                             seconds, second, minutes, minute, hours, hour, days, day, weeks, week
//                             (any case, blanks allowed before it, as Slurm's parse_time)
// Slurm's other forms (HH:MM, MM/DD, today, teatime, ...) read local time and are not taken.
#include <cstdint>
#include <string>
#include <string_view>

namespace rfarm::federation {

inline constexpr std::int64_t kMaxDeadlineAheadSeconds = 10LL * 366 * 86'400;  // 10 years

// Unix seconds. Error(BadInput) naming --deadline and the accepted forms when `text` is none of
// them, and when it is not after `now_unix` or more than kMaxDeadlineAheadSeconds ahead.
std::int64_t parse_deadline(std::string_view text, std::int64_t now_unix);

// "2026-11-24T13:05:00Z" for unix seconds.
std::string format_utc_seconds(std::int64_t unix_seconds);

}  // namespace rfarm::federation
