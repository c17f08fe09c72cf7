// Deterministic simulation (TigerBeetle style): a seeded random workload drives the real Ledger
// (on SQLite and on PostgreSQL) and a deliberately simple in-memory model of the specification side by side.
// After every batch the per-transfer results, every account's balances, the invariant and the log
// size must agree; periodically a full audit (replay + Merkle roots + signatures) must pass.
// A failure prints its seed; replay one seed with RFARM_SIM_SEED=<seed>.
// The same seed on both backends must give the same results, events, balances and Merkle root.
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/stake.h"
#include "backend_fixture.h"
#include "ledger_fixture.h"

namespace rfarm::ledger {
namespace {
__extension__ typedef unsigned __int128 U128;  // exact 64x64-bit products for the model's slash shares

using TR = TransferResult;

struct MAccount {
  std::uint32_t flags = 0;
  std::uint64_t dp = 0, dpo = 0, cp = 0, cpo = 0;  // debits pending/posted, credits pending/posted
};

struct MTransfer {
  TransferRequest req;
  Id128 debit, credit;
  std::uint64_t amount = 0;
  PendingState state = PendingState::none;
  std::uint64_t expires_at = 0;
  std::uint64_t unbond_at = 0;
};

// The specification, written as plainly as possible and independently of ledger/apply.cpp.
struct Model {
  std::map<Id128, MAccount> accounts;
  std::map<Id128, MTransfer> transfers;
  std::uint64_t last_ts = 0;
  std::uint64_t events = 0;

  std::uint64_t next_ts(std::uint64_t clock) {
    last_ts = std::max(clock, last_ts + 1);
    return last_ts;
  }

  void sweep(std::uint64_t clock) {
    bool any = false;
    for (auto& [id, t] : transfers) {
      if (t.state == PendingState::pending && t.expires_at != 0 && t.expires_at <= clock) any = true;
    }
    if (!any) return;
    std::uint64_t now = next_ts(clock);
    // Oldest expiry first (then id), one event each; the first reuses `now`.
    std::vector<std::pair<std::uint64_t, Id128>> due;
    for (auto& [id, t] : transfers) {
      if (t.state == PendingState::pending && t.expires_at != 0 && t.expires_at <= now) due.push_back({t.expires_at, id});
    }
    std::sort(due.begin(), due.end());
    for (std::size_t i = 0; i < due.size(); ++i) {
      MTransfer& t = transfers[due[i].second];
      accounts[t.debit].dp -= t.amount;
      accounts[t.credit].cp -= t.amount;
      t.state = PendingState::expired;
      if (i > 0) next_ts(clock);
      ++events;
    }
  }

