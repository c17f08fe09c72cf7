// Multilateral netting against a brute-force model: random instances keep every net position,
// need at most n-1 payments and never overflow; disagreements name the entries; tampering with a
// statement or a netting record is caught.
#include "federation/netting.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "ledger/limits.h"

namespace rfarm::federation {
namespace {

__extension__ typedef __int128 i128;

SigningKey party_key(std::size_t i) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(static_cast<std::uint8_t>(i + 1));
  seed[0] = 0x5a;
  return SigningKey::from_seed(seed);
}

std::string party_name(std::size_t i) { return "cluster-" + std::string(1, static_cast<char>('a' + i)); }

struct World {
  std::vector<SigningKey> keys;
  NettingInput input;
  std::map<std::pair<std::size_t, std::size_t>, std::vector<StatementEntry>> entries;  // i < j

  explicit World(std::size_t n) {
    input.period = "2026-11";
    input.token = "RT/6";
    for (std::size_t i = 0; i < n; ++i) {
      keys.push_back(party_key(i));
      input.keys[party_name(i)] = keys.back().public_key();
    }
  }
  void owe(std::size_t debtor, std::size_t creditor, std::uint64_t amount) {
    auto k = std::minmax(debtor, creditor);
    auto& v = entries[{k.first, k.second}];
    v.push_back({"e" + std::to_string(v.size()) + "-" + party_name(debtor), party_name(debtor), party_name(creditor), Amount(amount)});
  }
  // Both sides sign the same entries.
  void sign_all() {
    input.statements.clear();
    for (const auto& [pair, list] : entries) {
      for (auto [signer, peer] : {std::pair{pair.first, pair.second}, std::pair{pair.second, pair.first}}) {
        PairStatement s{input.period, input.token, party_name(signer), party_name(peer), list, {}};
        input.statements.push_back(sign_statement(s, keys[signer]));
      }
    }
  }
  PairStatement& statement(std::size_t signer, std::size_t peer) {
    for (PairStatement& s : input.statements) {
      if (s.signer == party_name(signer) && s.peer == party_name(peer)) return s;
    }
    throw std::runtime_error("no such statement");
  }
};

// The fewest payments that settle these positions, by exhaustive search over subsets: the optimum
// is (non-zero positions) - (most disjoint zero-sum groups). Exponential, so only for small n.
std::size_t brute_force_min_payments(const std::vector<i128>& nets) {
  std::vector<i128> v;
  for (i128 x : nets) {
    if (x != 0) v.push_back(x);
  }
  const std::size_t m = v.size();
  if (m == 0) return 0;
  std::vector<i128> sum(std::size_t{1} << m, 0);
  for (std::size_t mask = 1; mask < sum.size(); ++mask) {
    const std::size_t low = static_cast<std::size_t>(__builtin_ctzll(mask));
    sum[mask] = sum[mask & (mask - 1)] + v[low];
  }
  std::vector<int> groups(sum.size(), -1);  // most zero-sum groups partitioning mask (-1: impossible)
  groups[0] = 0;
  for (std::size_t mask = 1; mask < sum.size(); ++mask) {
    if (sum[mask] != 0) continue;
    for (std::size_t sub = mask; sub; sub = (sub - 1) & mask) {
      if (sum[sub] == 0 && groups[mask ^ sub] >= 0) groups[mask] = std::max(groups[mask], groups[mask ^ sub] + 1);
    }
  }
  return m - static_cast<std::size_t>(groups[sum.size() - 1]);
}

TEST(Netting, RandomInstancesMatchTheBruteForceModel) {
  std::mt19937_64 rng(20261104);
  std::size_t refused = 0, settled = 0;
  for (int round = 0; round < 300; ++round) {
    const std::size_t n = 2 + rng() % 6;
    World w(n);
    const bool huge = round % 5 == 0;  // amounts near the ledger's limit: some totals overflow
    const int count = 1 + static_cast<int>(rng() % 25);
    for (int k = 0; k < count; ++k) {
      const std::size_t d = rng() % n;
      std::size_t c = rng() % n;
      if (c == d) c = (c + 1) % n;
      const std::uint64_t amount = huge ? ledger::kMaxAmount / (1 + rng() % 4) : 1 + rng() % 1000;
      w.owe(d, c, amount);
    }
    w.sign_all();

    // The model: every entry summed directly in 128 bits.
    std::vector<i128> net(n, 0), credits(n, 0), debits(n, 0);
    bool overflow = false;
    for (const auto& [pair, list] : w.entries) {
      i128 ab = 0, ba = 0;
      for (const StatementEntry& e : list) {
        const bool first_owes = e.debtor == party_name(pair.first);
        (first_owes ? ab : ba) += e.amount.units;
      }
      overflow |= ab > static_cast<i128>(ledger::kMaxAmount) || ba > static_cast<i128>(ledger::kMaxAmount);
      debits[pair.first] += ab, credits[pair.second] += ab;
      debits[pair.second] += ba, credits[pair.first] += ba;
    }
    for (std::size_t i = 0; i < n; ++i) {
      overflow |= credits[i] > static_cast<i128>(ledger::kMaxAmount) || debits[i] > static_cast<i128>(ledger::kMaxAmount);
      net[i] = credits[i] - debits[i];
    }

    if (overflow) {
      try {
        net_statements(w.input);
        FAIL() << "round " << round << ": a total above the ledger's limit was not refused";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
      }
      ++refused;
      continue;
    }
    NettingOutcome out = net_statements(w.input);
    ASSERT_TRUE(out.settled()) << "round " << round;
    ++settled;
    NettingRecord& rec = *out.record;
    std::map<std::string, i128> flow;
    for (const Payment& p : rec.payments) {
      EXPECT_GT(p.amount.units, 0u);
      EXPECT_NE(p.from, p.to);
      flow[p.from] -= p.amount.units;
      flow[p.to] += p.amount.units;
    }
    std::size_t nonflat = 0;
    for (std::size_t i = 0; i < n; ++i) nonflat += net[i] != 0 ? 1 : 0;
    for (const NetPosition& p : rec.positions) {
      const std::size_t i = static_cast<std::size_t>(p.cluster.back() - 'a');
      const i128 pos = p.owed ? static_cast<i128>(p.amount.units) : -static_cast<i128>(p.amount.units);
      EXPECT_TRUE(pos == net[i]) << "round " << round << " " << p.cluster;
      EXPECT_TRUE(flow[p.cluster] == net[i]) << "round " << round << " " << p.cluster;
    }
    EXPECT_LE(rec.payments.size(), nonflat == 0 ? 0 : nonflat - 1) << "round " << round;
    EXPECT_GE(rec.payments.size(), brute_force_min_payments(net)) << "round " << round;

    for (const std::string& p : rec.parties) {
      sign_netting(rec, p, w.keys[static_cast<std::size_t>(p.back() - 'a')]);
    }
    EXPECT_NO_THROW(verify_netting(rec, w.input.keys)) << "round " << round;
    // The JSON form carries everything the signatures cover.
    EXPECT_NO_THROW(verify_netting(netting_from_json(to_json(rec), "round trip"), w.input.keys));
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(settled, 200u);
}

TEST(Netting, GreedyOnAKnownCycleNeedsNoPaymentAndAChainNeedsOne) {
  // a owes b 10, b owes c 10, c owes a 10: everyone is flat.
  World w(3);
  w.owe(0, 1, 10);
  w.owe(1, 2, 10);
  w.owe(2, 0, 10);
  w.sign_all();
  NettingOutcome out = net_statements(w.input);
  ASSERT_TRUE(out.settled());
  EXPECT_TRUE(out.record->payments.empty());
  // a owes b 10, b owes c 10: a pays c 10 directly.
  World chain(3);
  chain.owe(0, 1, 10);
  chain.owe(1, 2, 10);
  chain.sign_all();
  out = net_statements(chain.input);
  ASSERT_EQ(out.record->payments.size(), 1u);
  EXPECT_EQ(out.record->payments[0], (Payment{"cluster-a", "cluster-c", Amount(10)}));
}

TEST(Netting, DisagreementNamesTheEntriesThatDifferAndSettlesNothing) {
  World w(3);
  w.owe(0, 1, 100);
  w.owe(1, 0, 40);
  w.owe(0, 1, 7);
  w.owe(1, 2, 5);
  w.sign_all();
  // cluster-b remembers one amount differently, lacks one entry, and adds one of its own.
  PairStatement s = w.statement(1, 0);
  s.entries[0].amount = Amount(99);  // e0-cluster-a
  s.entries.erase(s.entries.begin() + 2);  // e2-cluster-a
  s.entries.push_back({"extra-charge", "cluster-a", "cluster-b", Amount(3)});
  w.statement(1, 0) = sign_statement(s, w.keys[1]);

  const NettingOutcome out = net_statements(w.input);
  EXPECT_FALSE(out.settled());
  ASSERT_EQ(out.disagreements.size(), 1u);
  const PairDisagreement& d = out.disagreements[0];
  EXPECT_EQ(d.a, "cluster-a");
  EXPECT_EQ(d.b, "cluster-b");
  ASSERT_EQ(d.entries.size(), 3u);
  EXPECT_EQ(d.entries[0].id, "e0-cluster-a");
  EXPECT_EQ(d.entries[0].by_a->amount, Amount(100));
  EXPECT_EQ(d.entries[0].by_b->amount, Amount(99));
  EXPECT_EQ(d.entries[1].id, "e2-cluster-a");
  EXPECT_TRUE(d.entries[1].by_a && !d.entries[1].by_b);
  EXPECT_EQ(d.entries[2].id, "extra-charge");
  EXPECT_TRUE(!d.entries[2].by_a && d.entries[2].by_b);
  const std::string msg = d.message();
  EXPECT_NE(msg.find("e0-cluster-a: cluster-a says cluster-a owes cluster-b 100, cluster-b says cluster-a owes cluster-b 99"),
            std::string::npos)
      << msg;

  // A side that sent nothing: every entry of the other side is listed.
  World lone(2);
  lone.owe(0, 1, 5);
  lone.owe(1, 0, 6);
  lone.sign_all();
  lone.input.statements.pop_back();
  const NettingOutcome missing = net_statements(lone.input);
  ASSERT_EQ(missing.disagreements.size(), 1u);
  EXPECT_NE(missing.disagreements[0].reason.find("cluster-b sent no statement"), std::string::npos);
  EXPECT_EQ(missing.disagreements[0].entries.size(), 2u);
}

TEST(Netting, TamperedStatementsAndRecordsAreCaught) {
  World w(4);
  w.owe(0, 1, 500);
  w.owe(2, 3, 70);
  w.owe(3, 0, 20);
  w.sign_all();
  {
    NettingInput forged = w.input;
    forged.statements[0].entries[0].amount = Amount(5);  // changed after signing
    try {
      net_statements(forged);
      FAIL() << "an altered statement was netted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::Integrity);
      EXPECT_NE(std::string(e.what()).find("statement of cluster-a for cluster-b"), std::string::npos) << e.what();
    }
  }
  NettingRecord rec = *net_statements(w.input).record;
  for (const std::string& p : rec.parties) sign_netting(rec, p, w.keys[static_cast<std::size_t>(p.back() - 'a')]);
  ASSERT_NO_THROW(verify_netting(rec, w.input.keys));

  auto expect_integrity = [&](const NettingRecord& r, const std::string& needle) {
    try {
      verify_netting(r, w.input.keys);
      ADD_FAILURE() << "accepted a record that should fail with: " << needle;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::Integrity) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  NettingRecord t = rec;
  t.payments[0].amount = Amount(t.payments[0].amount.units + 1);
  expect_integrity(t, "does not verify");
  // Everyone re-signs a record whose arithmetic is wrong: the signatures pass, the sums do not.
  for (const std::string& p : t.parties) sign_netting(t, p, w.keys[static_cast<std::size_t>(p.back() - 'a')]);
  expect_integrity(t, "do not add up");
  t = rec;
  t.signatures.erase("cluster-c");
  expect_integrity(t, "cluster-c has not signed");
  t = rec;
  t.signatures["cluster-c"] = w.keys[0].sign(netting_signed_text(rec));
  expect_integrity(t, "signature of cluster-c does not verify");
  t = rec;
  t.pairs[0].a_owes_b = Amount(t.pairs[0].a_owes_b.units + 10);
  for (const std::string& p : t.parties) sign_netting(t, p, w.keys[static_cast<std::size_t>(p.back() - 'a')]);
  expect_integrity(t, "does not follow from the pair totals");
  EXPECT_THROW(sign_netting(t, "cluster-z", w.keys[0]), Error);
}

TEST(Netting, RefusesMixedPeriodsTokensAndUnknownSigners) {
  World w(2);
  w.owe(0, 1, 5);
  w.sign_all();
  NettingInput other = w.input;
  other.token = "XT/2";
  EXPECT_THROW(net_statements(other), Error);
  other = w.input;
  other.period = "2026-12";
  EXPECT_THROW(net_statements(other), Error);
  other = w.input;
  other.keys.erase("cluster-b");
  EXPECT_THROW(net_statements(other), Error);
  other = w.input;
  other.statements.push_back(other.statements[0]);
  EXPECT_THROW(net_statements(other), Error);
  other = w.input;
  other.statements.clear();
  EXPECT_THROW(net_statements(other), Error);
  PairStatement bad{"2026-11", "RT/6", "cluster-a", "cluster-b", {{"x y", "cluster-a", "cluster-b", Amount(1)}}, {}};
  EXPECT_THROW(sign_statement(bad, w.keys[0]), Error);
  bad.entries[0] = {"ok", "cluster-a", "cluster-c", Amount(1)};
  EXPECT_THROW(sign_statement(bad, w.keys[0]), Error);
  bad.entries[0] = {"ok", "cluster-a", "cluster-b", Amount(0)};
  EXPECT_THROW(sign_statement(bad, w.keys[0]), Error);
  // The statement's JSON form round-trips and still verifies.
  const PairStatement back = statement_from_json(to_json(w.input.statements[0]), "round trip");
  EXPECT_TRUE(verify_statement(back, w.keys[0].public_key()));
}

}  // namespace
}  // namespace rfarm::federation
