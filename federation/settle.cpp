#include "federation/settle.h"

#include <chrono>
#include <map>

#include "core/error.h"
#include "federation/client.h"
#include "federation/pair_ledger.h"
#include "federation/settlement_post.h"
#include "ledger/tree_head.h"

namespace rfarm::federation {

namespace {

using json = nlohmann::json;
namespace L = rfarm::ledger;

std::uint64_t system_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// A 2xx answer or Error(Refused) with the peer's reason; `not_found` is set instead of throwing on
// a 404 when the caller can act on it.
PeerResponse must_answer(const PeerClient& client, const std::string& method, const std::string& target,
                         const std::string& body = "", bool* not_found = nullptr) {
  PeerResponse r = client.call(method, target, body);
  if (r.status == 404 && not_found) {
    *not_found = true;
    return r;
  }
  if (r.status != 200)
    throw Error(Error::Kind::Refused, "peer " + client.peer().name + " refused " + method + " " + target + " (" +
                                          std::to_string(r.status) + "): " + r.error());
  return r;
}

struct Fetcher {
  const config::Config& config;
  const SigningKey& key;
  PeerHeadStore& heads;
  std::string period;
  std::uint64_t now_ns;

  // Peer P's statement with `with` (P's own with us when `with` is us), checked as settle.h says.
  // nullopt when P answered 404 to a ?with= request (`with` is not a peer of P).
  std::optional<PairStatement> fetch(const config::PeerConfig& p, const std::string& with) {
    const std::string& us = config.federation.name;
    PeerClient client(config, p, key);
    const auto kept = heads.state(p.name);
    std::string target = "/v1/settlement/statement?period=" + period;
    if (with != us) target += "&with=" + with;
    if (kept && kept->head) target += "&from=" + std::to_string(kept->head->size);
    bool not_found = false;
    const PeerResponse r = must_answer(client, "GET", target, "", with != us ? &not_found : nullptr);
    if (not_found) return std::nullopt;
    const std::string where = "the statement of " + p.name + " for " + with;
    if (!r.json.is_object() || !r.json.contains("statement") || !r.json.contains("head"))
      throw Error(Error::Kind::Integrity, where + ": the answer has no statement or head");
    PairStatement s = statement_from_json(r.json["statement"], where);
    if (s.signer != p.name || s.peer != with || s.period != period)
      throw Error(Error::Kind::Integrity, where + ": it is signed as " + s.signer + "'s for " + s.peer + " in " + s.period);
    const L::SignedHead head = L::head_from_json(r.json["head"], where + " head");
    if (head.cluster != p.name || !L::verify_head(p.public_key, head))
      throw Error(Error::Kind::Integrity, where + ": its head is not signed by " + p.name + "'s key");
    if (kept && kept->head) {
      if (!r.json.contains("consistency"))
        throw Error(Error::Kind::Integrity, where + ": no consistency proof from the kept head of size " +
                                                std::to_string(kept->head->size));
      const SyncResult sr = heads.sync_document(p.name, p.public_key, r.json["consistency"], now_ns);
      if (sr.status == SyncStatus::alarm || sr.status == SyncStatus::stopped)
        throw Error(Error::Kind::Integrity, where + ": " + (sr.alarm ? sr.alarm->message() : std::string("rewrite alarm")));
      if (!sr.kept || sr.kept->size != head.size || sr.kept->root != head.root)
        throw Error(Error::Kind::Integrity, where + ": the consistency proof does not end at the statement's head");
    }
    check_charge_proofs(s, r.json.value("proofs", json::object()), r.json.value("account_id", ""), head, p.public_key);
    return s;
  }
};

const config::PeerConfig& peer_of(const config::Config& c, const std::string& name) {
  for (const config::PeerConfig& p : c.federation.peers)
    if (p.name == name) return p;
  throw Error(Error::Kind::Internal, "settle: " + name + " is not a peer");
}

}  // namespace

bool SettleReport::settled() const {
  if (!disagreements.empty() || records.empty()) return false;
  for (const PartyPost& p : posts)
    if (!p.ok) return false;
  return true;
}

SettleReport settle_period(const config::Config& config, L::Ledger& ledger, const SigningKey& key, PeerHeadStore& heads,
                           std::string_view period, std::uint64_t now_ns) {
  period_window(period, "--period");
  const std::string& us = config.federation.name;
  const auto& peers = config.federation.peers;
  if (peers.empty())
    throw_input_error({}, "federation.peers", "no peers to settle with", "add one with `rfarm peers add`");
  for (const config::PeerConfig& p : peers)
    if (heads.stopped(p.name))
      throw Error(Error::Kind::Refused, "peer " + p.name + " is stopped by a rewrite alarm (see `rfarm federation alarms`): "
                                        "its ledger history is in doubt, so nothing is settled");
  SettleReport rep;
  rep.period = std::string(period);
  Fetcher f{config, key, heads, rep.period, now_ns ? now_ns : system_ns()};
  const KeyMap keys = party_keys(config);
  const std::string token = statement_token(config);

  // Step 1: the pairs we are in, both sides.
  std::vector<PairStatement> ours, theirs;
  for (const config::PeerConfig& p : peers) {
    ours.push_back(build_pair_statement(ledger, config, p, period, key).statement);
    theirs.push_back(*f.fetch(p, us));
  }
  // The pairs between peers, when every two of them are peers of each other.
  std::vector<PairStatement> between;
  for (std::size_t i = 0; i < peers.size() && rep.multilateral; ++i) {
    for (std::size_t j = 0; j < peers.size() && rep.multilateral; ++j) {
      if (i == j) continue;
      auto s = f.fetch(peers[i], peers[j].name);
      if (!s) {
        rep.multilateral = false;
        rep.note = peers[j].name + " is not a peer of " + peers[i].name +
                   ": netted only the pairs " + us + " is in, one bilateral record per peer";
      } else {
        between.push_back(std::move(*s));
      }
    }
  }

  // Step 2: net.
  std::vector<NettingInput> inputs;
  if (rep.multilateral) {
    NettingInput in{rep.period, token, {}, keys};
    for (auto* v : {&ours, &theirs, &between})
      for (PairStatement& s : *v) in.statements.push_back(std::move(s));
    inputs.push_back(std::move(in));
  } else {
    for (std::size_t i = 0; i < peers.size(); ++i) inputs.push_back({rep.period, token, {ours[i], theirs[i]}, keys});
  }
  for (const NettingInput& in : inputs) {
    NettingOutcome o = net_statements(in);
    for (PairDisagreement& d : o.disagreements) rep.disagreements.push_back(std::move(d));
    if (o.record) rep.records.push_back(std::move(*o.record));
  }
  if (!rep.disagreements.empty()) {
    rep.records.clear();  // one disagreement settles nothing, anywhere
    return rep;
  }

  // Step 3: every party signs every record before anyone posts.
  for (NettingRecord& r : rep.records) {
    for (const std::string& party : r.parties) {
      if (party == us) {
        sign_netting(r, us, key);
        continue;
      }
      PeerClient client(config, peer_of(config, party), key);
      const PeerResponse resp = must_answer(client, "POST", "/v1/settlement/sign", to_json(r).dump());
      const auto sig = Signature::from_hex(resp.json.value("signature", ""));
      if (!sig || !verify(peer_of(config, party).public_key, netting_signed_text(r), *sig))
        throw Error(Error::Kind::Integrity, "peer " + party + " answered the netting record for " + rep.period +
                                                " with a signature that does not verify with its key");
      r.signatures[party] = *sig;
    }
    verify_netting(r, keys);
  }

  // Step 4: every party posts; a failure is reported (the rest still post: posting is idempotent,
  // so running settle again completes it).
  for (const NettingRecord& r : rep.records) {
    for (const std::string& party : r.parties) {
      PartyPost pp;
      pp.party = party;
      try {
        if (party == us) {
          const PostOutcome o = post_netting(ledger, config, r, key);
          pp.transfers = o.transfers;
          pp.already_posted = o.already_posted;
        } else {
          PeerClient client(config, peer_of(config, party), key);
          const PeerResponse resp = must_answer(client, "POST", "/v1/settlement/post", to_json(r).dump());
          pp.transfers = resp.json.value("transfers", std::size_t{0});
          pp.already_posted = resp.json.value("already_posted", false);
        }
        pp.ok = true;
      } catch (const Error& e) {
        pp.error = e.what();
      }
      rep.posts.push_back(std::move(pp));
    }
  }
  return rep;
}

json to_json(const SettleReport& rep) {
  json records = json::array(), dis = json::array(), posts = json::array();
  for (const NettingRecord& r : rep.records) {
    json j = to_json(r);
    j["digest"] = sha256(netting_message(r)).hex();
    records.push_back(std::move(j));
  }
  const auto entry = [](const std::optional<StatementEntry>& e) {
    return e ? json{{"debtor", e->debtor}, {"creditor", e->creditor}, {"amount", e->amount.units}} : json(nullptr);
  };
  for (const PairDisagreement& d : rep.disagreements) {
    json entries = json::array();
    for (const EntryDifference& e : d.entries) entries.push_back({{"id", e.id}, {"by_a", entry(e.by_a)}, {"by_b", entry(e.by_b)}});
    dis.push_back({{"a", d.a}, {"b", d.b}, {"reason", d.reason}, {"message", d.message()}, {"entries", entries}});
  }
  for (const PartyPost& p : rep.posts)
    posts.push_back({{"party", p.party}, {"ok", p.ok}, {"already_posted", p.already_posted}, {"transfers", p.transfers},
                     {"error", p.error}});
  return {{"period", rep.period}, {"mode", rep.multilateral ? "multilateral" : "bilateral"}, {"note", rep.note},
          {"settled", rep.settled()}, {"records", records}, {"disagreements", dis}, {"posts", posts}};
}

}  // namespace rfarm::federation
