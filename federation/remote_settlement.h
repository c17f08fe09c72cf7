#pragma once
// Settlement of a job routed to a peer, on the requester's side (docs/FEDERATION.md, "Settlement
// of a routed job"). The requester A holds its user's tokens as for a local job; the provider B
// renders the job under the account it keeps for A and settles it there, which posts B's hold on
// that account: B's charge to A. A charges its user only what B's signed log shows:
//
//  1. A syncs B's head (head_sync.h): the head A keeps is consistent with every earlier one, or
//     B is stopped and nothing is settled;
//  2. A asks B for the charge (GET /v1/jobs/<id>/charge?size=<kept size>): the charge transfer
//     with an inclusion proof against exactly the head A keeps;
//  3. A checks the proof with B's key and that the proven event is the post of a hold whose
//     user data names A's own hold for this job (B wrote JobRequest::origin there), of the amount
//     B states, no more than A's hold;
//  4. A posts its user's hold: B's charge to A's account for B (which then carries what A owes B
//     until `rfarm federation settle` nets it), the rest released; the transfers carry
//     "fed:<B>:<B's charge id>:<B's timestamp>", and the proof is kept as a file under
//     <state_dir>/federation/charges/ (checkable offline with `rfarm ledger verify-proof`).
// A job whose outputs failed this cluster's checks (its verification failed here) is not paid: the
// user's hold is released and the peer's charge stays disputed (it shows as an entry on the peer's
// side only when the clusters settle the period).
// Idempotent: the ledger ids derive from the hold, so a retried settlement posts nothing twice.
#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "core/ids.h"
#include "core/money.h"
#include "core/signing.h"
#include "ledger/tree_head.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"

namespace rfarm::federation {

// What a peer proved it charged this cluster for one routed job.
struct PeerCharge {
  bool charged = false;             // false: the peer settled the job without charging anything
  Id128 transfer;                   // its charge transfer (the post of its hold on our account)
  Amount amount;
  std::uint64_t timestamp_ns = 0;   // when the peer's ledger recorded it
  std::uint64_t event = 0;          // its index in the peer's log
  nlohmann::json proof;             // rfarm-inclusion-proof-v1 against `head`
};

// "fed:<peer>:<hold id>": what the provider writes on its charge for our hold (JobRequest::origin).
std::string origin_for(const std::string& requester, const Id128& hold);
// "fed:<peer>:<charge id>:<timestamp ns>": what our settlement transfers carry (Settlement::reference).
std::string reference_for(const std::string& provider, const PeerCharge& charge);

// Checks a GET /v1/jobs/<id>/charge answer from `peer`: the proof verifies with the peer's key,
// against `kept` (the head this cluster keeps for the peer: same size and root); the proven event
// is a post, code charge, of the stated id and amount whose usage is `expected_origin`; the amount
// is at most `hold`. Error(Integrity) naming the check that failed.
PeerCharge check_peer_charge(const nlohmann::json& answer, const config::PeerConfig& peer,
                             const ledger::SignedHead& kept, const std::string& expected_origin, Amount hold);

// Steps 1-3 for the peer's job `remote_job` whose charge must name `origin` and be at most
// `bound`: ready with the checked charge, or not ready with the peer's reason (it has not settled
// yet). Errors as settle_remote_job's; a charge that does not check is also kept as job `job`'s
// message ("DISPUTE, not settled: ...").
struct ProvenCharge {
  bool ready = false;
  PeerCharge charge;
  std::uint64_t head_size = 0;  // the kept head it is proven against
  std::string waiting;          // the peer's answer while not ready
};
ProvenCharge prove_peer_charge(const config::Config& config, const SigningKey& key, const config::PeerConfig& peer,
                               std::int64_t remote_job, const std::string& origin, Amount bound,
                               scheduler::JobStore& store, std::int64_t job);

enum class RemoteSettleOutcome {
  settled,   // the user's hold is posted (or voided when the peer charged nothing)
  waiting,   // the peer has not settled yet, or its charge is not in the head we keep yet
  nothing,   // no hold open here (already settled or voided)
};
struct RemoteSettleResult {
  RemoteSettleOutcome outcome = RemoteSettleOutcome::waiting;
  std::string message;  // also stored as the job's message
};

// Settles a routed job whose hold is open here, as described above. A re-routed job whose peer's
// charge is still owed (JobRecord::peer_due) is settled by settle_owed_peer_charge (reroute.h). Error(Integrity) when the
// peer's answer does not check (nothing posted; the job's message says why: a dispute for the
// operators); Error(Refused) when the peer is stopped by a rewrite alarm; Error(Io) when it cannot
// be reached (the hold stays).
RemoteSettleResult settle_remote_job(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                                     scheduler::Escrow& escrow, std::int64_t job);

// Cancels a routed job (RemoteBackend::cancel) and tries to settle it at once; a peer that has not
// settled yet (or cannot be reached) leaves the hold open for `rfarm settle` / `show` to finish.
// Error(Refused) when the job is already cancelled.
void cancel_remote_job(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                       scheduler::Escrow& escrow, std::int64_t job);

// Where the proofs of peers' charges are kept: <state_dir>/federation/charges/job-<id>.json.
std::filesystem::path charge_proof_path(const std::filesystem::path& state_dir, std::int64_t job);

}  // namespace rfarm::federation
