#include "federation/netting.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <exception>
#include <thread>

#include "core/error.h"
#include "federation/peer_heads.h"
#include "ledger/limits.h"

namespace rfarm::federation {

namespace {

using json = nlohmann::json;
__extension__ typedef __int128 i128;  // signed sums of up to 1000 values < 2^63 fit

void append_u64(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Runs fn(i) for every i in [0, n) on up to hardware_concurrency() threads (statement checks are
// independent: mostly Ed25519 verifications and SHA-256 of entry lines). Every i runs; the error of
// the lowest failing i is rethrown, so the outcome does not depend on thread timing.
template <class F>
void parallel_for(std::size_t n, const F& fn) {
  unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  if (n < 32) threads = 1;
  std::vector<std::exception_ptr> errors(n);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

// Checked sum bounded by the ledger's largest amount: a total that a single transfer cannot carry
// is refused, never wrapped or truncated.
Amount add_bounded(Amount a, Amount b, const std::string& what) {
  if (b.units > ledger::kMaxAmount || a.units > ledger::kMaxAmount - b.units) {
    throw Error(Error::Kind::Refused, "netting: " + what + " exceeds the largest ledger amount " +
                                          std::to_string(ledger::kMaxAmount) + " base units (settle a shorter period)");
  }
  return Amount(a.units + b.units);
}

std::vector<const StatementEntry*> sorted_entries(const PairStatement& s) {
  std::vector<const StatementEntry*> v;
  v.reserve(s.entries.size());
  for (const StatementEntry& e : s.entries) v.push_back(&e);
  const auto less = [](const StatementEntry* x, const StatementEntry* y) { return x->id < y->id; };
  if (!std::is_sorted(v.begin(), v.end(), less)) std::sort(v.begin(), v.end(), less);
  return v;
}

std::string describe(const std::optional<StatementEntry>& e) {
  if (!e) return "no such entry";
  return e->debtor + " owes " + e->creditor + " " + std::to_string(e->amount.units);
}

struct PairSides {
  const PairStatement* by_a = nullptr;
  const PairStatement* by_b = nullptr;
};

struct PairResult {
  std::optional<PairDisagreement> disagreement;
  PairTotal total;
};

void check_signature(const PairStatement& s, const Hash256& digest, const KeyMap& keys) {
  if (!verify_statement(s, digest, keys.find(s.signer)->second)) {
    throw Error(Error::Kind::Integrity, "statement of " + s.signer + " for " + s.peer + " for period " + s.period +
                                            ": the signature does not verify with " + s.signer +
                                            "'s key (the statement was altered or not signed by " + s.signer + ")");
  }
}

// One pair: merge walk over both sides' entries sorted by id (an id on one side only, or the same id
// with another debtor, creditor or amount, is a difference), gross totals, and both signatures. When
// the entries agree they hash to one digest, computed once and checked against both signatures.
PairResult compare_pair(const std::string& a, const std::string& b, const PairSides& sides, const KeyMap& keys) {
  PairResult r;
  if (!sides.by_a || !sides.by_b) {
    const PairStatement& only = sides.by_a ? *sides.by_a : *sides.by_b;
    check_signature(only, entries_digest(only), keys);
    PairDisagreement dis{a, b, (sides.by_a ? b : a) + " sent no statement for the pair", {}};
    for (const StatementEntry* e : sorted_entries(only)) {
      dis.entries.push_back({e->id, sides.by_a ? std::optional(*e) : std::nullopt, sides.by_b ? std::optional(*e) : std::nullopt});
    }
    r.disagreement = std::move(dis);
    return r;
  }
  const auto ea = sorted_entries(*sides.by_a);
  const auto eb = sorted_entries(*sides.by_b);
  PairDisagreement dis{a, b, "their statements list different entries", {}};
  r.total = PairTotal{a, b, {}, {}, 0, {}};
  std::size_t i = 0, j = 0;
  while (i < ea.size() || j < eb.size()) {
    if (j == eb.size() || (i < ea.size() && ea[i]->id < eb[j]->id)) {
      dis.entries.push_back({ea[i]->id, *ea[i], std::nullopt});
      ++i;
    } else if (i == ea.size() || eb[j]->id < ea[i]->id) {
      dis.entries.push_back({eb[j]->id, std::nullopt, *eb[j]});
      ++j;
    } else {
      const StatementEntry& e = *ea[i];
      if (!(e == *eb[j])) {
        dis.entries.push_back({e.id, e, *eb[j]});
      } else if (dis.entries.empty()) {
        Amount& sum = e.debtor == a ? r.total.a_owes_b : r.total.b_owes_a;
        sum = add_bounded(sum, e.amount, "what " + e.debtor + " owes " + e.creditor);
        r.total.entries += 1;
      }
      ++i;
      ++j;
    }
  }
  if (!dis.entries.empty()) {
    check_signature(*sides.by_a, entries_digest(*sides.by_a), keys);
    check_signature(*sides.by_b, entries_digest(*sides.by_b), keys);
    r.disagreement = std::move(dis);
    return r;
  }
  // Same entries on both sides, so one digest: both signed exactly what the record carries.
  r.total.digest = entries_digest(*sides.by_a);
  check_signature(*sides.by_a, r.total.digest, keys);
  check_signature(*sides.by_b, r.total.digest, keys);
  return r;
}

// Each side's position from the pairs' gross totals: credits (owed to it) and debits (it owes).
std::vector<NetPosition> positions_from_pairs(const std::vector<std::string>& parties, const std::vector<PairTotal>& pairs) {
  std::map<std::string_view, std::pair<Amount, Amount>> sums;  // cluster -> (credits, debits)
  for (const std::string& p : parties) sums[p] = {};
  for (const PairTotal& t : pairs) {
    auto& a = sums[t.a];
    auto& b = sums[t.b];
    a.second = add_bounded(a.second, t.a_owes_b, "what " + t.a + " owes");
    b.first = add_bounded(b.first, t.a_owes_b, "what " + t.b + " is owed");
    b.second = add_bounded(b.second, t.b_owes_a, "what " + t.b + " owes");
    a.first = add_bounded(a.first, t.b_owes_a, "what " + t.a + " is owed");
  }
  std::vector<NetPosition> out;
  out.reserve(parties.size());
  for (const std::string& p : parties) {
    const auto& [credits, debits] = sums[p];
    if (credits >= debits) out.push_back({p, true, Amount(credits.units - debits.units)});
    else out.push_back({p, false, Amount(debits.units - credits.units)});
  }
  return out;
}

// Every party's received - paid must equal its net position: the conservation invariant.
// Returns the first party for which it fails, or "".
std::string conservation_violation(const std::vector<NetPosition>& positions, const std::vector<Payment>& payments) {
  // Signed 128-bit balances: no partial sum of values <= 2^63 over <= 1000 parties can overflow.
  std::map<std::string_view, i128> flow;
  for (const NetPosition& p : positions) flow[p.cluster] = 0;
  for (const Payment& pay : payments) {
    auto from = flow.find(pay.from);
    auto to = flow.find(pay.to);
    if (from == flow.end()) return pay.from;
    if (to == flow.end()) return pay.to;
    from->second -= static_cast<i128>(pay.amount.units);
    to->second += static_cast<i128>(pay.amount.units);
  }
  for (const NetPosition& p : positions) {
    const i128 want = p.owed ? static_cast<i128>(p.amount.units) : -static_cast<i128>(p.amount.units);
    if (flow[p.cluster] != want) return p.cluster;
  }
  return {};
}

}  // namespace

std::string PairDisagreement::message() const {
  std::string m = a + " and " + b + " disagree (" + reason + ")";
  std::size_t shown = 0;
  for (const EntryDifference& d : entries) {
    if (shown++ == 20) {
      m += "; and " + std::to_string(entries.size() - 20) + " more entries";
      break;
    }
    m += "; entry " + d.id + ": " + a + " says " + describe(d.by_a) + ", " + b + " says " + describe(d.by_b);
  }
  return m;
}

// The net-position greedy. Finding the fewest payments that settle given net positions is
// NP-hard in general: with n non-flat parties the optimum is n - k, where k is the largest number
// of disjoint groups whose positions each sum to zero, and deciding whether such a split exists
// contains PARTITION / subset sum. The greedy pairs the largest remaining debtor with the largest
// remaining creditor and pays the smaller of the two amounts; that payment brings at least one of
// the two to zero, and the last payment brings both to zero (what is owed equals what is due), so
// it makes at most n - 1 payments, each no larger than either party's position. Ties are broken by
// name, so every party computes the same payments from the same positions.
std::vector<Payment> greedy_payments(std::span<const NetPosition> positions) {
  struct Open {
    std::string_view name;
    std::uint64_t left;
  };
  std::vector<Open> creditors, debtors;
  i128 balance = 0;
  for (const NetPosition& p : positions) {
    if (p.amount.units == 0) continue;
    (p.owed ? creditors : debtors).push_back({p.cluster, p.amount.units});
    balance += p.owed ? static_cast<i128>(p.amount.units) : -static_cast<i128>(p.amount.units);
  }
  if (balance != 0) {
    throw Error(Error::Kind::BadInput, "netting: the net positions do not sum to zero (what is owed differs from what is due)");
  }
  const auto larger_first = [](const Open& x, const Open& y) { return x.left != y.left ? x.left > y.left : x.name < y.name; };
  std::sort(creditors.begin(), creditors.end(), larger_first);
  std::sort(debtors.begin(), debtors.end(), larger_first);
  std::vector<Payment> out;
  std::size_t c = 0, d = 0;
  while (c < creditors.size() && d < debtors.size()) {
    const std::uint64_t pay = std::min(creditors[c].left, debtors[d].left);
    out.push_back({std::string(debtors[d].name), std::string(creditors[c].name), Amount(pay)});
    creditors[c].left -= pay;
    debtors[d].left -= pay;
    if (creditors[c].left == 0) ++c;
    if (debtors[d].left == 0) ++d;
  }
  if (c != creditors.size() || d != debtors.size()) {
    throw Error(Error::Kind::Internal, "netting: the greedy left a position open (balance check passed: a bug)");
  }
  return out;
}

NettingOutcome net_statements(const NettingInput& in) {
  if (!valid_period(in.period)) throw_input_error({}, "period", "\"" + in.period + "\" is not YYYY-MM", "use e.g. 2026-11");
  if (in.statements.empty()) {
    throw_input_error({}, "statements", "none for " + in.period, "collect each peer's statement for the period first");
  }
  // Cheap checks first, in order (a wrong period or token is the caller's error, not a forgery).
  for (const PairStatement& s : in.statements) {
    const std::string where = "statement of " + s.signer + " for " + s.peer;
    if (s.period != in.period) {
      throw_input_error({where}, "period", "is " + s.period + ", not " + in.period, "settle each period separately");
    }
    if (s.token != in.token) {
      throw_input_error({where}, "token", "is " + s.token + ", not " + in.token, "peers with another token cannot net");
    }
    if (in.keys.find(s.signer) == in.keys.end()) {
      throw_input_error({where}, "signer", "no public key for cluster " + s.signer, "add the peer's key first");
    }
  }
  parallel_for(in.statements.size(), [&](std::size_t i) {
    const PairStatement& s = in.statements[i];
    check_statement(s, "statement of " + s.signer + " for " + s.peer);
  });
  std::map<std::pair<std::string, std::string>, PairSides> pairs;
  for (const PairStatement& s : in.statements) {
    const bool signer_first = s.signer < s.peer;
    PairSides& sides = pairs[signer_first ? std::pair{s.signer, s.peer} : std::pair{s.peer, s.signer}];
    const PairStatement*& slot = signer_first ? sides.by_a : sides.by_b;
    if (slot != nullptr) {
      throw_input_error({"statement of " + s.signer + " for " + s.peer}, "signer", "sent two statements for this pair",
                        "keep only its latest");
    }
    slot = &s;
  }
  // Each pair on its own (in parallel): compare, digest, check both signatures.
  std::vector<std::pair<const std::pair<std::string, std::string>*, const PairSides*>> list;
  list.reserve(pairs.size());
  for (const auto& [names, sides] : pairs) list.push_back({&names, &sides});
  std::vector<PairResult> results(list.size());
  parallel_for(list.size(), [&](std::size_t i) {
    results[i] = compare_pair(list[i].first->first, list[i].first->second, *list[i].second, in.keys);
  });

  NettingOutcome out;
  NettingRecord rec;
  rec.period = in.period;
  rec.token = in.token;
  for (PairResult& r : results) {
    if (r.disagreement) {
      out.disagreements.push_back(std::move(*r.disagreement));
      continue;
    }
    rec.parties.push_back(r.total.a);
    rec.parties.push_back(r.total.b);
    rec.pairs.push_back(std::move(r.total));
  }
  if (!out.disagreements.empty()) return out;  // settles nothing

  std::sort(rec.parties.begin(), rec.parties.end());
  rec.parties.erase(std::unique(rec.parties.begin(), rec.parties.end()), rec.parties.end());
  if (rec.parties.size() > kMaxNettingParties) {
    throw_input_error({}, "statements", std::to_string(rec.parties.size()) + " clusters, more than " +
                                            std::to_string(kMaxNettingParties), "net smaller groups of peers");
  }
  rec.positions = positions_from_pairs(rec.parties, rec.pairs);
  rec.payments = greedy_payments(rec.positions);
  // The conservation invariant: every cluster's net position equals what it receives minus what it pays.
  if (const std::string who = conservation_violation(rec.positions, rec.payments); !who.empty()) {
    throw Error(Error::Kind::Internal, "netting: payments do not preserve the net position of " + who);
  }
  const std::size_t nonflat = static_cast<std::size_t>(
      std::count_if(rec.positions.begin(), rec.positions.end(), [](const NetPosition& p) { return p.amount.units != 0; }));
  if (rec.payments.size() > (nonflat == 0 ? 0 : nonflat - 1)) {
    throw Error(Error::Kind::Internal, "netting: the greedy made more than n-1 payments");
  }
  out.record = std::move(rec);
  return out;
}

std::string netting_message(const NettingRecord& r) {
  std::string m = "rfarm-netting-record-v1\n" + r.period + "\n" + r.token + "\nparties ";
  append_u64(m, r.parties.size());
  m += '\n';
  for (const std::string& p : r.parties) m += p + "\n";
  m += "pairs ";
  append_u64(m, r.pairs.size());
  m += '\n';
  for (const PairTotal& t : r.pairs) {
    m += t.a + " " + t.b + " ";
    append_u64(m, t.a_owes_b.units);
    m += ' ';
    append_u64(m, t.b_owes_a.units);
    m += ' ';
    append_u64(m, t.entries);
    m += " " + t.digest.hex() + "\n";
  }
  m += "positions\n";
  for (const NetPosition& p : r.positions) {
    m += p.cluster + (p.owed ? " +" : " -");
    append_u64(m, p.amount.units);
    m += '\n';
  }
  m += "payments ";
  append_u64(m, r.payments.size());
  m += '\n';
  for (const Payment& p : r.payments) {
    m += p.from + " " + p.to + " ";
    append_u64(m, p.amount.units);
    m += '\n';
  }
  return m;
}

std::string netting_signed_text(const NettingRecord& r) {
  return "rfarm-netting-signature-v1\n" + sha256(netting_message(r)).hex() + "\n";
}

void sign_netting(NettingRecord& r, std::string_view party, const SigningKey& key) {
  if (!std::binary_search(r.parties.begin(), r.parties.end(), party)) {
    throw_input_error({}, "party", std::string(party) + " is not a party to the netting of " + r.period,
                      "sign with the key of one of its parties");
  }
  r.signatures[std::string(party)] = key.sign(netting_signed_text(r));
}

namespace {
// Period and parties: what both checks below need before anything else.
void check_netting_header(const NettingRecord& r) {
  const auto fail = [&](const std::string& what) {
    throw Error(Error::Kind::Integrity, "netting record for " + r.period + ": " + what);
  };
  if (!valid_period(r.period)) fail("period \"" + r.period + "\" is not YYYY-MM");
  if (r.parties.empty()) fail("has no parties");
  if (r.parties.size() > kMaxNettingParties) fail("has more than " + std::to_string(kMaxNettingParties) + " parties");
  for (std::size_t i = 0; i < r.parties.size(); ++i) {
    if (!valid_peer_name(r.parties[i])) fail("party \"" + r.parties[i] + "\" is not a valid cluster name");
    if (i > 0 && !(r.parties[i - 1] < r.parties[i])) fail("parties are not sorted and unique");
  }
}
}  // namespace

void verify_netting(const NettingRecord& r, const KeyMap& keys) {
  const auto fail = [&](const std::string& what) {
    throw Error(Error::Kind::Integrity, "netting record for " + r.period + ": " + what);
  };
  check_netting_header(r);
  // Signatures first: an unsigned record proves nothing, whatever its arithmetic.
  const std::string message = netting_signed_text(r);
  for (const std::string& p : r.parties) {
    const auto key = keys.find(p);
    if (key == keys.end()) {
      throw_input_error({}, "keys", "no public key for party " + p, "add the peer's key before verifying");
    }
    const auto sig = r.signatures.find(p);
    if (sig == r.signatures.end()) fail("party " + p + " has not signed it");
    if (!verify(key->second, message, sig->second)) fail("the signature of " + p + " does not verify");
  }
  for (const auto& [who, sig] : r.signatures) {
    if (!std::binary_search(r.parties.begin(), r.parties.end(), who)) fail("carries a signature of non-party " + who);
  }
  check_netting_arithmetic(r);
}

void check_netting_arithmetic(const NettingRecord& r) {
  const auto fail = [&](const std::string& what) {
    throw Error(Error::Kind::Integrity, "netting record for " + r.period + ": " + what);
  };
  check_netting_header(r);
  for (std::size_t i = 0; i < r.pairs.size(); ++i) {
    const PairTotal& t = r.pairs[i];
    if (!(t.a < t.b)) fail("pair " + t.a + "/" + t.b + " is not in order");
    if (!std::binary_search(r.parties.begin(), r.parties.end(), t.a) ||
        !std::binary_search(r.parties.begin(), r.parties.end(), t.b)) {
      fail("pair " + t.a + "/" + t.b + " names a non-party");
    }
    if (i > 0 && !(std::tie(r.pairs[i - 1].a, r.pairs[i - 1].b) < std::tie(t.a, t.b))) fail("pairs are not sorted and unique");
  }
  std::vector<NetPosition> want;
  try {
    want = positions_from_pairs(r.parties, r.pairs);
  } catch (const Error& e) {
    fail(e.what());
  }
  if (want != r.positions) {
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (i >= r.positions.size() || !(want[i] == r.positions[i])) {
        fail("the position of " + want[i].cluster + " does not follow from the pair totals");
      }
    }
    fail("lists more positions than parties");
  }
  std::size_t nonflat = 0;
  for (const NetPosition& p : want) nonflat += p.amount.units != 0 ? 1 : 0;
  if (r.payments.size() > (nonflat == 0 ? 0 : nonflat - 1)) {
    fail(std::to_string(r.payments.size()) + " payments, more than n-1 for " + std::to_string(nonflat) + " open positions");
  }
  for (const Payment& p : r.payments) {
    if (p.amount.units == 0 || p.amount.units > ledger::kMaxAmount) fail("a payment from " + p.from + " has no valid amount");
    if (p.from == p.to) fail("a payment from " + p.from + " to itself");
  }
  if (const std::string who = conservation_violation(r.positions, r.payments); !who.empty()) {
    fail("the payments do not add up to the net position of " + who);
  }
}

json to_json(const NettingRecord& r) {
  json pairs = json::array(), positions = json::array(), payments = json::array(), sigs = json::object();
  for (const PairTotal& t : r.pairs) {
    pairs.push_back({{"a", t.a}, {"b", t.b}, {"a_owes_b", t.a_owes_b.units}, {"b_owes_a", t.b_owes_a.units},
                     {"entries", t.entries}, {"digest", t.digest.hex()}});
  }
  for (const NetPosition& p : r.positions) {
    positions.push_back({{"cluster", p.cluster}, {"owed", p.owed}, {"amount", p.amount.units}});
  }
  for (const Payment& p : r.payments) payments.push_back({{"from", p.from}, {"to", p.to}, {"amount", p.amount.units}});
  for (const auto& [who, sig] : r.signatures) sigs[who] = sig.hex();
  return {{"format", "rfarm-netting-record-v1"}, {"period", r.period}, {"token", r.token}, {"parties", r.parties},
          {"pairs", pairs}, {"positions", positions}, {"payments", payments}, {"signatures", sigs}};
}

NettingRecord netting_from_json(const json& j, std::string_view where) {
  const std::string w(where);
  const std::string fix = "use a netting record written by rfarm (rfarm-netting-record-v1)";
  NettingRecord r;
  try {
    if (j.at("format").get<std::string>() != "rfarm-netting-record-v1") throw_input_error({w}, "format", "unknown", fix);
    r.period = j.at("period").get<std::string>();
    r.token = j.at("token").get<std::string>();
    r.parties = j.at("parties").get<std::vector<std::string>>();
    for (const json& t : j.at("pairs")) {
      auto digest = Hash256::from_hex(t.at("digest").get<std::string>());
      if (!digest) throw_input_error({w}, "pairs.digest", "is not 64 hex characters", fix);
      r.pairs.push_back({t.at("a").get<std::string>(), t.at("b").get<std::string>(),
                         Amount(t.at("a_owes_b").get<std::uint64_t>()), Amount(t.at("b_owes_a").get<std::uint64_t>()),
                         t.at("entries").get<std::uint64_t>(), *digest});
    }
    for (const json& p : j.at("positions")) {
      r.positions.push_back({p.at("cluster").get<std::string>(), p.at("owed").get<bool>(),
                             Amount(p.at("amount").get<std::uint64_t>())});
    }
    for (const json& p : j.at("payments")) {
      r.payments.push_back({p.at("from").get<std::string>(), p.at("to").get<std::string>(),
                            Amount(p.at("amount").get<std::uint64_t>())});
    }
    for (const auto& [who, sig] : j.at("signatures").items()) {
      auto s = Signature::from_hex(sig.get<std::string>());
      if (!s) throw_input_error({w}, "signatures." + who, "is not 128 hex characters", fix);
      r.signatures[who] = *s;
    }
  } catch (const json::exception& e) {
    throw_input_error({w}, "netting record", std::string("is malformed: ") + e.what(), fix);
  }
  return r;
}

}  // namespace rfarm::federation
