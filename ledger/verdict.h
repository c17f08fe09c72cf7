#pragma once
// Verification verdicts and metered usage: the two kinds of evidence the ledger records beside
// money. Both are events in the signed log, so a provider's reputation and a site's metering can be
// proved to a third party like any transfer.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/ids.h"
#include "core/signing.h"
#include "ledger/types.h"

namespace rfarm::ledger {

// Longest verdict reason (bytes of printable ASCII).
inline constexpr std::size_t kMaxVerdictReasonLength = 200;

enum class VerdictOutcome : std::uint8_t { pass, fail };
std::string_view to_string(VerdictOutcome);
std::optional<VerdictOutcome> verdict_outcome_from_string(std::string_view);

// A verifier's judgement of one committed frame (event type "verdict").
struct Verdict {
  std::string job;                     // scheduler job id, as in FrameCommit
  std::uint64_t frame = 0;
  Id128 provider;                      // the account whose frame was checked (must have a commit for (job, frame))
  Id128 verifier;                      // the verifier account (must exist)
  VerdictOutcome outcome = VerdictOutcome::pass;
  std::string reason;                  // printable ASCII, <= kMaxVerdictReasonLength; "" on pass
  std::uint64_t sample_tree_size = 0;  // the signed head the tile sample was derived from ...
  Hash256 sample_root;                 // ... (its size and root hash); size must be > the commit's event index
  std::uint32_t cells_checked = 0;
  Hash256 evidence_hash;               // SHA-256 of the verifier's evidence document (kept beside the renders)
  bool operator==(const Verdict&) const = default;
};

struct VerdictResult {
  std::uint64_t event = 0;  // the event that records the verdict
  bool existed = false;     // an identical verdict was already recorded
};

struct CommittedFrame {
  std::uint64_t event = 0;
  FrameCommit commit;
};

struct RecordedVerdict {
  std::uint64_t event = 0;
  Verdict verdict;
};

// Counted from the verdict events of a provider (every recorded verdict counts once).
struct Reputation {
  std::uint64_t passes = 0, fails = 0;
  bool operator==(const Reputation&) const = default;
};

// One metered Slurm job step as ingested from a signed usage record (event type "usage"): what the
// log proves was metered, whether or not it was charged. Device time is kept in exact integer
// device-milliseconds (cpus x duration, gpus x duration).
struct MeteredUsage {
  std::string record;   // the usage record key (cluster/job/step/node), the idempotency key
  std::string job;      // "slurm:<job id>" or the rfarm job id
  std::uint32_t step = 0;
  std::string node;
  std::string account;  // the rfarm account named in the record
  std::uint64_t cpu_ms = 0;
  std::uint64_t gpu_ms = 0;
  std::string gpu_model;
  std::uint64_t start_ms = 0, end_ms = 0;
  PublicKey signer;     // the node key that signed the record
  Id128 charge;         // the charge transfer's id, zero when not charged (evidence only, job usage)
  bool operator==(const MeteredUsage&) const = default;
};

struct UsageResult {
  std::uint64_t event = 0;  // the usage event (new or existing)
  bool existed = false;     // an identical record was already in the log
  bool conflict = false;    // a different record with the same key is in the log: nothing written
  TransferResult charge = TransferResult::ok;  // the charge's result, when one was given
};

}  // namespace rfarm::ledger
