#include "federation/quote_capacity.h"

#include <thread>

#include "scheduler/backlog.h"

namespace rfarm::federation {

namespace {

__extension__ typedef unsigned __int128 U128;
using json = nlohmann::json;

// "DIGITS[.DIGITS]" with at most 6 decimals, as millionths; nullopt otherwise (no sign, no exponent).
std::optional<std::int64_t> parse_micros(const std::string& s) {
  const auto dot = s.find('.');
  const std::string whole = s.substr(0, dot), frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (whole.empty() || whole.size() > 7 || frac.size() > static_cast<std::size_t>(config::kCapacitySpeedDecimals) ||
      (dot != std::string::npos && frac.empty()))
    return std::nullopt;
  std::int64_t v = 0;
  for (char c : whole + frac + std::string(config::kCapacitySpeedDecimals - frac.size(), '0')) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string format_micros(std::int64_t v) {
  std::string frac = std::to_string(v % 1'000'000);
  frac = std::string(6 - frac.size(), '0') + frac;
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(v / 1'000'000) + (frac.empty() ? "" : "." + frac);
}

}  // namespace

json quote_capacity(const config::Config& config, const std::filesystem::path& state_dir, const std::string& gpu_model) {
  const config::CapacityConfig& c = config.federation.capacity;
  std::uint32_t slots = 1;
  if (!gpu_model.empty()) {
    if (const auto it = c.gpu_slots.find(gpu_model); it != c.gpu_slots.end()) slots = it->second;
  } else {
    slots = c.slots != 0 ? c.slots : std::max(1u, std::thread::hardware_concurrency());
  }
  const scheduler::Backlog backlog = scheduler::read_backlog(state_dir);
  const auto it = backlog.device_seconds.find(gpu_model.empty() ? std::string("cpu_core_hour") : "gpu_hour." + gpu_model);
  const std::uint64_t queued = it == backlog.device_seconds.end() ? 0 : it->second;
  // Wall seconds to drain the queue: device-seconds at the reference speed / (slots x speed), up.
  const U128 rate = static_cast<U128>(slots) * static_cast<U128>(c.speed_micros);
  const U128 start = (static_cast<U128>(queued) * 1'000'000 + rate - 1) / rate;
  return {{"speed", format_micros(c.speed_micros)},
          {"slots", slots},
          {"queued_device_seconds", queued},
          {"estimated_start_s", static_cast<std::uint64_t>(start > UINT64_MAX ? UINT64_MAX : start)}};
}

std::optional<QuotedCapacity> read_quoted_capacity(const json& body, std::string* why) {
  QuotedCapacity out;
  if (!body.is_object() || !body.contains("capacity")) return out;
  const json& c = body["capacity"];
  auto fail = [&](const std::string& reason) -> std::optional<QuotedCapacity> {
    *why = "its quote's capacity is not believable: " + reason;
    return std::nullopt;
  };
  if (!c.is_object()) return fail("not a JSON object");
  for (const char* key : {"speed", "slots", "queued_device_seconds", "estimated_start_s"})
    if (!c.contains(key)) return fail(std::string(key) + " is missing");
  if (!c["speed"].is_string()) return fail("speed is not a decimal string");
  const auto speed = parse_micros(c["speed"].get<std::string>());
  if (!speed || *speed <= 0 || *speed > config::kMaxCapacitySpeedMicros)
    return fail("speed '" + c["speed"].get<std::string>().substr(0, 40) + "' is not a decimal above 0 and at most 1000");
  // Whole non-negative JSON numbers only (a float, a negative or a string is refused).
  auto whole = [&](const char* key, std::uint64_t lo, std::uint64_t hi, std::uint64_t* v) {
    const json& x = c[key];
    if (!x.is_number_unsigned() && !(x.is_number_integer() && x.get<std::int64_t>() >= 0)) return false;
    *v = x.get<std::uint64_t>();
    return *v >= lo && *v <= hi;
  };
  std::uint64_t slots = 0;
  if (!whole("slots", 1, config::kMaxCapacitySlots, &slots))
    return fail("slots " + c["slots"].dump().substr(0, 40) + " is not a whole number from 1 to " +
                std::to_string(config::kMaxCapacitySlots));
  if (!whole("queued_device_seconds", 0, kMaxQueuedDeviceSeconds, &out.queued_device_seconds))
    return fail("queued_device_seconds " + c["queued_device_seconds"].dump().substr(0, 40) +
                " is not a whole number from 0 to " + std::to_string(kMaxQueuedDeviceSeconds));
  if (!whole("estimated_start_s", 0, kMaxEstimatedStartSeconds, &out.estimated_start_s))
    return fail("estimated_start_s " + c["estimated_start_s"].dump().substr(0, 40) +
                " is not a whole number of seconds from 0 to " + std::to_string(kMaxEstimatedStartSeconds));
  out.stated = true;
  out.speed_micros = *speed;
  out.slots = static_cast<std::uint32_t>(slots);
  return out;
}

}  // namespace rfarm::federation
