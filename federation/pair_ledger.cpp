#include "federation/pair_ledger.h"

#include <charconv>
#include <limits>
#include <map>
#include <set>

#include "core/error.h"
#include "federation/envelope.h"
#include "federation/limits.h"
#include "ledger/event.h"
#include "ledger/proof.h"
#include "ledger/statement.h"

namespace rfarm::federation {

namespace L = rfarm::ledger;

std::string statement_token(const config::Config& config) {
  return config.token.symbol + "/" + std::to_string(config.token.decimals);
}

std::pair<std::uint64_t, std::uint64_t> period_window(std::string_view period, std::string_view field) {
  if (!valid_period(period))
    throw_input_error({}, field, "\"" + std::string(period) + "\" is not YYYY-MM", "use e.g. 2026-11");
  const int year = std::stoi(std::string(period.substr(0, 4)));
  const int month = std::stoi(std::string(period.substr(5, 2)));
  char next[32];
  std::snprintf(next, sizeof next, "%04d-%02d-01", month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1);
  return {L::parse_utc_time(std::string(period) + "-01", field), L::parse_utc_time(next, field)};
}

namespace {

// "fed:<peer>:<32 hex>:<ns>" -> (id hex, ns). nullopt when the usage is about another peer.
std::optional<std::pair<std::string, std::uint64_t>> fed_reference(const L::Transfer& t, std::string_view peer) {
  const std::string prefix = "fed:" + std::string(peer) + ":";
  const std::string& u = t.user_data.usage;
  if (u.rfind(prefix, 0) != 0) return std::nullopt;
  const std::string_view rest = std::string_view(u).substr(prefix.size());
  const auto colon = rest.find(':');
  std::uint64_t ts = 0;
  const std::string_view id = rest.substr(0, colon);
  const std::string_view ts_text = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  const auto [end, ec] = std::from_chars(ts_text.data(), ts_text.data() + ts_text.size(), ts);
  const bool ok = colon == 32 && Id128::from_hex(id) && !ts_text.empty() && ec == std::errc() &&
                  end == ts_text.data() + ts_text.size();
  if (!ok)
    throw_input_error({"ledger transfer " + t.id.hex()}, "user_data.usage",
                      "\"" + u + "\" is not fed:" + std::string(peer) + ":<32 hex charge id>:<timestamp ns>",
                      "this settle transfer does not follow the settlement contract; correct it with a reversing transfer");
  return std::pair{std::string(id), ts};
}

}  // namespace

PairLedgerStatement build_pair_statement(L::Ledger& ledger, const config::Config& config, const config::PeerConfig& peer,
                                         std::string_view period, const SigningKey& key) {
  const auto [start, end] = period_window(period);
  const std::string& us = config.federation.name;
  PairLedgerStatement out;
  PairStatement& s = out.statement;
  s.period = std::string(period);
  s.token = statement_token(config);
  s.signer = us;
  s.peer = peer.name;
  if (const auto account = ledger.storage().find_account_by_name(peer.account)) {
    out.account = account->name;
    out.account_id = account->id.hex();
    // One pass over the account's whole posted history: the requester settles a charge after the
    // provider made it (its settle may fall in a later month, or even earlier by a skewed clock),
    // so its entries are chosen by the provider's timestamp in the usage reference, not by its own.
    const L::Statement st = L::make_statement(ledger.storage(), *account, 0, std::numeric_limits<std::uint64_t>::max());
    for (const L::StatementLine& line : st.lines) {
      const L::Transfer& t = line.transfer;
      if (!line.credit && (t.flags & L::transfer_flags::post_pending) && t.code == L::TransferCode::charge &&
          t.timestamp >= start && t.timestamp < end) {
        s.entries.push_back({t.id.hex(), peer.name, us, t.amount});
        out.charge_events[t.id.hex()] = t.event;
      } else if (line.credit && t.code == L::TransferCode::settle) {
        const auto ref = fed_reference(t, peer.name);
        if (ref && ref->second >= start && ref->second < end) s.entries.push_back({ref->first, us, peer.name, t.amount});
      }
      if (s.entries.size() > kMaxStatementLines)
        throw Error(Error::Kind::Refused, "the statement of " + us + " for " + peer.name + " for " + std::string(period) +
                                              " has more than " + std::to_string(kMaxStatementLines) +
                                              " entries (the gateway's limit per statement)");
    }
  }
  out.statement = sign_statement(std::move(s), key);
  return out;
}

PeerExposure peer_exposure(L::Ledger& ledger, const config::PeerConfig& peer) {
  PeerExposure out;
  const auto account = ledger.storage().find_account_by_name(peer.account);
  if (!account) return out;
  const auto period_of = [](std::uint64_t ns) { return L::format_utc_time(ns).substr(0, 7); };  // YYYY-MM (UTC)
  std::map<std::string, std::pair<Amount, Amount>, std::less<>> by_period;  // period -> (due to us, owed by us)
  std::set<std::string, std::less<>> cleared;
  constexpr std::string_view kSettleJob = "federation-settle:";
  const L::Statement st = L::make_statement(ledger.storage(), *account, 0, std::numeric_limits<std::uint64_t>::max());
  for (const L::StatementLine& line : st.lines) {
    const L::Transfer& t = line.transfer;
    if (!line.credit && (t.flags & L::transfer_flags::post_pending) && t.code == L::TransferCode::charge) {
      Amount& due = by_period[period_of(t.timestamp)].first;
      due = add(due, t.amount, "peer exposure");
    } else if (t.code == L::TransferCode::settle && t.user_data.job.rfind(kSettleJob, 0) == 0) {
      cleared.insert(t.user_data.job.substr(kSettleJob.size()));
    } else if (line.credit && t.code == L::TransferCode::settle) {
      if (const auto ref = fed_reference(t, peer.name)) {
        Amount& owed = by_period[period_of(ref->second)].second;
        owed = add(owed, t.amount, "peer exposure");
      }
    }
  }
  Amount due, owed;
  for (const auto& [period, amounts] : by_period) {
    if (cleared.contains(period)) continue;
    due = add(due, amounts.first, "peer exposure");
    owed = add(owed, amounts.second, "peer exposure");
  }
  out.unsettled = due > owed ? Amount(due.units - owed.units) : Amount();
  out.held = account->debits_pending;
  out.total = add(out.unsettled, out.held, "peer exposure");
  return out;
}

void check_charge_proofs(const PairStatement& s, const nlohmann::json& proofs, std::string_view account_id,
                         const L::SignedHead& head, const PublicKey& signer_key) {
  for (const StatementEntry& e : s.entries) {
    if (e.creditor != s.signer) continue;  // the peer's settle of our charge: proven by our own log
    const std::string where = "entry " + e.id + " of " + s.signer + "'s statement for " + s.peer;
    const auto fail = [&](const std::string& what) {
      throw Error(Error::Kind::Integrity, where + ": " + what + " (refused: the entry is not proven by " + s.signer +
                                              "'s signed log)");
    };
    if (!proofs.is_object() || !proofs.contains(e.id)) fail("no inclusion proof");
    const nlohmann::json& doc = proofs[e.id];
    try {
      L::verify_proof_document(doc, signer_key, where);
    } catch (const Error& err) {
      fail(err.what());
    }
    if (doc.value("format", "") != "rfarm-inclusion-proof-v1") fail("the proof is not an inclusion proof");
    if (!(L::head_from_json(doc["head"], where) == head)) fail("the proof is against another head than the statement's");
    L::Event ev;
    try {
      ev = L::decode_event(doc["event"].get<std::string>(), doc["index"].get<std::uint64_t>());
    } catch (const Error& err) {
      fail(err.what());
    }
    const auto* te = std::get_if<L::TransferEvent>(&ev.body);
    if (!te) fail("the proven event is not a transfer");
    const L::Transfer& t = te->transfer;
    if (t.id.hex() != e.id) fail("the proven event is transfer " + t.id.hex());
    if (!(t.flags & L::transfer_flags::post_pending) || t.code != L::TransferCode::charge)
      fail("the proven transfer is not a posted charge");
    if (t.amount != e.amount)
      fail("the proven charge is " + std::to_string(t.amount.units) + " base units, the entry says " +
           std::to_string(e.amount.units));
    if (t.debit_account.hex() != account_id) fail("the proven charge debits account " + t.debit_account.hex() + ", not " +
                                                  std::string(account_id) + " (the account kept for " + s.peer + ")");
  }
}

}  // namespace rfarm::federation