  TR apply(const TransferRequest& r, std::uint64_t clock) {
    if (r.id.is_zero()) return TR::id_must_not_be_zero;
    if (auto it = transfers.find(r.id); it != transfers.end()) {
      const MTransfer& t = it->second;
      bool two = r.flags == transfer_flags::post_pending || r.flags == transfer_flags::void_pending;
      bool same = r.flags == t.req.flags && r.code == t.req.code && r.pending_id == t.req.pending_id &&
                  r.timeout_seconds == t.req.timeout_seconds && r.unbond_seconds == t.req.unbond_seconds &&
                  r.user_data == t.req.user_data &&
                  (r.debit_account == t.debit || (two && r.debit_account.is_zero())) &&
                  (r.credit_account == t.credit || (two && r.credit_account.is_zero())) &&
                  (r.amount.units == t.amount || (two && r.amount.units == 0));
      return same ? TR::exists : TR::exists_with_different_fields;
    }
    if (std::popcount(r.flags) > 1) return TR::flags_are_mutually_exclusive;
    if (r.flags == transfer_flags::post_pending || r.flags == transfer_flags::void_pending) {
      bool is_post = r.flags == transfer_flags::post_pending;
      if (r.pending_id.is_zero()) return TR::pending_id_required;
      if (r.unbond_seconds != 0) return TR::unbond_reserved_for_pending;
      auto it = transfers.find(r.pending_id);
      if (it == transfers.end()) return TR::pending_transfer_not_found;
      MTransfer& p = it->second;
      if (p.req.flags != transfer_flags::pending) return TR::pending_transfer_not_pending;
      if (p.state == PendingState::posted) return TR::pending_transfer_already_posted;
      if (p.state == PendingState::voided) return TR::pending_transfer_already_voided;
      if (p.state == PendingState::expired) return TR::pending_transfer_expired;
      std::uint64_t amount = p.amount;
      if (is_post) {
        if (r.amount.units != 0) amount = r.amount.units;
        if (amount > p.amount) return TR::exceeds_pending_amount;
        if (p.unbond_at != 0 && std::max(clock, last_ts + 1) < p.unbond_at) return TR::pending_transfer_unbonding;
      } else if (r.amount.units != 0 && r.amount.units != p.amount) {
        return TR::void_amount_must_match_pending;
      }
      accounts[p.debit].dp -= p.amount;
      accounts[p.credit].cp -= p.amount;
      if (is_post) {
        accounts[p.debit].dpo += amount;
        accounts[p.credit].cpo += amount;
      }
      p.state = is_post ? PendingState::posted : PendingState::voided;
      transfers[r.id] = MTransfer{r, p.debit, p.credit, amount, PendingState::none, 0, 0};
      next_ts(clock);
      ++events;
      return TR::ok;
    }
    bool pending = r.flags == transfer_flags::pending;
    if (!r.pending_id.is_zero()) return TR::pending_id_must_be_zero;
    if (r.timeout_seconds != 0 && !pending) return TR::timeout_reserved_for_pending;
    if (r.unbond_seconds != 0 && !pending) return TR::unbond_reserved_for_pending;
    if (r.debit_account == r.credit_account) return TR::accounts_must_be_different;
    if (r.amount.units == 0) return TR::amount_must_not_be_zero;
    if (!accounts.count(r.debit_account)) return TR::debit_account_not_found;
    if (!accounts.count(r.credit_account)) return TR::credit_account_not_found;
    MAccount d = accounts[r.debit_account], c = accounts[r.credit_account];
    (pending ? d.dp : d.dpo) += r.amount.units;
    (pending ? c.cp : c.cpo) += r.amount.units;
    if ((d.flags & account_flags::debits_must_not_exceed_credits) && d.dp + d.dpo > d.cpo) return TR::exceeds_credits;
    if ((c.flags & account_flags::credits_must_not_exceed_debits) && c.cp + c.cpo > c.dpo) return TR::exceeds_debits;
    accounts[r.debit_account] = d;
    accounts[r.credit_account] = c;
    std::uint64_t ts = next_ts(clock);
    transfers[r.id] = MTransfer{r, r.debit_account, r.credit_account, r.amount.units,
                                pending ? PendingState::pending : PendingState::none,
                                pending && r.timeout_seconds ? ts + r.timeout_seconds * kNanosPerSecond : 0,
                                r.unbond_seconds ? ts + r.unbond_seconds * kNanosPerSecond : 0};
    ++events;
    return TR::ok;
  }

  std::vector<TR> submit(const std::vector<TransferRequest>& batch, std::uint64_t clock) {
    sweep(clock);
    Model saved = *this;
    std::vector<TR> results(batch.size(), TR::batch_failed);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      TR r = apply(batch[i], clock);
      if (r != TR::ok && r != TR::exists) {
        for (std::size_t j = 0; j < i; ++j) {
          if (results[j] == TR::ok) results[j] = TR::batch_failed;
        }
        results[i] = r;
        *this = saved;
        return results;
      }
      results[i] = r;
    }
    return results;
  }

  // --- stake and verdicts (ledger/stake.h, Ledger::append_verdict), as the documentation states them.
  Id128 provider, stake_acct, burn_acct;
  std::vector<Id128> unstakes;  // pending unstake ids in placement order
  std::uint64_t passes = 0, fails = 0;

  void create_account(const Id128& id, std::uint32_t flags, std::uint64_t clock) {
    if (accounts.count(id)) return;
    accounts[id].flags = flags;
    next_ts(clock);
    ++events;
  }
  std::uint64_t staked() { return accounts.count(stake_acct) ? accounts[stake_acct].cpo - accounts[stake_acct].dpo : 0; }

