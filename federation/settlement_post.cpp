#include "federation/settlement_post.h"

#include <algorithm>

#include "core/error.h"
#include "federation/pair_ledger.h"

namespace rfarm::federation {

namespace L = rfarm::ledger;

KeyMap party_keys(const config::Config& config) {
  KeyMap keys;
  keys[config.federation.name] = SigningKey::load(config.federation.signing_key).public_key();
  for (const config::PeerConfig& p : config.federation.peers) keys[p.name] = p.public_key;
  return keys;
}

namespace {

const config::PeerConfig& peer_named(const config::Config& config, const std::string& name, const std::string& period) {
  for (const config::PeerConfig& p : config.federation.peers)
    if (p.name == name) return p;
  throw_input_error({"netting record for " + period}, "pairs",
                    name + " is not a configured peer of " + config.federation.name,
                    "only peers net with this cluster: add it with `rfarm peers add` first");
}

}  // namespace

void check_record_against_ledger(L::Ledger& ledger, const config::Config& config, const NettingRecord& r,
                                 const SigningKey& key) {
  const std::string& us = config.federation.name;
  const std::string where = "netting record for " + r.period;
  if (r.token != statement_token(config))
    throw Error(Error::Kind::Refused, where + ": token " + r.token + " is not " + us + "'s " + statement_token(config));
  if (!std::binary_search(r.parties.begin(), r.parties.end(), us))
    throw Error(Error::Kind::Refused, where + ": " + us + " is not one of its parties");
  check_netting_arithmetic(r);
  for (const PairTotal& t : r.pairs) {
    if (t.a != us && t.b != us) continue;  // another pair: its two parties check it
    const std::string& other = t.a == us ? t.b : t.a;
    const PairLedgerStatement mine = build_pair_statement(ledger, config, peer_named(config, other, r.period), r.period, key);
    Amount we_owe, they_owe;
    for (const StatementEntry& e : mine.statement.entries) {
      Amount& sum = e.debtor == us ? we_owe : they_owe;
      sum = add(sum, e.amount, "statement total");
    }
    const Amount a_owes_b = t.a == us ? we_owe : they_owe, b_owes_a = t.a == us ? they_owe : we_owe;
    if (entries_digest(mine.statement) != t.digest || mine.statement.entries.size() != t.entries ||
        a_owes_b != t.a_owes_b || b_owes_a != t.b_owes_a)
      throw Error(Error::Kind::Refused,
                  where + ": the pair " + t.a + "/" + t.b + " does not match " + us + "'s own statement with " + other +
                      " (record: " + std::to_string(t.entries) + " entries, " + t.a + " owes " +
                      std::to_string(t.a_owes_b.units) + ", " + t.b + " owes " + std::to_string(t.b_owes_a.units) +
                      ", digest " + t.digest.hex() + "; " + us + "'s ledger: " +
                      std::to_string(mine.statement.entries.size()) + " entries, " + t.a + " owes " +
                      std::to_string(a_owes_b.units) + ", " + t.b + " owes " + std::to_string(b_owes_a.units) +
                      ", digest " + entries_digest(mine.statement).hex() + ")");
  }
}

PostOutcome post_netting(L::Ledger& l, const config::Config& config, const NettingRecord& r, const SigningKey& key) {
  verify_netting(r, party_keys(config));
  check_record_against_ledger(l, config, r, key);
  const std::string& us = config.federation.name;
  PostOutcome out;
  out.digest = sha256(netting_message(r)).hex();

  // The clearing account, created on first use (a deterministic id: two gateways racing to create
  // it create one account).
  Id128 clearing;
  if (const auto a = l.storage().find_account_by_name(kClearingAccount)) {
    clearing = a->id;
  } else {
    const L::NewAccount acct{Id128::derived(std::string("rfarm-account:") + kClearingAccount), kClearingAccount,
                             L::AccountKind::escrow, "federation", 0};
    const auto res = l.create_accounts(std::span(&acct, 1));
    if (res[0] != L::AccountResult::ok && res[0] != L::AccountResult::exists)
      throw Error(Error::Kind::Refused, std::string("cannot create the ledger account ") + kClearingAccount + ": " +
                                            std::string(L::to_string(res[0])));
    clearing = acct.id;
  }
  const L::UserData ud{"federation-settle:" + r.period, "", "netting:" + out.digest};
  const auto id = [&](const char* kind, const std::string& from, const std::string& to) {
    return Id128::derived("rfarm-settlement-transfer-v1\n" + r.token + "\n" + r.period + "\n" + us + "\n" + kind + "\n" +
                          from + "\n" + to + "\n");
  };
  std::vector<L::TransferRequest> batch;
  std::vector<std::string> what;
  for (const PairTotal& t : r.pairs) {
    if (t.a != us && t.b != us) continue;
    const std::string& other = t.a == us ? t.b : t.a;
    const Amount due = t.a == us ? t.b_owes_a : t.a_owes_b;
    const Amount owed = t.a == us ? t.a_owes_b : t.b_owes_a;
    if (due.units == 0 && owed.units == 0) continue;
    const std::string& account_name = peer_named(config, other, r.period).account;
    const auto account = l.storage().find_account_by_name(account_name);
    if (!account)
      throw Error(Error::Kind::Refused, "no ledger account " + account_name + " for peer " + other + " on " + us);
    // Credit first: the peer's account may be drawn down by its own charges.
    if (due.units) {
      batch.push_back(L::single(id("clear", other, us), clearing, account->id, due, L::TransferCode::settle, ud));
      what.push_back("clear what " + other + " owes");
    }
    if (owed.units) {
      batch.push_back(L::single(id("clear", us, other), account->id, clearing, owed, L::TransferCode::settle, ud));
      what.push_back("clear what " + us + " owes " + other);
    }
  }
  for (const Payment& p : r.payments) {
    if (p.from == us) {
      batch.push_back(L::single(id("pay", us, p.to), clearing, l.issuer(), p.amount, L::TransferCode::settle, ud));
      what.push_back("payment to " + p.to);
    } else if (p.to == us) {
      batch.push_back(L::single(id("pay", p.from, us), l.issuer(), clearing, p.amount, L::TransferCode::settle, ud));
      what.push_back("payment from " + p.from);
    }
  }
  out.transfers = batch.size();
  if (batch.empty()) {
    out.already_posted = false;
    return out;
  }
  const auto results = l.submit(batch);
  std::size_t existed = 0;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] == L::TransferResult::exists) ++existed;
    if (results[i] == L::TransferResult::exists_with_different_fields)
      throw Error(Error::Kind::Refused, "netting record " + out.digest + " for " + r.period + ": " + us +
                                            " already posted a different netting record for this period (transfer " +
                                            batch[i].id.hex() + ", " + what[i] + "); a period is cleared once");
    if (results[i] != L::TransferResult::ok && results[i] != L::TransferResult::exists &&
        results[i] != L::TransferResult::batch_failed)
      throw Error(Error::Kind::Refused, "netting record for " + r.period + ": " + us + "'s ledger refused the " + what[i] +
                                            " (transfer " + batch[i].id.hex() + "): " +
                                            std::string(L::to_string(results[i])) + "; nothing was posted");
  }
  out.already_posted = existed == results.size();
  return out;
}

}  // namespace rfarm::federation
