#pragma once
// Routing a job to a peer cluster (`rfarm submit --clusters B|any`), the caller's side:
//  1. the candidates: the peers named (or every peer for `any`) that may receive work from us
//     (may_receive) and have no standing alarm (head_sync.h); a stopped peer is never contacted;
//  2. a signed quote from each (POST /v1/quote), priced for the job's device-seconds at the
//     quoted price for its price key, with the peer's capacity (speed, slots, estimated start;
//     quote_capacity.h); the placement (placement.h) picks the cheapest, the cheapest meeting a
//     --deadline, or a split of the frames across several peers;
//  3. each part is held and queued on this cluster's scheduler through RemoteBackend
//     (remote_backend.h), which orders it from its peer with the quote presented back.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/money.h"
#include "core/signing.h"
#include "federation/quote_capacity.h"
#include "federation/signed_quote.h"
#include "scheduler/job.h"

namespace rfarm::federation {

struct QuoteRow {
  std::string peer;
  std::string refusal;   // why the peer is not a candidate or gave no quote; empty: quoted
  SignedQuote quote;     // as received, to present back with the order
  std::string quote_id;
  std::string expires_at;
  Amount price_per_hour; // for the job's price key (cpu_core_hour or gpu_hour.<model>)
  Amount estimate;       // the job's render device-seconds at that price, rounded up
  QuotedCapacity capacity;  // speed, slots, estimated start (defaults when the quote states none)
  double finish_s = 0;   // estimated seconds from now until it would finish the whole job alone (placement.h)
};

// `clusters`: "any" or NAME[,NAME...] (Slurm's -M/--clusters spelling). Error(BadInput) naming
// --clusters for an unknown peer name or an empty list. The peers are asked in parallel (at most
// kMaxParallelQuotes at once); one row per peer, in the order asked, a refusal row for each that
// refused, could not be reached or did not verify.
std::vector<QuoteRow> collect_quotes(const config::Config& config, const SigningKey& key, const std::string& clusters,
                                     const scheduler::JobPlan& plan);

// The quoted row with the lowest estimate (ties: the first listed); nullopt when none quoted.
std::optional<std::size_t> cheapest(const std::vector<QuoteRow>& rows);

struct Placement;
// One line per peer: price, estimate, speed, slots, estimated start and finish (of the whole job
// there), quote id and expiry, or the refusal; the placement marked: "<- chosen (cheapest)",
// "<- chosen (cheapest meeting the deadline)", or "<- part K: frames SPEC" for a split.
std::string quote_table(const std::vector<QuoteRow>& rows, int decimals, const Placement& placement);

}  // namespace rfarm::federation