  struct Slash {
    std::uint64_t slashed = 0, burned = 0, compensated = 0;
  };
  Slash slash(const SlashRequest& req, std::uint64_t clock) {
    Slash out;
    std::uint64_t total = staked();
    std::uint64_t bonded = accounts.count(stake_acct) ? total - accounts[stake_acct].dp : 0;
    out.slashed = static_cast<std::uint64_t>(static_cast<U128>(total) * req.slash_bps / 10'000);
    out.burned = static_cast<std::uint64_t>(static_cast<U128>(out.slashed) * req.burn_bps / 10'000);
    out.compensated = out.slashed - out.burned;
    if (out.slashed == 0) return out;
    if (out.burned != 0) create_account(burn_acct, 0, clock);
    const std::uint64_t now = last_ts;
    auto part = [&](const std::string& what) { return Id128::derived("rfarm-slash-v1:" + req.id.hex() + ":" + what); };
    std::vector<TransferRequest> batch;
    std::uint64_t shortfall = out.slashed > bonded ? out.slashed - bonded : 0;
    std::vector<Id128> placed;
    for (auto it = unstakes.rbegin(); it != unstakes.rend() && shortfall != 0; ++it) {
      const MTransfer& u = transfers.at(*it);
      if (u.state != PendingState::pending) continue;
      std::uint64_t take = std::min(u.amount, shortfall);
      shortfall -= take;
      batch.push_back(void_pending(part("void:" + it->hex()), *it, TransferCode::slash, req.data));
      if (take < u.amount) {
        TransferRequest again = single(part("restake:" + it->hex()), stake_acct, provider, Amount(u.amount - take),
                                       TransferCode::unstake, req.data);
        again.flags = transfer_flags::pending;
        std::uint64_t left = u.unbond_at > now ? u.unbond_at - now : 0;
        again.unbond_seconds = (left + kNanosPerSecond - 1) / kNanosPerSecond;
        batch.push_back(again);
        placed.push_back(again.id);
      }
    }
    if (out.burned) batch.push_back(single(part("burn"), stake_acct, burn_acct, Amount(out.burned), TransferCode::slash, req.data));
    if (out.compensated) {
      batch.push_back(single(part("harm"), stake_acct, req.harmed, Amount(out.compensated), TransferCode::slash, req.data));
    }
    for (TR r : submit(batch, clock)) EXPECT_EQ(r, TR::ok) << "the model's own slash batch failed";
    unstakes.insert(unstakes.end(), placed.begin(), placed.end());
    return out;
  }
};

// What one run produced, for comparing backends: every step's outcome, then the final state.
struct SimulationTrace {
  std::vector<std::string> outcomes;
  std::vector<StoredEvent> events;
  std::vector<Account> accounts;
  std::vector<Transfer> transfers;
  std::optional<SignedHead> head;
};

std::string join(const std::vector<TR>& results) {
  std::string out;
  for (TR r : results) out += std::string(to_string(r)) + " ";
  return out;
}

void run_simulation(std::uint64_t seed, int steps, std::unique_ptr<Storage> storage, bool check_coverage = false,
                    SimulationTrace* trace = nullptr) {
  SCOPED_TRACE("simulation seed " + std::to_string(seed) + " (replay: RFARM_SIM_SEED=" + std::to_string(seed) + ")");
  std::mt19937_64 rng(seed);
  auto pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); };
  std::mt19937_64 bulk_rng(seed ^ 0xb0b0b0b0ULL);
  testing::ManualClock clock;
  Ledger ledger = testing::make_ledger(clock, std::move(storage));
  auto note = [&](const std::string& outcome) {
    if (trace) trace->outcomes.push_back(outcome);
  };
  Model model;
  model.events = ledger.event_count();
  model.last_ts = *clock.now;  // init used one timestamp: the issuer
  model.accounts[ledger.issuer()] = {};

  std::vector<Id128> ids{ledger.issuer()};
  std::vector<NewAccount> created;
  for (std::uint64_t i = 1; i <= 8; ++i) {
    std::uint32_t flags = i <= 5   ? account_flags::debits_must_not_exceed_credits
                          : i == 6 ? account_flags::credits_must_not_exceed_debits
                                   : 0;
    created.push_back({Id128{7, i}, "acct" + std::to_string(i), AccountKind::user, "", flags});
    ids.push_back(Id128{7, i});
    model.accounts[Id128{7, i}].flags = flags;
  }
  const Id128 provider{7, 9};
  created.push_back({provider, "prov", AccountKind::provider, "", account_flags::debits_must_not_exceed_credits});
  ids.push_back(provider);
  model.accounts[provider].flags = account_flags::debits_must_not_exceed_credits;
  const NewAccount verifier{Id128{7, 10}, "checker", AccountKind::verifier, "", 0};
  created.push_back(verifier);
  model.accounts[verifier.id] = {};
  for (auto r : ledger.create_accounts(created)) ASSERT_EQ(r, AccountResult::ok);
  model.events += created.size();
  for (std::size_t i = 0; i < created.size(); ++i) model.next_ts(*clock.now);
  model.provider = provider;
  model.stake_acct = stake_account_id(provider);
  model.burn_acct = Id128::derived("rfarm-escrow-v1:account:burn:" + Id128{0, 1}.hex());
  std::vector<Id128> unstake_tries;
  std::uint64_t frames = 0;
  std::map<std::string, int> stake_ops;  // how often each stake/verdict operation ran

