#pragma once
// What a job owes, from evidence: each chunk's metered usage (device-milliseconds: CPU core-ms or
// GPU-ms) at the quote's price, split over the chunk's frames; a frame is charged only when its EXR
// is in evidence (rendered) and no verifier failed it. Integer math throughout (128-bit
// intermediates, every division rounded down), and the render charge never exceeds what the hold
// leaves after the verification share.
//
// Usage comes from the local backend's wait4 rusage ("measured") or from the SPANK plugin's signed
// records in the ledger ("metered", Slurm). A chunk with rendered frames but no usage is NOT charged
// and is listed in `unmetered`: the quote is an estimate made before anything ran, never a bill.
//
//   chunk charge = floor(device_ms x price_per_hour / 3,600,000)          (metered usage; else 0)
//   frame share  = floor(C x (i+1) / n) - floor(C x i / n)                (i-th of the chunk's n frames:
//                                                                          the shares add up to C)
//   render       = min(sum of charged frames' shares, hold - quoted verification share)
//   verification = quote.verification_cost once the verification job completed (verified)
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "scheduler/job_store.h"

namespace rfarm::scheduler {

inline constexpr std::uint64_t kMillisecondsPerHour = 3'600'000;

struct JobCharges {
  Amount render;                             // charged frames, capped
  Amount verification;
  Amount total;                              // render + verification (<= the quote, the hold)
  std::map<std::int64_t, Amount> per_frame;  // every frame of the job: its charge (0 when not charged)
  std::uint64_t device_ms = 0;               // metered usage summed over chunks
  std::string usage_sources;                 // e.g. "measured", "metered"
  std::vector<std::uint32_t> unmetered;      // chunks with charged frames but no usage: not charged
  bool capped = false;                       // usage exceeded what the hold could pay
};

// Charge of `device_ms` at `price_per_hour` (rounded down). Error(Refused) on 64-bit overflow.
Amount usage_charge(std::uint64_t device_ms, Amount price_per_hour);

JobCharges compute_charges(const JobRecord& job, const std::vector<ChunkRecord>& chunks,
                           const std::vector<FrameRecord>& frames);

}  // namespace rfarm::scheduler
