#include "federation/remote_settlement.h"

#include <variant>

#include "core/atomic_file.h"
#include "core/error.h"
#include "federation/client.h"
#include "federation/head_sync.h"
#include "federation/remote_backend.h"
#include "federation/remote_verify.h"
#include "federation/reroute.h"
#include "ledger/event.h"
#include "ledger/proof.h"
#include "scheduler/plan.h"

namespace rfarm::federation {

namespace S = rfarm::scheduler;
namespace L = rfarm::ledger;
using json = nlohmann::json;

namespace {

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error(Error::Kind::Integrity, where + ": " + what);
}

std::uint64_t json_u64(const json& j, const char* key, const std::string& where) {
  // A non-negative integer (nlohmann keeps small values it parsed or was given as signed).
  if (!j.contains(key) || !j[key].is_number_integer() || (!j[key].is_number_unsigned() && j[key].get<std::int64_t>() < 0))
    bad(where, std::string("'") + key + "' missing or not a whole number");
  return j[key].get<std::uint64_t>();
}

}  // namespace

std::string origin_for(const std::string& requester, const Id128& hold) { return "fed:" + requester + ":" + hold.hex(); }

std::string reference_for(const std::string& provider, const PeerCharge& c) {
  return "fed:" + provider + ":" + c.transfer.hex() + ":" + std::to_string(c.timestamp_ns);
}

std::filesystem::path charge_proof_path(const std::filesystem::path& state_dir, std::int64_t job) {
  return state_dir / "federation" / "charges" / ("job-" + std::to_string(job) + ".json");
}

PeerCharge check_peer_charge(const json& a, const config::PeerConfig& peer, const L::SignedHead& kept,
                             const std::string& expected_origin, Amount hold) {
  const std::string where = "peer " + peer.name + "'s charge";
  if (!a.is_object() || !a.contains("charged") || !a["charged"].is_boolean()) bad(where, "not a charge answer");
  PeerCharge c;
  c.charged = a["charged"].get<bool>();
  if (!c.charged) {
    if (json_u64(a, "cost_units", where) != 0) bad(where, "says nothing was charged but states a cost");
    return c;
  }
  if (!a.contains("transfer_id") || !a["transfer_id"].is_string()) bad(where, "'transfer_id' missing");
  const auto id = Id128::from_hex(a["transfer_id"].get<std::string>());
  if (!id) bad(where, "'transfer_id' is not a transfer id");
  c.transfer = *id;
  c.amount = Amount(json_u64(a, "amount_units", where));
  c.timestamp_ns = json_u64(a, "timestamp_ns", where);
  c.event = json_u64(a, "event", where);
  if (!a.contains("proof") || !a["proof"].is_object()) bad(where, "'proof' missing");
  c.proof = a["proof"];
  // 1. The proof holds under the peer's key (head signature, then the Merkle path).
  try {
    L::verify_proof_document(c.proof, peer.public_key, where + " proof");
  } catch (const Error& e) {
    bad(where, std::string("its inclusion proof does not verify: ") + e.what());
  }
  // 2. ...against the very head we keep for the peer (consistent with all we kept before).
  const L::SignedHead head = L::head_from_json(c.proof.at("head"), where + " proof head");
  if (head.size != kept.size || head.root != kept.root)
    bad(where, "proven against a head (size " + std::to_string(head.size) + ", root " + head.root.hex() +
                   ") that is not the one kept for the peer (size " + std::to_string(kept.size) + ", root " + kept.root.hex() + ")");
  if (json_u64(c.proof, "index", where + " proof") != c.event) bad(where, "the proof is for another event than the one stated");
  // 3. The proven event is the charge as stated, for our hold.
  const L::Event ev = L::decode_event(c.proof.at("event").get<std::string>(), c.event);
  const auto* te = std::get_if<L::TransferEvent>(&ev.body);
  if (!te) bad(where, "event #" + std::to_string(c.event) + " is not a transfer");
  const L::Transfer& t = te->transfer;
  if (t.id != c.transfer) bad(where, "the proven transfer is " + t.id.hex() + ", not the stated " + c.transfer.hex());
  if (t.flags != L::transfer_flags::post_pending || t.code != L::TransferCode::charge)
    bad(where, "the proven transfer is not the post of a hold (a charge)");
  if (t.amount != c.amount)
    bad(where, "the proven amount is " + std::to_string(t.amount.units) + ", not the stated " + std::to_string(c.amount.units));
  if (ev.timestamp != c.timestamp_ns && t.timestamp != c.timestamp_ns)
    bad(where, "the proven time differs from the stated one");
  if (t.user_data.usage != expected_origin)
    bad(where, "the proven charge names '" + t.user_data.usage + "', not this job's hold ('" + expected_origin + "')");
  if (c.amount.units == 0 || c.amount > hold)
    bad(where, "charges " + std::to_string(c.amount.units) + " base units, more than the " + std::to_string(hold.units) +
                   " held here for the job: not settled, for the operators to resolve");
  return c;
}

