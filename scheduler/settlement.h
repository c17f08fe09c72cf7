#pragma once
// From evidence to money, after the frames render:
//   commit_frames   every rendered frame (evidence taken: EXR SHA-256 + tile root) is committed to
//                   the ledger under the provider account, once;
//   apply_verdicts  the verifier's verdicts are read back from the ledger: passed frames are marked
//                   pass; failed ones are not charged, the provider's stake is slashed
//                   (stake.slash_bps, stake.slash_burn_bps of it burnt, the rest to the job's account), the
//                   host that rendered them is excluded, and they are re-queued as a new round in a
//                   new chunk (rendered again, committed under the round's ledger job, verified again);
//   settle_job      (submit.h) charges the frames that are rendered and not failed, from metered usage.
#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"

namespace rfarm::scheduler {

// Re-render rounds after failed verdicts before the frames are given up (the job then fails).
inline constexpr std::uint32_t kMaxVerificationRounds = 2;

// The job id the ledger knows a frame under: the job's uid (hex) for the first render, and
// "<uid>-r<round>" for a re-render (a frame commit is per (job, frame, provider) and immutable).
std::string ledger_job_id(const JobRecord& job, std::uint32_t round);

// The provider account paid and committed for: the first provider account in rfarm.yaml.
// Error(Refused) naming the fix when there is none.
std::string provider_account(const config::Config& config);

// Commits the rendered, not yet committed frames (of every chunk, or only `chunk`); returns how many.
// Error(Refused) when the ledger already holds a different commit for a frame (changed after commit).
std::size_t commit_frames(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t job,
                          std::optional<std::uint32_t> chunk = std::nullopt);

struct VerdictOutcome {
  std::size_t passed = 0, failed = 0, pending = 0;  // frames of the current round
  std::vector<std::int64_t> requeued;               // frames put into a new round
  std::uint32_t new_chunk = 0;                      // the chunk that re-renders them (when requeued)
  Amount slashed;
  bool gave_up = false;                             // failed frames after kMaxVerificationRounds
};

// Reads the verdicts of the job's rendered frames and acts on them (see above). Idempotent: a
// verdict already applied is not applied again.
VerdictOutcome apply_verdicts(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t job);

}  // namespace rfarm::scheduler
