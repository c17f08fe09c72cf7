#pragma once
// Verification across clusters, on the requester A (docs/FEDERATION.md, "Verification across
// clusters"): the frames a peer B rendered for A and A fetched (remote_backend.h,
// fetch_remote_outputs) are judged on A, never on B, and the judgement reaches both ledgers.
//
//   1. commit   each fetched frame in A's ledger under A's account for B (peers[].account of B),
//               with the SHA-256 and tile root of the bytes A holds, as the scheduler commits a
//               local provider's frames (scheduler/settlement.h commit_frames);
//   2. verify   A's own verifier re-renders samples of them: `rfarm verify --record` against A's
//               ledger with A's copy of the scene (scheduler/verification.h verify_argv), so the
//               verdicts are events in A's log;
//   3. slash    a failed frame slashes B's stake on A's ledger (the stake account of A's account
//               for B, `rfarm ledger stake`) by stake.slash_bps, stake.slash_burn_bps of it burnt,
//               the rest compensating the job's user (scheduler/escrow.h SlashOrder, idempotent);
//               failed frames are not to be paid (passed_frames / failed_frames below);
//   4. deliver  A signs an `rfarm-verdict-v1` document (verdict_document.h) and POSTs it to
//               B's /v1/jobs/<B's job>/verdict; B records it in its ledger and answers with its
//               events. The signed document and B's signed answer are kept under
//               <state_dir>/federation/verdicts/job-<id>.json (written before sending, so a retry
//               sends the same document).
// Each step is idempotent, so `rfarm show` can drive it again after a crash or an unreachable B.
// Once such a job is settled as disputed, reroute.h requeue_if_failed places it on another peer.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/money.h"
#include "core/signing.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"
#include "scheduler/verification.h"

namespace rfarm::federation {

struct RemoteVerification {
  std::vector<std::int64_t> passed, failed;
  Amount slashed;           // taken from B's stake on this ledger (0 without stake)
  bool delivered = false;   // B recorded the verdict
  nlohmann::json reply;     // B's answer: its ledger job and the events of its records
  std::string summary;      // one line, also the job's message
};

// Where the signed document and B's answer are kept for job `job`.
std::filesystem::path verdict_record_path(const std::filesystem::path& state_dir, std::int64_t job);

// Whether a remote job whose outputs were fetched still needs a step above: rendered here, and
// either not yet verified or its verdict not yet accepted by the peer.
bool remote_verification_due(const scheduler::JobRecord& job, const std::filesystem::path& state_dir);

// Runs the steps still due for remote job `job` (state rendered: its outputs fetched). `setup`
// names this cluster's rfarm binary, ledger and verifier account; the verifier's log goes to
// <state_dir>/logs. Error(Integrity) when a fetched EXR no longer matches its evidence,
// Error(Refused) when the ledger holds another commit for a frame, Error(Io) when `rfarm verify`
// could not run or the peer cannot be reached (the verdicts stay recorded here; call again),
// Error(Refused) when the peer refuses the verdict (its reason).
RemoteVerification verify_remote_job(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                                     scheduler::Escrow& escrow, std::int64_t job, const scheduler::VerifierSetup& setup,
                                     const std::filesystem::path& state_dir);

// The frames of a remote job whose verdict here passed / failed (from the job store; empty before
// verification). Settlement pays B for the passed frames only.
std::vector<std::int64_t> passed_frames(const scheduler::JobStore& store, std::int64_t job);
std::vector<std::int64_t> failed_frames(const scheduler::JobStore& store, std::int64_t job);

}  // namespace rfarm::federation