ProvenCharge prove_peer_charge(const config::Config& config, const SigningKey& key, const config::PeerConfig& peer,
                               std::int64_t remote_job, const std::string& origin, Amount bound, S::JobStore& store,
                               std::int64_t id) {
  // 1. The peer's head, checked for consistency with what we kept.
  PeerHeadStore heads(peer_heads_dir(config));
  const PeerHeadSync sync = sync_peer_head(config, peer, key, heads);
  if (sync.outcome == HeadSyncOutcome::alarm || sync.outcome == HeadSyncOutcome::stopped)
    throw Error(Error::Kind::Refused, "peer " + peer.name + " is stopped (" +
                                          (sync.alarm ? sync.alarm->message() : sync.reason) +
                                          "): its charge for job " + std::to_string(id) + " is not settled");
  if (sync.outcome == HeadSyncOutcome::unreachable)
    throw Error(Error::Kind::Io, "peer " + peer.name + " is unreachable (" + sync.reason + "); the hold stays open");
  if (!sync.kept) throw Error(Error::Kind::Io, "peer " + peer.name + ": no head could be checked (" + sync.reason + ")");
  // 2. Its charge, proven against that head.
  const PeerClient client(config, peer, key);
  const PeerResponse r = client.call("GET", "/v1/jobs/" + std::to_string(remote_job) + "/charge?size=" + std::to_string(sync.kept->size));
  if (r.status == 409) return {false, {}, 0, r.error()};
  if (r.status != 200) throw Error(Error::Kind::Io, "peer " + peer.name + ": charge of its job " + std::to_string(remote_job) + ": " + r.error());
  // 3. Checked: a failure is a dispute, kept as the job's message; nothing is posted.
  PeerCharge charge;
  try {
    charge = check_peer_charge(r.json, peer, *sync.kept, origin, bound);
  } catch (const Error& e) {
    store.set_message(id, std::string("DISPUTE, not settled: ") + e.what());
    throw;
  }
  return {true, std::move(charge), sync.kept->size, {}};
}

RemoteSettleResult settle_remote_job(const config::Config& config, const SigningKey& key, S::JobStore& store,
                                     S::Escrow& escrow, std::int64_t id) {
  const S::JobRecord j = store.get(id);
  if (j.peer_due) {
    const OwedSettleResult r = settle_owed_peer_charge(config, key, store, escrow, id);
    return {r.outcome == OwedSettleOutcome::paid ? RemoteSettleOutcome::settled : RemoteSettleOutcome::waiting, r.message};
  }
  if (!j.hold) return {RemoteSettleOutcome::nothing, j.message};
  const auto ref = parse_remote_ref(j.backend_id);
  if (j.backend != kRemoteBackendName || !ref)
    throw Error(Error::Kind::BadInput, "job " + std::to_string(id) + " was not routed to a peer");
  const config::PeerConfig& peer = configured_peer(config, ref->peer);
  if (j.verify_state == S::State::Failed || !failed_frames(store, id).empty()) {
    // Its outputs failed our checks (fetch_remote_outputs), or our verifier failed a frame
    // (remote_verify.h: the peer's stake here was slashed for it): the user pays nothing, and we do not
    // pay the peer; a charge it made stays on its side only, so the period's settlement between
    // the clusters names it as a disagreement for the operators.
    escrow.void_hold(*j.hold);
    store.set_hold(id, std::nullopt);
    const std::string m = j.message + "; the hold was released and peer " + peer.name + " is not paid (disputed)";
    store.set_message(id, m);
    return {RemoteSettleOutcome::settled, m};
  }
  const ProvenCharge proven = prove_peer_charge(config, key, peer, ref->job, origin_for(config.federation.name, j.hold->id),
                                                j.quote.total, store, id);
  if (!proven.ready) {
    const std::string m = "rendered by peer " + peer.name + "; waiting for its charge: " + proven.waiting;
    store.set_message(id, m);
    return {RemoteSettleOutcome::waiting, m};
  }
  const PeerCharge& charge = proven.charge;
  // 4. The user's hold: the peer's charge to our account for it; the rest released.
  if (!charge.charged) {
    escrow.void_hold(*j.hold);
  } else {
    write_file_atomically(charge_proof_path(store.path().parent_path(), id), charge.proof.dump(2) + "\n");
    S::Settlement s;
    s.provider = peer.account;
    s.provider_share = charge.amount;
    s.reference = reference_for(peer.name, charge);
    escrow.post(*j.hold, s);
  }
  store.set_cost(id, charge.amount);
  store.set_hold(id, std::nullopt);
  const std::string m = charge.charged
                            ? "settled: peer " + peer.name + " charged " + S::format_tokens(charge.amount, config) +
                                  " (its event #" + std::to_string(charge.event) + ", proven against its head of size " +
                                  std::to_string(proven.head_size) + "), paid to " + peer.account + "; the rest of the hold released"
                            : "settled: peer " + peer.name + " charged nothing; the hold was released";
  store.set_message(id, m);
  return {RemoteSettleOutcome::settled, m};
}

void cancel_remote_job(const config::Config& config, const SigningKey& key, S::JobStore& store, S::Escrow& escrow,
                       std::int64_t id) {
  const S::JobRecord j = store.get(id);
  if (j.state == S::State::Cancelled) throw Error(Error::Kind::Refused, "job " + std::to_string(id) + " is already cancelled");
  const auto ref = parse_remote_ref(j.backend_id);
  RemoteBackend backend(config, key, ref ? ref->peer : "");
  backend.cancel(store, id);
  if (!store.get(id).hold) return;
  try {
    settle_remote_job(config, key, store, escrow, id);
  } catch (const Error& e) {
    // The cancel stands; the settlement is retried by rfarm settle / show.
    store.set_message(id, store.get(id).message + "; not settled yet: " + e.what());
  }
}

}  // namespace rfarm::federation
