#include "federation/reroute.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/error.h"
#include "federation/client.h"
#include "federation/remote_backend.h"
#include "federation/remote_settlement.h"
#include "federation/remote_verify.h"
#include "federation/route.h"
#include "federation/scene_bundle.h"
#include "scheduler/ledger_escrow.h"
#include "scheduler/plan.h"
#include "scheduler/submit.h"

namespace rfarm::federation {

namespace S = rfarm::scheduler;
using json = nlohmann::json;

namespace {

bool in_flight(const S::JobRecord& j) {
  return j.state == S::State::Pending || j.state == S::State::Queued || j.state == S::State::Running;
}

// `suffix` on the job name, within the name limit.
std::string suffixed_name(const std::string& name, const std::string& suffix) {
  return name.substr(0, S::kMaxJobNameLength - suffix.size()) + suffix;
}

}  // namespace

std::int64_t silent_for(const S::JobRecord& j, std::int64_t now) {
  return std::max<std::int64_t>(0, now - std::max(j.peer_contact, j.created_at));
}

namespace {

// The peers that already had this job's frames: its own and those of every job whose frames were
// placed again as this one (JobRecord::rerouted_to), so frames never go back to a peer that fell
// silent on them or failed their verification.
std::set<std::string> peers_tried(const S::JobStore& store, const S::JobRecord& j) {
  std::set<std::string> out;
  std::set<std::int64_t> seen;
  std::vector<std::int64_t> todo = {j.id};
  const std::vector<S::JobRecord> all = store.list("");
  while (!todo.empty()) {
    const std::int64_t id = todo.back();
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    for (const S::JobRecord& k : all) {
      if (k.id == id) {
        if (const auto r = parse_remote_ref(k.backend_id); k.backend == kRemoteBackendName && r) out.insert(r->peer);
      } else if (k.rerouted_to == id) {
        todo.push_back(k.id);
      }
    }
  }
  return out;
}

struct Placed {
  std::int64_t job = 0;  // 0: not placed
  std::string peer;
  std::string refusal;   // why not, when not placed
};

// Steps 1 and 2 of a re-route: quotes from every peer that may receive work and has not had these
// frames yet; the cheapest takes `j`'s request (its name suffixed) under a new hold of the user's,
// sized to what that peer may charge at its quoted prices. Marks `j` rerouted_to = -1 first, so a
// crash between the placement and the caller's bookkeeping never places the frames twice.
Placed place_elsewhere(const config::Config& config, const SigningKey& key, S::JobStore& store, S::Escrow& escrow,
                       const S::JobRecord& j, const std::string& suffix) {
  const std::set<std::string> tried = peers_tried(store, j);
  std::string others;
  for (const config::PeerConfig& p : config.federation.peers)
    if (p.may_receive && !tried.contains(p.name)) others += (others.empty() ? "" : ",") + p.name;
  if (others.empty()) {
    std::string had;
    for (const std::string& p : tried) had += (had.empty() ? "" : ", ") + p;
    return {0, "", "no other peer may receive work from this cluster (these frames were with: " + had + ")"};
  }
  S::JobRequest request = j.request;
  request.job_name = suffixed_name(request.job_name, suffix);
  S::JobPlan plan = S::plan_job(request, config);
  const std::vector<QuoteRow> rows = collect_quotes(config, key, others, plan);
  const auto best = cheapest(rows);
  if (!best) {
    std::string refusals;
    for (const QuoteRow& r : rows) refusals += (refusals.empty() ? "" : "; ") + r.peer + ": " + r.refusal;
    return {0, "", "no other peer quoted (" + refusals + ")"};
  }
  const QuoteRow& row = rows[*best];
  const config::PeerConfig& to = configured_peer(config, row.peer);
  if (!escrow.has_account(to.account))
    return {0, "", "peer " + row.peer + "'s account '" + to.account + "' is not in this ledger (rfarm ledger account create " +
                       to.account + " --kind provider)"};
  config::Config at_quote = config;
  at_quote.prices = quoted_prices(json::parse(row.quote.body), config.token.decimals);
  if (const S::JobPlan q = S::plan_job(plan.request, at_quote); q.quote.total > plan.quote.total) plan.quote = q.quote;
  store.set_reroute(j.id, -1, j.peer_due);
  try {
    RemoteBackend backend(config, key, row.peer, row.quote, make_scene_bundle(plan.request.scene));
    return {S::submit_job(plan, config, store, backend, escrow).id, row.peer, ""};
  } catch (const Error& e) {
    store.set_reroute(j.id, 0, j.peer_due);
    return {0, "", std::string("peer ") + row.peer + ": " + e.what() +
                       (e.kind() == Error::Kind::Refused && j.hold ? " (the new hold is taken while this job's hold is still open)" : "")};
  }
}

RerouteResult interrupted(S::JobStore& store, const S::JobRecord& j) {
  const std::string m = "a re-route of this job was started and did not finish: look in rfarm queue for a job named " +
                        j.request.job_name + "-rerouted or -requeued, created after this one, and cancel one of the two";
  const std::int64_t id = j.id;
  store.set_message(id, m);
  return {RerouteOutcome::interrupted, 0, m};
}

}  // namespace

RerouteResult reroute_if_silent(const config::Config& config, const SigningKey& key, S::JobStore& store, S::Escrow& escrow,
                                std::int64_t id, std::int64_t now) {
  const S::JobRecord j = store.get(id);
  const auto ref = parse_remote_ref(j.backend_id);
  const std::int64_t timeout = config.federation.silence_timeout_seconds;
  if (j.backend != kRemoteBackendName || !ref || !in_flight(j) || timeout <= 0) return {};
  if (j.rerouted_to < 0) return interrupted(store, j);
  const std::int64_t silent = silent_for(j, now);
  if (j.rerouted_to != 0 || silent <= timeout || !j.hold) return {};
  const std::string why = "peer " + ref->peer + " silent for " + std::to_string(silent) + " s (federation.silence_timeout " +
                          std::to_string(timeout) + " s)";

  // 1-2. The cheapest other peer takes the frames under a new hold (taken while this job's hold is
  // still open); then this job is cancelled here and its user's hold released.
  const Placed placed = place_elsewhere(config, key, store, escrow, j, "-rerouted");
  if (!placed.job) {
    const std::string m = why + "; not re-routed: " + placed.refusal + "; the job waits for peer " + ref->peer;
    store.set_message(id, m);
    return RerouteResult{RerouteOutcome::not_placed, 0, m};
  }
  store.set_message(placed.job, "re-route of job " + std::to_string(id) + " (" + why + "); " + store.get(placed.job).message);
  escrow.void_hold(*j.hold);
  store.set_hold(id, std::nullopt);
  store.set_reroute(id, placed.job, j.hold);
  std::vector<S::FrameRecord> frames = store.frames(id);
  for (S::FrameRecord& f : frames)
    if (f.state != S::State::Rendered) f.note = "re-routed to job " + std::to_string(placed.job);
  store.update_frames(id, frames);
  const std::string m = why + ": its frames were re-routed to job " + std::to_string(placed.job) + " (peer " + placed.peer +
                        "), and this job's hold released; peer " + ref->peer + "'s order is cancelled when it answers, " +
                        "and what it proves it rendered is paid by this cluster's treasury, not by " + j.request.account;
  store.set_state(id, S::State::Cancelled, m);
  return {RerouteOutcome::rerouted, placed.job, m};
}

bool requeue_due(const S::JobStore& store, const S::JobRecord& j) {
  if (j.backend != kRemoteBackendName || !parse_remote_ref(j.backend_id) || !S::is_finished(j) || j.hold || j.peer_due ||
      j.rerouted_to > 0)
    return false;
  return j.verify_state == S::State::Failed || !failed_frames(store, j.id).empty();
}

RerouteResult requeue_if_failed(const config::Config& config, const SigningKey& key, S::JobStore& store,
                                S::Escrow& escrow, std::int64_t id) {
  const S::JobRecord j = store.get(id);
  if (!requeue_due(store, j)) return {};
  if (j.rerouted_to < 0) return interrupted(store, j);
  const auto ref = parse_remote_ref(j.backend_id);
  const std::vector<std::int64_t> failed = failed_frames(store, id);
  std::string which;
  for (std::int64_t f : failed) which += (which.empty() ? "" : ",") + std::to_string(f);
  const std::string why = failed.empty() ? "its outputs from peer " + ref->peer + " failed this cluster's checks"
                                         : "frame(s) " + which + " from peer " + ref->peer + " failed verification here";
  // Sampled frames failed, so none of this peer's frames for the job is trusted: the whole job goes
  // again (its user paid nothing for it: settle_remote_job released the hold, the peer is unpaid).
  const Placed placed = place_elsewhere(config, key, store, escrow, j, "-requeued");
  if (!placed.job) {
    const std::string m = j.message + "; " + why + ", not re-queued: " + placed.refusal + " (render the frames again with rfarm submit)";
    store.set_message(id, m);
    return {RerouteOutcome::not_placed, 0, m};
  }
  store.set_message(placed.job, "re-queue of job " + std::to_string(id) + " (" + why + "); " + store.get(placed.job).message);
  store.set_reroute(id, placed.job, std::nullopt);
  std::vector<S::FrameRecord> frames = store.frames(id);
  for (S::FrameRecord& f : frames) {
    const bool bad = std::find(failed.begin(), failed.end(), f.frame) != failed.end();
    f.note = (bad ? "failed verification here; " : "not trusted (its peer failed verification); ") + std::string("re-queued as job ") +
             std::to_string(placed.job);
  }
  store.update_frames(id, frames);
  const std::string m = j.message + "; " + why + ": the job was re-queued as job " + std::to_string(placed.job) + " on peer " +
                        placed.peer + " (" + j.request.account + " pays for its frames there, once)";
  store.set_message(id, m);
  return {RerouteOutcome::rerouted, placed.job, m};
}

OwedSettleResult settle_owed_peer_charge(const config::Config& config, const SigningKey& key, S::JobStore& store,
                                         S::Escrow& escrow, std::int64_t id) {
  const S::JobRecord j = store.get(id);
  const auto ref = parse_remote_ref(j.backend_id);
  if (!j.peer_due || !ref) throw Error(Error::Kind::BadInput, "job " + std::to_string(id) + " owes no peer a charge");
  const config::PeerConfig& peer = configured_peer(config, ref->peer);
  const PeerClient client(config, peer, key);
  const std::string base = "/v1/jobs/" + std::to_string(ref->job);
  // 3. The order is cancelled at the peer (409: it had finished, or was cancelled by an earlier
  // call), which then settles it on what it rendered. A peer still silent is the normal case
  // here: the job waits (its message says so), nothing is thrown.
  const std::string rerouted =
      "its frames were re-routed to job " + std::to_string(j.rerouted_to) + " when peer " + peer.name + " fell silent; ";
  auto waiting = [&](const std::string& why) {
    const std::string m = rerouted + why;
    store.set_message(id, m);
    return OwedSettleResult{OwedSettleOutcome::waiting, m};
  };
  ProvenCharge proven;
  try {
    const PeerResponse cancel = client.call("DELETE", base);
    if (cancel.status != 200 && cancel.status != 409)
      return waiting("peer " + peer.name + " refused the cancel of its job " + std::to_string(ref->job) + " (" +
                     std::to_string(cancel.status) + "): " + cancel.error() + "; its charge is still owed");
    store.set_peer_contact(id, S::unix_now());
    proven = prove_peer_charge(config, key, peer, ref->job, origin_for(config.federation.name, j.peer_due->id), j.quote.total,
                               store, id);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Io) throw;
    return waiting("peer " + peer.name + " is still silent (" + e.what() + "); what it rendered is paid when it answers");
  }
  if (!proven.ready)
    return waiting("peer " + peer.name + " was told to cancel; waiting for its charge: " + proven.waiting);
  const PeerCharge& charge = proven.charge;
  // 4. Late results, reconciled into this job's frame records (not fetched: the new job renders them).
  std::size_t late = 0;
  PeerResponse list;
  try {
    list = client.call("GET", base + "/outputs");
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Io) throw;
    return waiting("peer " + peer.name + " fell silent again (" + e.what() + ") before its late frames were listed");
  }
  if (list.status == 200 && list.json.contains("frames") && list.json["frames"].is_array()) {
    std::map<std::int64_t, S::FrameRecord> frames;
    for (const S::FrameRecord& f : store.frames(id)) frames.emplace(f.frame, f);
    // The same frame from the new job: rendering is deterministic, so on the same code path the
    // late copy is bit-identical (a free cross-check of both peers; a difference is only noted).
    std::map<std::int64_t, std::string> replacement;
    if (j.rerouted_to > 0 && store.find(j.rerouted_to))
      for (const S::FrameRecord& f : store.frames(j.rerouted_to)) replacement.emplace(f.frame, f.exr_sha256);
    for (const json& f : list.json.at("frames")) {
      const auto it = frames.find(f.value("frame", std::int64_t{-1}));
      if (it == frames.end()) continue;
      it->second.exr_sha256 = f.value("sha256", "");
      it->second.tile_root = f.value("tile_root", "");
      it->second.host = "peer " + peer.name;
      const auto r = replacement.find(it->first);
      const std::string compared = r == replacement.end() || r->second.empty() ? ""
                                   : r->second == it->second.exr_sha256   ? ", identical to its frame"
                                                                          : ", differs from its frame (SHA-256 " + r->second.substr(0, 16) + ")";
      it->second.note = "late from peer " + peer.name + ", superseded by job " + std::to_string(j.rerouted_to) + compared +
                        " (not fetched; not charged to " + j.request.account + ")";
      ++late;
    }
    std::vector<S::FrameRecord> updated;
    for (auto& [n, f] : frames) updated.push_back(std::move(f));
    store.update_frames(id, updated);
  }
  // Paid once: the transfer id derives from the hold the order named, so a retry is "exists".
  if (charge.charged) {
    write_file_atomically(charge_proof_path(store.path().parent_path(), id), charge.proof.dump(2) + "\n");
    std::string treasury = S::first_account(config, config::AccountKind::Treasury);
    if (treasury.empty()) treasury = S::Settlement{}.treasury;
    try {
      escrow.pay(S::derived_transfer_id(j.peer_due->id, "reroute-owed"), treasury, peer.account, charge.amount,
                 j.uid.hex(), reference_for(peer.name, charge));
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::Refused) throw;
      return waiting("peer " + peer.name + " proved " + S::format_tokens(charge.amount, config) +
                     " for what it rendered, which this cluster's treasury cannot pay (" + e.what() +
                     "): deposit into " + treasury + " and run rfarm settle");
    }
  }
  store.set_reroute(id, j.rerouted_to, std::nullopt);
  const std::string m =
      rerouted + "peer " + peer.name +
      (charge.charged ? " proved " + S::format_tokens(charge.amount, config) + " for what it rendered (its event #" +
                            std::to_string(charge.event) + "), paid by this cluster's treasury into " + peer.account
                      : " charged nothing") +
      "; " + std::to_string(late) + " late frame(s) reconciled, none charged to " + j.request.account;
  store.set_message(id, m);
  return {OwedSettleOutcome::paid, m};
}

}  // namespace rfarm::federation
