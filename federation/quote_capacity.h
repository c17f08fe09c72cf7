#pragma once
// The `capacity` object of a quote (POST /v1/quote; docs/FEDERATION.md, "Routing"): evidence,
// signed with the rest of the quote's body, of how fast and how soon the quoting cluster can render.
//   speed                  decimal string: its benchmark score relative to rfarm's reference frame
//                          (the cost model's device-seconds, scheduler/plan.h), as APEL normalises
//                          CPU time by a benchmark score: 2 renders a frame in half the reference time
//   slots                  chunks it runs at once for the asked device (CPU, or the asked GPU model)
//   queued_device_seconds  render device-seconds (at the reference speed) of the frames not yet
//                          rendered of its jobs pending, queued or running on that device
//   estimated_start_s      seconds until a new job starts: ceil(queued / (slots x speed))
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace rfarm::federation {

// What a caller accepts at most: anything beyond is refused as garbage, not believed.
inline constexpr std::uint64_t kMaxQueuedDeviceSeconds = 1'000'000'000'000ULL;  // ~31,700 device-years
inline constexpr std::uint64_t kMaxEstimatedStartSeconds = 366ULL * 86'400;      // a year

// The issuer's side: the capacity for a quote on `gpu_model` (empty: CPU work), from
// config.federation.capacity and the job store under `state_dir` (read only, scheduler/backlog.h).
nlohmann::json quote_capacity(const config::Config& config, const std::filesystem::path& state_dir,
                              const std::string& gpu_model);

struct QuotedCapacity {
  bool stated = false;                 // false: a quote without capacity (an older peer): the defaults
  std::int64_t speed_micros = 1'000'000;
  std::uint32_t slots = 1;
  std::uint64_t queued_device_seconds = 0;
  std::uint64_t estimated_start_s = 0;
  double speed() const { return static_cast<double>(speed_micros) / 1e6; }
};

// The caller's side: a quote body's capacity. Absent: unknown, taken as speed 1, 1 slot, starting
// now. nullopt with *why set when it is present but not well formed or out of range (a negative,
// non-numeric or absurd value): such a quote is refused, not guessed at.
std::optional<QuotedCapacity> read_quoted_capacity(const nlohmann::json& quote_body, std::string* why);

}  // namespace rfarm::federation
