#include "federation/head_sync.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "federation/client.h"

namespace rfarm::federation {

namespace {

std::uint64_t system_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

HeadSyncOutcome outcome_of(SyncStatus s) {
  switch (s) {
    case SyncStatus::first: return HeadSyncOutcome::first;
    case SyncStatus::advanced: return HeadSyncOutcome::advanced;
    case SyncStatus::unchanged: return HeadSyncOutcome::unchanged;
    case SyncStatus::alarm: return HeadSyncOutcome::alarm;
    case SyncStatus::stopped: return HeadSyncOutcome::stopped;
  }
  return HeadSyncOutcome::failed;
}

// The severity order of the exit status: a new alarm above a standing one above a peer that
// answered uselessly above one that did not answer.
int exit_of(HeadSyncOutcome o) {
  switch (o) {
    case HeadSyncOutcome::alarm: return kSyncExitAlarm;
    case HeadSyncOutcome::stopped: return kSyncExitStopped;
    case HeadSyncOutcome::failed: return kSyncExitFailed;
    case HeadSyncOutcome::unreachable: return kSyncExitUnreachable;
    default: return 0;
  }
}

// The peer's /v1/head document, or the outcome that ends this peer's sync.
struct Fetched {
  std::optional<PeerResponse> response;
  HeadSyncOutcome failure = HeadSyncOutcome::failed;
  std::string reason;
};

Fetched fetch(const PeerClient& client, const std::string& target) {
  Fetched f;
  try {
    f.response = client.call("GET", target);
  } catch (const Error& e) {
    f.failure = e.kind() == Error::Kind::Io ? HeadSyncOutcome::unreachable : HeadSyncOutcome::failed;
    f.reason = e.what();
  }
  return f;
}

}  // namespace

std::string_view to_string(HeadSyncOutcome outcome) {
  switch (outcome) {
    case HeadSyncOutcome::first: return "first";
    case HeadSyncOutcome::advanced: return "advanced";
    case HeadSyncOutcome::unchanged: return "unchanged";
    case HeadSyncOutcome::alarm: return "ALARM";
    case HeadSyncOutcome::stopped: return "stopped";
    case HeadSyncOutcome::unreachable: return "unreachable";
    case HeadSyncOutcome::failed: return "failed";
  }
  return "?";
}

std::filesystem::path peer_heads_dir(const config::Config& config) {
  return config.state_dir / "federation" / "peer-heads";
}

int sync_exit_code(const std::vector<PeerHeadSync>& results) {
  int worst = 0;
  for (const PeerHeadSync& r : results) worst = std::max(worst, exit_of(r.outcome));
  return worst;
}

PeerHeadSync sync_peer_head(const config::Config& config, const config::PeerConfig& peer, const SigningKey& key,
                            PeerHeadStore& store, std::uint64_t now_ns) {
  if (now_ns == 0) now_ns = system_ns();
  PeerHeadSync out;
  out.peer = peer.name;
  const std::optional<PeerHeadState> state = store.state(peer.name);
  if (state) out.before = out.kept = state->head;
  if (state && state->stopped) {
    // Nothing a stopped peer says can lift the stop; only the operator's clear-stop does.
    out.outcome = HeadSyncOutcome::stopped;
    out.alarm = state->stopped;
    return out;
  }
  const PeerClient client(config, peer, key);  // BadInput here is our configuration's, so it propagates
  // A plain bool and size rather than optional<uint64_t>: GCC 12 warns (falsely) that the
  // optional's value may be used uninitialised.
  const bool from = out.before.has_value();
  const std::uint64_t from_size = from ? out.before->size : 0;
  Fetched f = fetch(client, from ? "/v1/head?from=" + std::to_string(from_size) : "/v1/head");
  bool denied = false;  // the peer refused to prove from a size it signed
  if (f.response && from && (f.response->status == 404 || f.response->status == 409)) {
    denied = true;
    out.reason = "the peer refused a consistency proof from size " + std::to_string(from_size) + " (" +
                 std::to_string(f.response->status) + ": " + f.response->error() + ")";
    f = fetch(client, "/v1/head");
  }
  if (!f.response) {
    out.outcome = f.failure;
    out.reason = f.reason;
    return out;
  }
  const PeerResponse& r = *f.response;
  if (r.status != 200 || !r.json.is_object() || !r.json.contains("head") ||
      (from && !denied && !r.json.contains("consistency"))) {
    out.outcome = HeadSyncOutcome::failed;
    out.reason = r.status != 200 ? "peer " + peer.name + " refused (" + std::to_string(r.status) + "): " + r.error()
                                 : "peer " + peer.name + " answered without a head" +
                                       std::string(from && !denied ? " and consistency proof" : "");
    return out;
  }
  try {
    out.offered = ledger::head_from_json(r.json["head"], "head from peer " + peer.name);
    SyncResult s = from && !denied ? store.sync_document(peer.name, peer.public_key, r.json["consistency"], now_ns)
                                   : store.sync(peer.name, peer.public_key, *out.offered, {}, now_ns);
    out.outcome = outcome_of(s.status);
    out.kept = s.kept;
    out.alarm = s.alarm;
    if (out.outcome != HeadSyncOutcome::alarm) out.reason.clear();
  } catch (const Error& e) {
    out.outcome = HeadSyncOutcome::failed;
    out.reason = e.what();
  }
  return out;
}

std::vector<PeerHeadSync> sync_peer_heads(const config::Config& config, const SigningKey& key, PeerHeadStore& store,
                                          const std::optional<std::string>& only, std::uint64_t now_ns) {
  if (only && !config::find_peer(config.federation, *only))
    throw_input_error({}, "--peer", "'" + *only + "' is not a configured peer", "`rfarm peers list` shows them");
  std::vector<PeerHeadSync> out;
  for (const config::PeerConfig& p : config.federation.peers)
    if (!only || p.name == *only) out.push_back(sync_peer_head(config, p, key, store, now_ns));
  return out;
}

std::optional<RewriteAlarm> standing_alarm(const config::Config& config, std::string_view peer) {
  if (!valid_peer_name(peer)) return std::nullopt;  // not a peer name: nothing can be kept for it
  const auto s = PeerHeadStore(peer_heads_dir(config)).state(peer);
  return s ? s->stopped : std::nullopt;
}

}  // namespace rfarm::federation
