#pragma once
// A peer that goes silent mid-job (docs/FEDERATION.md, "A silent peer"), on the requester's side.
//
// Every answer a peer gives about a routed job is its sign of life (JobRecord::peer_contact). When
// a job routed to B has had none for federation.silence_timeout, its frames are re-routed:
//
//  1. the other peers that may receive work quote the job; the cheapest takes it as a new routed
//     job J' with a new hold of the user's (re-escrow: the user must cover J' while J's hold is
//     still open; it is released as soon as J' is placed);
//  2. J is cancelled here and marked re-routed to J'; the user's hold for J is released, so the
//     user pays for each frame once, on J';
//  3. B's order is still standing on B's side (B cannot tell a silent link from a slow requester).
//     When B answers again, this cluster cancels it (DELETE) and B settles it on what it rendered,
//     as for any cancel. This cluster pays exactly what B proves (its charge, checked as in
//     remote_settlement.h, naming the hold J's order named) from its own treasury into B's peer
//     account: B is paid once, by the cluster that chose to re-route, and both ledgers agree at
//     `rfarm federation settle`. The cost of the duplicated work is the requester cluster's, not
//     the user's and not the peer's.
//  4. Late results: the frames B lists as rendered are reconciled into J's frame records (SHA-256
//     and tile root, noted "late, superseded by job J'"). They are not fetched over J''s outputs
//     and never charged to the user.
// A crash between 1 and 2 leaves J marked rerouted_to = -1: it is not re-routed twice; an operator
// looks for the new job (named <name>-rerouted) and cancels one of them.
//
// A failed verdict (docs/FEDERATION.md, "A failed verdict: slash, and render the frames
// elsewhere"): once a routed job J whose frames failed this cluster's checks or verifier is
// settled as disputed (its user's hold released, its peer unpaid and slashed, remote_verify.h),
// requeue_if_failed places the whole job again, as J' on the cheapest peer that has not had these
// frames, under a new hold: sampled frames failed, so none of that peer's frames is trusted, and
// the user pays for each frame once, on J'. Frames never go back to a peer that fell silent on
// them or failed them (every job in the chain of re-routes counts).
#include <cstdint>
#include <string>

#include "config/config.h"
#include "core/signing.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"

namespace rfarm::federation {

enum class RerouteOutcome {
  not_due,      // not a routed job in flight, re-routing is off, or the peer answered recently
  rerouted,     // the frames were placed as a new job (RerouteResult::job)
  not_placed,   // due, but no other peer took the frames (the job keeps waiting for its peer)
  interrupted,  // an earlier re-route of this job did not finish: nothing is done again
};

struct RerouteResult {
  RerouteOutcome outcome = RerouteOutcome::not_due;
  std::int64_t job = 0;   // the new job when rerouted
  std::string message;    // also the job's message (except for not_due)
};

// Seconds since the peer last answered about `job` (since its creation when it never did).
std::int64_t silent_for(const scheduler::JobRecord& job, std::int64_t now);

// Re-routes `job` when its peer has been silent past federation.silence_timeout at `now` (unix
// seconds), as described above. Call it after asking the peer failed.
RerouteResult reroute_if_silent(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                                scheduler::Escrow& escrow, std::int64_t job, std::int64_t now);

// Whether requeue_if_failed has work for `job`: routed, finished, settled as disputed (no hold, no
// owed charge), failed, and not re-queued yet (or its re-queue interrupted).
bool requeue_due(const scheduler::JobStore& store, const scheduler::JobRecord& job);

// Places the frames of routed job `job` again when its verification failed and it was settled as
// disputed (see above; not_due otherwise, or when it was re-queued already). The job keeps its
// state and verdicts; its frames are noted "re-queued as job J'"; rerouted_to links it to J'.
RerouteResult requeue_if_failed(const config::Config& config, const SigningKey& key, scheduler::JobStore& store,
                                scheduler::Escrow& escrow, std::int64_t job);

enum class OwedSettleOutcome { paid, waiting };
struct OwedSettleResult {
  OwedSettleOutcome outcome = OwedSettleOutcome::waiting;
  std::string message;
};

// Step 3 and 4 for a re-routed job whose peer charge is still owed (JobRecord::peer_due): cancels
// the order at the peer, proves its charge, pays it from this cluster's treasury, reconciles the
// late frames. Error(Io) while the peer is unreachable; Error(Integrity) when its charge does not
// check (nothing paid; the job's message says why); Error(Refused) when the peer is stopped.
OwedSettleResult settle_owed_peer_charge(const config::Config& config, const SigningKey& key,
                                         scheduler::JobStore& store, scheduler::Escrow& escrow, std::int64_t job);

}  // namespace rfarm::federation
