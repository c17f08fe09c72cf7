#include "scheduler/charges.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace rfarm::scheduler {

namespace {
__extension__ typedef unsigned __int128 u128;

std::uint64_t narrow(u128 v, const char* what) {
  if (v > UINT64_MAX) throw Error(Error::Kind::Refused, std::string(what) + ": the charge overflows 64-bit money");
  return static_cast<std::uint64_t>(v);
}

bool charged(const FrameRecord& f) {
  return (f.state == State::Rendered || f.state == State::Verified) && f.verdict != "fail";
}
}  // namespace

Amount usage_charge(std::uint64_t device_ms, Amount price_per_hour) {
  return Amount(narrow(static_cast<u128>(device_ms) * price_per_hour.units / kMillisecondsPerHour, "usage charge"));
}

JobCharges compute_charges(const JobRecord& job, const std::vector<ChunkRecord>& chunks,
                           const std::vector<FrameRecord>& frames) {
  JobCharges out;
  std::map<std::uint32_t, std::vector<const FrameRecord*>> by_chunk;
  for (const auto& f : frames) {
    by_chunk[f.chunk].push_back(&f);
    out.per_frame[f.frame] = Amount();
  }
  std::set<std::string> sources;
  u128 render = 0;
  for (const ChunkRecord& c : chunks) {
    if (c.frame_count == 0) continue;
    const bool metered = c.device_ms > 0 && (c.usage_source == "measured" || c.usage_source == "metered");
    u128 chunk_charge = 0;
    if (metered) {
      chunk_charge = usage_charge(c.device_ms, job.quote.price_per_hour).units;
      out.device_ms += c.device_ms;
    }
    const auto it = by_chunk.find(c.index);
    if (it == by_chunk.end()) continue;
    bool any = false;
    // The chunk's frames as planned: frames moved to a re-render chunk keep their index here only
    // through the new chunk, so the shares of this chunk's remaining frames are paid from it.
    for (std::size_t i = 0; i < it->second.size() && i < c.frame_count; ++i) {
      const FrameRecord& f = *it->second[i];
      if (!charged(f)) continue;
      any = true;
      if (!metered) continue;  // no usage: not charged (listed in unmetered)
      const u128 share = chunk_charge * (i + 1) / c.frame_count - chunk_charge * i / c.frame_count;
      out.per_frame[f.frame] = Amount(narrow(share, "frame charge"));
      render += share;
    }
    if (any && metered) sources.insert(c.usage_source);
    if (any && !metered) out.unmetered.push_back(c.index);
  }
  if (job.verify_state == State::Verified) out.verification = job.quote.verification_cost;
  // The verification share of the hold is kept for the verifier whether or not it ran yet.
  const std::uint64_t reserved = std::max(out.verification.units, job.quote.verification_cost.units);
  const std::uint64_t room = job.quote.total.units > reserved ? job.quote.total.units - reserved : 0;
  if (render > room) {
    out.capped = true;
    // Scale every frame down in proportion: frame i gets floor(room x cum_i / R) - floor(room x
    // cum_(i-1) / R), so the frames add up to the room exactly.
    u128 cum = 0, paid = 0;
    for (auto& [frame, a] : out.per_frame) {
      cum += a.units;
      const u128 upto = cum * room / render;
      a = Amount(narrow(upto - paid, "frame charge"));
      paid = upto;
    }
    render = paid;
  }
  out.render = Amount(narrow(render, "render charge"));
  out.total = add(out.render, out.verification, "job charge");
  for (const auto& s : sources) out.usage_sources += (out.usage_sources.empty() ? "" : "+") + s;
  return out;
}

}  // namespace rfarm::scheduler
