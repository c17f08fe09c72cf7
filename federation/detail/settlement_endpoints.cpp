#include "federation/detail/settlement_endpoints.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "federation/envelope.h"
#include "federation/netting.h"
#include "federation/pair_ledger.h"
#include "federation/settlement_post.h"
#include "ledger/proof.h"

namespace rfarm::federation::detail {

namespace {

using json = nlohmann::json;
namespace L = rfarm::ledger;

std::optional<Reply> check_params(const Query& q, const std::set<std::string>& allowed) {
  for (const auto& [k, v] : q) {
    if (!allowed.count(k)) return refuse(400, "unknown query parameter '" + k.substr(0, 40) + "'");
    if (q.count(k) > 1) return refuse(400, "query parameter '" + k + "' given twice");
  }
  return std::nullopt;
}

// Refusals of the library calls, with the status a caller can act on: its input (400), a
// mismatch with our books or a failed check (409).
Reply refusal(const Error& e) {
  return refuse(e.kind() == Error::Kind::BadInput ? 400 : e.kind() == Error::Kind::Io ? 503 : 409, e.what());
}

// The record in a request body; nullopt with the reply when it is malformed or not ours to sign.
std::optional<NettingRecord> read_record(const EndpointContext& c, const std::string& body, Reply* reply) {
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *reply = refuse(400, "the body must be a netting record (rfarm-netting-record-v1, JSON)");
    return std::nullopt;
  }
  NettingRecord r;
  try {
    r = netting_from_json(j, "the netting record from " + c.peer.name);
  } catch (const Error& e) {
    *reply = refusal(e);
    return std::nullopt;
  }
  const std::string& us = c.config.federation.name;
  for (const std::string* who : {&c.peer.name, &us}) {
    if (!std::binary_search(r.parties.begin(), r.parties.end(), *who)) {
      *reply = refuse(403, *who + " is not a party to this netting record for " + r.period);
      return std::nullopt;
    }
  }
  return r;
}

}  // namespace

Reply settlement_statement(const EndpointContext& c, const Query& q) {
  if (auto bad = check_params(q, {"period", "with", "from"})) return *bad;
  const auto period = q.find("period");
  if (period == q.end() || !valid_period(period->second)) return refuse(400, "period: required, YYYY-MM (e.g. period=2026-11)");
  const config::PeerConfig* peer = &c.peer;
  if (const auto with = q.find("with"); with != q.end()) {
    peer = nullptr;
    for (const config::PeerConfig& p : c.config.federation.peers)
      if (p.name == with->second) peer = &p;
    if (!peer)
      return refuse(404, "with: " + with->second.substr(0, 64) + " is not a peer of " + c.config.federation.name +
                             " (net the pairs you are in instead)");
  }
  if (!c.key) return refuse(503, "this gateway cannot sign statements");
  try {
    // The statement first, then the head: every charge it lists is inside the head.
    const PairLedgerStatement st = build_pair_statement(c.ledger, c.config, *peer, period->second, *c.key);
    const auto h = c.ledger.head();
    if (!h) return refuse(503, "this cluster's ledger has no signed head yet");
    json proofs = json::object();
    for (const auto& [id, event] : st.charge_events) proofs[id] = L::to_json(c.ledger.prove_inclusion(event, h->size));
    json out = {{"statement", to_json(st.statement)},
                {"account", st.account},
                {"account_id", st.account_id},
                {"head", L::head_to_json(*h)},
                {"proofs", proofs}};
    if (const auto from = q.find("from"); from != q.end()) {
      const auto n = parse_u64(from->second);
      if (!n) return refuse(400, "from: not a tree size (a whole number)");
      if (*n > h->size) return refuse(409, "from: size " + from->second + " is beyond the head's " + std::to_string(h->size));
      if (!c.ledger.head_at(*n)) return refuse(404, "from: no head of size " + from->second + " was signed here");
      out["consistency"] = L::to_json(c.ledger.prove_consistency(*n, h->size));
    }
    return {200, out};
  } catch (const Error& e) {
    return refusal(e);
  }
}

Reply settlement_sign(const EndpointContext& c, const Query& q, const std::string& body) {
  if (auto bad = check_params(q, {})) return *bad;
  if (!c.key) return refuse(503, "this gateway cannot sign");
  Reply reply;
  const auto r = read_record(c, body, &reply);
  if (!r) return reply;
  try {
    check_record_against_ledger(c.ledger, c.config, *r, *c.key);
  } catch (const Error& e) {
    return refusal(e);
  }
  return {200,
          {{"party", c.config.federation.name},
           {"signature", c.key->sign(netting_signed_text(*r)).hex()},
           {"digest", sha256(netting_message(*r)).hex()}}};
}

Reply settlement_post(const EndpointContext& c, const Query& q, const std::string& body) {
  if (auto bad = check_params(q, {})) return *bad;
  if (!c.key || !c.open_writer || !*c.open_writer) return refuse(503, "this gateway cannot write its ledger");
  Reply reply;
  const auto r = read_record(c, body, &reply);
  if (!r) return reply;
  try {
    L::Ledger writer = (*c.open_writer)();
    const PostOutcome o = post_netting(writer, c.config, *r, *c.key);
    return {200,
            {{"party", c.config.federation.name},
             {"transfers", o.transfers},
             {"already_posted", o.already_posted},
             {"digest", o.digest}}};
  } catch (const Error& e) {
    return refusal(e);
  }
}

}  // namespace rfarm::federation::detail