  std::vector<TransferRequest> submitted;
  std::vector<Id128> holds;   // every hold id tried
  std::vector<Id128> placed;  // holds that were applied
  auto some_hold = [&]() {
    if (placed.empty() || pick(4) == 0) return holds[pick(holds.size())];
    return pick(3) == 0 ? placed.back() : placed[pick(placed.size())];  // the newest: maybe still unbonding
  };
  std::map<TR, int> seen;  // how often each result occurred: the workload must reach every corner
  int bulk_applied = 0, bulk_refused = 0;  // large batches (hashed on the worker) kept and thrown away
  std::uint64_t next_id = 1;
  auto random_account = [&]() { return pick(20) == 0 ? Id128{9, 9} : ids[pick(ids.size())]; };

  for (int step = 0; step < steps; ++step) {
    if (pick(6) == 0) {  // a stake, unstake, slash or verdict operation instead of a batch
      std::uint64_t op = pick(5);
      Id128 tid{1, next_id++};
      const std::uint64_t now = *clock.now;
      if (op == 0) {
        // stake() creates the stake account first (its own transaction), whatever the transfer's result.
        model.create_account(model.stake_acct, account_flags::debits_must_not_exceed_credits, now);
        std::uint64_t amount = 1 + pick(500);
        TR want = model.submit({single(tid, provider, model.stake_acct, Amount(amount), TransferCode::stake)}, now)[0];
        ASSERT_EQ(stake(ledger, tid, provider, Amount(amount)), want) << "step " << step;
        ++stake_ops[want == TR::ok ? "stake" : "stake refused"];
        note("stake " + std::string(to_string(want)));
      } else if (op == 1) {
        model.create_account(model.stake_acct, account_flags::debits_must_not_exceed_credits, now);
        std::uint64_t amount = 1 + pick(100), delay = 5 + pick(60);
        TransferRequest r = single(tid, model.stake_acct, provider, Amount(amount), TransferCode::unstake);
        r.flags = transfer_flags::pending;
        r.unbond_seconds = delay;
        TR want = model.submit({r}, now)[0];
        ASSERT_EQ(begin_unstake(ledger, tid, provider, Amount(amount), delay), want) << "step " << step;
        if (want == TR::ok) model.unstakes.push_back(tid);
        unstake_tries.push_back(tid);
        ++stake_ops[want == TR::ok ? "unstake" : "unstake refused"];
        note("unstake " + std::string(to_string(want)));
      } else if (op == 2 && !unstake_tries.empty()) {
        Id128 pending = unstake_tries[pick(unstake_tries.size())];
        if (!model.unstakes.empty() && pick(4) != 0) {
          pending = pick(2) == 0 ? model.unstakes.back() : model.unstakes[pick(model.unstakes.size())];
        }
        TR want = model.submit({post(tid, pending, Amount(0), TransferCode::unstake)}, now)[0];
        ASSERT_EQ(complete_unstake(ledger, tid, pending), want) << "step " << step;
        ++stake_ops["complete " + std::string(to_string(want))];
        note("complete " + std::string(to_string(want)));
      } else if (op == 3) {
        SlashRequest req{tid, provider, static_cast<std::uint32_t>(pick(4) == 0 ? pick(10'001) : pick(2'000)),
                         static_cast<std::uint32_t>(pick(10'001)), ids[1 + pick(5)], {"job", ""}};
        Model::Slash want = model.slash(req, now);
        SlashResult got = slash(ledger, req);
        ASSERT_EQ(got.slashed.units, want.slashed) << "step " << step;
        ASSERT_EQ(got.burned.units, want.burned) << "step " << step;
        ASSERT_EQ(got.compensated.units, want.compensated) << "step " << step;
        SlashResult again = slash(ledger, req);  // a retry changes nothing
        ASSERT_EQ(again.existed, want.slashed != 0) << "step " << step;
        ASSERT_EQ(again.slashed.units, want.slashed) << "step " << step;
        ++stake_ops[want.slashed != 0 ? "slash" : "slash nothing"];
        note("slash " + std::to_string(got.slashed.units) + " " + std::to_string(got.burned.units));
      } else {
        std::string job = "job-" + std::to_string(frames);
        FrameCommit c{job, frames++, provider, Hash256{}, Hash256{}};
        ASSERT_FALSE(ledger.append_frame_commit(c).existed);
        model.next_ts(now);
        ++model.events;
        SignedHead h = *ledger.head();
        Verdict v{job, c.frame, provider, verifier.id, pick(3) == 0 ? VerdictOutcome::fail : VerdictOutcome::pass,
                  "", h.size, h.root, 16, Hash256{}};
        if (v.outcome == VerdictOutcome::fail) v.reason = "fake";
        Verdict stale = v;
        stale.sample_tree_size = h.size - 1;  // the head before the commit: refused, nothing written
        stale.sample_root = ledger.head_at(h.size - 1)->root;
        EXPECT_THROW(ledger.append_verdict(stale), Error);
        ASSERT_FALSE(ledger.append_verdict(v).existed);
        ASSERT_TRUE(ledger.append_verdict(v).existed);
        model.next_ts(now);
        ++model.events;
        ++(v.outcome == VerdictOutcome::pass ? model.passes : model.fails);
        ++stake_ops["verdict"];
        note("verdict " + std::to_string(h.size));
      }
      for (const auto& [aid, m] : model.accounts) {
        auto a = ledger.find_account(aid);
        ASSERT_TRUE(a) << "step " << step;
        ASSERT_EQ(a->debits_pending.units, m.dp) << "step " << step << " account " << a->name;
        ASSERT_EQ(a->debits_posted.units, m.dpo) << "step " << step << " account " << a->name;
        ASSERT_EQ(a->credits_pending.units, m.cp) << "step " << step << " account " << a->name;
        ASSERT_EQ(a->credits_posted.units, m.cpo) << "step " << step << " account " << a->name;
      }
      ASSERT_EQ(staked(ledger, provider).units, model.staked()) << "step " << step;
      ASSERT_EQ(ledger.reputation(provider), (Reputation{model.passes, model.fails})) << "step " << step;
      ledger.check_invariants();
      ASSERT_EQ(ledger.event_count(), model.events) << "step " << step;
      if (pick(3) == 0) clock.advance_seconds(pick(8));
      continue;
    }
    // Mostly small batches: in an all-or-nothing batch only the first failure shows its reason.
    // One in 40 is large enough (kPipelineThreshold events and more) for the ledger to encode and
    // hash its events on the worker thread: deposits, exact retries, and sometimes one charge that
    // may be refused and throw the whole batch (and the worker's work) away.
    // The large batches draw from their own generator, so the small batches' stream (and the
    // coverage the fixed seeds reach) stays as it was before they were added.
    auto bulk_pick = [&](std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(bulk_rng); };
    const bool bulk = bulk_pick(40) == 0;
    std::vector<TransferRequest> batch(bulk ? 64 + bulk_pick(200) : pick(2) == 0 ? 1 : 1 + pick(pick(4) == 0 ? 12 : 3));
    if (bulk) {
      for (auto& r : batch) {
        std::uint64_t kind = bulk_pick(100);
        if (kind < 10 && !submitted.empty()) {
          r = submitted[bulk_pick(submitted.size())];
        } else if (kind == 99) {
          r = single(Id128{2, next_id++}, ids[bulk_pick(ids.size())], ids[bulk_pick(ids.size())], Amount(bulk_pick(400)),
                     TransferCode::charge);
        } else {
          Id128 to = ids[1 + bulk_pick(ids.size() - 1)];
          while (to == Id128{7, 6}) to = ids[1 + bulk_pick(ids.size() - 1)];  // credits must not exceed its debits
          r = single(Id128{2, next_id++}, ledger.issuer(), to, Amount(1 + bulk_pick(1000)), TransferCode::deposit);
        }
      }
    }
    for (auto& r : batch) {
      if (bulk) break;
      std::uint64_t kind = pick(100);
      Id128 tid{1, next_id++};
      if (kind < 20) {
        r = single(tid, ledger.issuer(), ids[1 + pick(ids.size() - 1)], Amount(1 + pick(1000)), TransferCode::deposit);
      } else if (kind < 45) {
        r = single(tid, random_account(), random_account(), Amount(pick(400)), TransferCode::charge);
        if (pick(15) == 0) r.unbond_seconds = 5;  // only a pending transfer may unbond
      } else if (kind < 65) {
        r = hold(tid, random_account(), random_account(), Amount(pick(300)), pick(3) == 0 ? 0 : 1 + pick(30));
        if (pick(3) == 0) r.unbond_seconds = 1 + pick(120);  // cannot be posted for a while
        holds.push_back(tid);
      } else if (kind < 78 && !holds.empty()) {
        r = post(tid, some_hold(), Amount(pick(3) == 0 ? 0 : pick(320)));
      } else if (kind < 88 && !holds.empty()) {
        r = void_pending(tid, pick(10) == 0 ? Id128{1, next_id + 1000} : some_hold());
      } else if (kind < 97 && !submitted.empty()) {
        r = submitted[pick(submitted.size())];  // a retry
        if (pick(4) == 0) r.amount = Amount(r.amount.units + 1);  // a conflicting retry
      } else {
        r = single(pick(2) ? Id128{} : tid, random_account(), random_account(), Amount(1), TransferCode::fee);
        if (pick(2)) r.flags = transfer_flags::pending | transfer_flags::post_pending;
      }
    }
    std::vector<TR> expected = model.submit(batch, *clock.now);
    std::vector<TR> got = ledger.submit(batch);
    ASSERT_EQ(got, expected) << "step " << step;
    note(join(got));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (got[i] == TR::ok) submitted.push_back(batch[i]);
      if (got[i] == TR::ok && batch[i].flags == transfer_flags::pending) placed.push_back(batch[i].id);
      ++seen[got[i]];
    }
    if (bulk) ++(got[0] == TR::batch_failed || std::count(got.begin(), got.end(), TR::ok) == 0 ? bulk_refused : bulk_applied);
    for (const auto& [aid, m] : model.accounts) {
      Account a = *ledger.find_account(aid);
      ASSERT_EQ(a.debits_pending.units, m.dp) << "step " << step << " account " << a.name;
      ASSERT_EQ(a.debits_posted.units, m.dpo) << "step " << step << " account " << a.name;
      ASSERT_EQ(a.credits_pending.units, m.cp) << "step " << step << " account " << a.name;
      ASSERT_EQ(a.credits_posted.units, m.cpo) << "step " << step << " account " << a.name;
    }
    ledger.check_invariants();
    ASSERT_EQ(ledger.event_count(), model.events) << "step " << step;
    ASSERT_EQ(ledger.head()->size, model.events) << "step " << step;

    if (pick(3) == 0) clock.advance_seconds(pick(8));
    if (pick(5) == 0) *clock.now += pick(1'000'000);  // sub-second jitter
    if (pick(10) == 0) {
      model.sweep(*clock.now);
      ledger.sweep();
    }
    if (step % 100 == 99) {
      auto report = audit(ledger.storage(), ledger.public_key(), "test");
      ASSERT_TRUE(report.ok()) << "step " << step << ": " << report.problems.front();
    }
  }
  auto report = audit(ledger.storage(), ledger.public_key(), "test");
  ASSERT_TRUE(report.ok()) << report.problems.front();
  if (trace) {
    trace->events = ledger.storage().read_events(0, ledger.event_count());
    trace->accounts = ledger.list_accounts();
    trace->transfers = ledger.storage().list_transfers();
    trace->head = ledger.head();
  }
  if (check_coverage) {  // only for the fixed seeds: a random seed must never make the test flaky
    for (TR r : {TR::ok, TR::exists, TR::exists_with_different_fields, TR::batch_failed, TR::exceeds_credits,
                 TR::exceeds_pending_amount, TR::pending_transfer_already_posted, TR::pending_transfer_already_voided,
                 TR::pending_transfer_expired, TR::pending_transfer_not_found, TR::accounts_must_be_different,
                 TR::debit_account_not_found, TR::flags_are_mutually_exclusive, TR::pending_transfer_unbonding,
                 TR::unbond_reserved_for_pending}) {
      EXPECT_GT(seen[r], 0) << "the workload never produced " << to_string(r);
    }
    for (const char* op : {"stake", "unstake", "slash", "verdict", "complete ok", "complete pending_transfer_unbonding"}) {
      EXPECT_GT(stake_ops[op], 0) << "the workload never ran " << op;
    }
    EXPECT_GT(bulk_applied, 0) << "no large batch was applied";
    EXPECT_GT(bulk_refused, 0) << "no large batch was refused";
    std::size_t expired = 0;
    for (const auto& [tid, t] : model.transfers) expired += t.state == PendingState::expired;
    EXPECT_GT(expired, 0u) << "no hold ever expired";
  }
}

class LedgerSimulation : public testing::BackendTest {
 protected:
  // A fresh ledger per seed, on this case's backend.
  std::unique_ptr<Storage> fresh() {
    locations_.push_back(std::make_unique<testing::LedgerLocation>(GetParam()));
    return locations_.back()->open(testing::Access::create);
  }

 private:
  std::vector<std::unique_ptr<testing::LedgerLocation>> locations_;
};

TEST_P(LedgerSimulation, MatchesModelAcrossSeeds) {
  if (const char* s = std::getenv("RFARM_SIM_SEED")) {
    run_simulation(std::strtoull(s, nullptr, 10), 2000, fresh());
    return;
  }
  // Fixed seeds keep CI reproducible; one time-derived seed widens coverage run by run (printed on
  // failure). PostgreSQL answers each of the model's many reads in a round trip: one fixed seed
  // there (its coverage is checked on its own); the semantic-equality test below ties it to SQLite.
  const bool pg = GetParam() == testing::Backend::postgres;
  const std::vector<std::uint64_t> seeds = pg ? std::vector<std::uint64_t>{42} : std::vector<std::uint64_t>{1, 2, 3, 42, 1234567};
  for (std::uint64_t seed : seeds) {
    run_simulation(seed, 600, fresh(), true);
    if (HasFatalFailure()) return;
  }
  run_simulation(static_cast<std::uint64_t>(std::random_device{}()), pg ? 200 : 400, fresh());
}

INSTANTIATE_TEST_SUITE_P(Backends, LedgerSimulation, testing::all_backends(), testing::BackendName());

// The semantic equality: one seed on SQLite and on PostgreSQL gives the identical sequence
// of results and events (byte for byte), the same balances and transfers, and the same signed head.
TEST(LedgerSimulationBackends, OneSeedGivesIdenticalEventsBalancesAndRootOnBoth) {
  if (!rfarm::testing::require_postgres()) return;
  const std::uint64_t seed = std::getenv("RFARM_SIM_SEED") ? std::strtoull(std::getenv("RFARM_SIM_SEED"), nullptr, 10) : 7;
  testing::LedgerLocation sqlite(testing::Backend::sqlite), postgres(testing::Backend::postgres);
  SimulationTrace a, b;
  ASSERT_NO_FATAL_FAILURE(run_simulation(seed, 500, sqlite.open(testing::Access::create), false, &a));
  ASSERT_NO_FATAL_FAILURE(run_simulation(seed, 500, postgres.open(testing::Access::create), false, &b));
  ASSERT_EQ(a.outcomes.size(), b.outcomes.size());
  for (std::size_t i = 0; i < a.outcomes.size(); ++i) ASSERT_EQ(a.outcomes[i], b.outcomes[i]) << "step " << i;
  ASSERT_EQ(a.events.size(), b.events.size());
  EXPECT_GT(a.events.size(), 250u);
  for (std::size_t i = 0; i < a.events.size(); ++i) {
    ASSERT_EQ(a.events[i].index, b.events[i].index);
    ASSERT_EQ(a.events[i].body, b.events[i].body) << "event " << i;
    ASSERT_EQ(a.events[i].leaf_hash, b.events[i].leaf_hash) << "event " << i;
  }
  EXPECT_EQ(a.accounts, b.accounts);
  EXPECT_EQ(a.transfers, b.transfers);
  ASSERT_TRUE(a.head && b.head);
  EXPECT_EQ(a.head->size, b.head->size);
  EXPECT_EQ(a.head->root, b.head->root);
  EXPECT_EQ(a.head->signature, b.head->signature);
}

}  // namespace
}  // namespace rfarm::ledger
