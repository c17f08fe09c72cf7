#include "ledger/audit.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/event.h"
#include "ledger/limits.h"

namespace rfarm::ledger {

namespace {

template <class... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

class Replay {
 public:
  explicit Replay(std::vector<std::string>& problems) : problems_(problems) {}

  void apply(const Event& e) {
    std::visit(overloaded{
                   [&](const AccountEvent& a) {
                     if (accounts_.count(a.account.id)) return problem(e, "creates account " + a.account.id.hex() + " twice");
                     accounts_[a.account.id] = a.account;
                     origin_[a.account.id] = e.seq;
                   },
                   [&](const TransferEvent& t) { transfer(e, t); },
                   [&](const ExpiryEvent& x) { release(e, x.pending_id, x.pending_amount, PendingState::expired, Amount(0)); },
                   [&](const FrameEvent& f) { frame(e, f.commit); },
                   [&](const VerdictEvent& v) { verdict(e, v.verdict); },
                   [&](const UsageEvent& u) {
                     if (usage_.count(u.usage.record)) return problem(e, "records usage " + u.usage.record + " twice");
                     usage_[u.usage.record] = {u.usage, e.seq};
                   },
               },
               e.body);
  }

  std::map<Id128, Account> accounts_;
  std::map<Id128, std::uint64_t> origin_;  // account id -> event that created it
  std::map<Id128, Transfer> transfers_;
  using FrameKey = std::tuple<std::string, std::uint64_t, Id128>;
  std::map<FrameKey, StoredFrameCommit> frames_;
  std::map<std::tuple<std::string, std::uint64_t, Id128, std::uint64_t>, RecordedVerdict> verdicts_;
  std::map<std::string, StoredUsage> usage_;

 private:
  void frame(const Event& e, const FrameCommit& c) {
    FrameKey key{c.job, c.frame, c.provider};
    if (frames_.count(key)) return problem(e, "commits job " + c.job + " frame " + std::to_string(c.frame) + " twice");
    if (!accounts_.count(c.provider)) return problem(e, "commits a frame for a missing provider account");
    frames_[key] = {c, e.seq};
  }

  void verdict(const Event& e, const Verdict& v) {
    auto f = frames_.find(FrameKey{v.job, v.frame, v.provider});
    if (f == frames_.end()) return problem(e, "judges job " + v.job + " frame " + std::to_string(v.frame) + ", which has no commit");
    if (!accounts_.count(v.verifier)) return problem(e, "names a missing verifier account " + v.verifier.hex());
    if (v.sample_tree_size <= f->second.event || v.sample_tree_size > e.seq) {
      return problem(e, "derives its sample from a head (size " + std::to_string(v.sample_tree_size) +
                            ") that does not lie between the commit and the verdict");
    }
    auto key = std::make_tuple(v.job, v.frame, v.provider, v.sample_tree_size);
    if (verdicts_.count(key)) return problem(e, "judges the same frame from the same head twice");
    verdicts_[key] = {e.seq, v};
  }

  void problem(const Event& e, const std::string& what) {
    problems_.push_back("events row " + std::to_string(e.seq) + ": " + what);
  }

  bool add(const Event& e, Amount& field, Amount v) {
    auto r = field.checked_add(v);
    if (!r || r->units > kMaxAmount) {
      problem(e, "overflows a balance");
      return false;
    }
    field = *r;
    return true;
  }
  bool sub(const Event& e, Amount& field, Amount v) {
    auto r = field.checked_sub(v);
    if (!r) {
      problem(e, "releases more than is pending");
      return false;
    }
    field = *r;
    return true;
  }

  void transfer(const Event& e, const TransferEvent& te) {
    const Transfer& t = te.transfer;
    if (transfers_.count(t.id)) return problem(e, "records transfer " + t.id.hex() + " twice");
    if (t.flags == transfer_flags::post_pending || t.flags == transfer_flags::void_pending) {
      transfers_[t.id] = t;
      if (auto p = transfers_.find(t.pending_id); p != transfers_.end() && t.flags == transfer_flags::post_pending &&
                                                  p->second.unbond_at != 0 && t.timestamp < p->second.unbond_at) {
        problem(e, "posts " + t.pending_id.hex() + " before its unbonding ends");
      }
      bool post = t.flags == transfer_flags::post_pending;
      release(e, t.pending_id, te.pending_amount, post ? PendingState::posted : PendingState::voided,
              post ? t.amount : Amount(0));
      return;
    }
    auto d = accounts_.find(t.debit_account);
    auto c = accounts_.find(t.credit_account);
    if (d == accounts_.end() || c == accounts_.end() || t.debit_account == t.credit_account || t.amount.units == 0) {
      return problem(e, "transfer " + t.id.hex() + " names a missing account or a zero amount");
    }
    bool pending = t.flags == transfer_flags::pending;
    if ((t.unbond_seconds != 0) != (t.unbond_at != 0) || (t.unbond_seconds != 0 && !pending) ||
        (t.unbond_seconds != 0 && t.unbond_at != t.timestamp + t.unbond_seconds * kNanosPerSecond)) {
      return problem(e, "transfer " + t.id.hex() + " has an inconsistent unbonding time");
    }
    if (!add(e, pending ? d->second.debits_pending : d->second.debits_posted, t.amount)) return;
    if (!add(e, pending ? c->second.credits_pending : c->second.credits_posted, t.amount)) return;
    const Account& da = d->second;
    if ((da.flags & account_flags::debits_must_not_exceed_credits) != 0 &&
        da.debits_pending.units + da.debits_posted.units > da.credits_posted.units) {
      problem(e, "overdraws account " + da.id.hex() + " (" + da.name + "), which may not overdraw");
    }
    const Account& ca = c->second;
    if ((ca.flags & account_flags::credits_must_not_exceed_debits) != 0 &&
        ca.credits_pending.units + ca.credits_posted.units > ca.debits_posted.units) {
      problem(e, "over-credits account " + ca.id.hex() + " (" + ca.name + ")");
    }
    transfers_[t.id] = t;
  }

  // A post, void or expiry: the hold leaves pending; a post moves `posted` into posted.
  void release(const Event& e, const Id128& pending_id, Amount pending_amount, PendingState to, Amount posted) {
    auto p = transfers_.find(pending_id);
    if (p == transfers_.end() || p->second.flags != transfer_flags::pending) {
      return problem(e, "settles " + pending_id.hex() + ", which is not a pending transfer");
    }
    if (p->second.state != PendingState::pending) {
      return problem(e, "settles " + pending_id.hex() + ", which is already " + std::string(to_string(p->second.state)));
    }
    if (p->second.amount != pending_amount || posted > pending_amount) {
      return problem(e, "settles " + pending_id.hex() + " with amounts that do not match the hold");
    }
    p->second.state = to;
    Account& d = accounts_[p->second.debit_account];
    Account& c = accounts_[p->second.credit_account];
    if (!sub(e, d.debits_pending, pending_amount) || !sub(e, c.credits_pending, pending_amount)) return;
    if (posted.units != 0) {
      if (!add(e, d.debits_posted, posted)) return;
      add(e, c.credits_posted, posted);
    }
  }

  std::vector<std::string>& problems_;
};

void compare_field(std::vector<std::string>& problems, const std::string& row, std::string_view field,
                   const std::string& stored, const std::string& replayed) {
  if (stored != replayed) {
    problems.push_back(row + ": " + std::string(field) + " is " + stored + " but the events give " + replayed);
  }
}

std::string u(std::uint64_t v) { return std::to_string(v); }

void compare_accounts(const Replay& replay, const std::vector<Account>& stored, std::vector<std::string>& problems) {
  std::map<Id128, bool> seen;
  for (const Account& a : stored) {
    std::string row = "accounts row " + a.id.hex() + " (" + a.name + ")";
    auto it = replay.accounts_.find(a.id);
    if (it == replay.accounts_.end()) {
      problems.push_back(row + ": no event created this account (row inserted by hand?)");
      continue;
    }
    seen[a.id] = true;
    const Account& r = it->second;
    compare_field(problems, row, "name", a.name, r.name);
    compare_field(problems, row, "kind", std::string(to_string(a.kind)), std::string(to_string(r.kind)));
    compare_field(problems, row, "owner", a.owner, r.owner);
    compare_field(problems, row, "cluster", a.cluster, r.cluster);
    compare_field(problems, row, "flags", u(a.flags), u(r.flags));
    compare_field(problems, row, "timestamp", u(a.timestamp), u(r.timestamp));
    compare_field(problems, row, "debits_pending", u(a.debits_pending.units), u(r.debits_pending.units));
    compare_field(problems, row, "debits_posted", u(a.debits_posted.units), u(r.debits_posted.units));
    compare_field(problems, row, "credits_pending", u(a.credits_pending.units), u(r.credits_pending.units));
    compare_field(problems, row, "credits_posted", u(a.credits_posted.units), u(r.credits_posted.units));
  }
  for (const auto& [id, a] : replay.accounts_) {
    if (!seen.count(id)) {
      problems.push_back("accounts: account " + id.hex() + " (" + a.name + ") created by event #" +
                         u(replay.origin_.at(id)) + " is missing from the table (row deleted by hand?)");
    }
  }
}

void compare_transfers(const Replay& replay, const std::vector<Transfer>& stored, std::vector<std::string>& problems) {
  std::map<Id128, bool> seen;
  for (const Transfer& t : stored) {
    std::string row = "transfers row " + t.id.hex();
    auto it = replay.transfers_.find(t.id);
    if (it == replay.transfers_.end()) {
      problems.push_back(row + ": no event recorded this transfer (row inserted by hand?)");
      continue;
    }
    seen[t.id] = true;
    const Transfer& r = it->second;
    compare_field(problems, row, "debit_account", t.debit_account.hex(), r.debit_account.hex());
    compare_field(problems, row, "credit_account", t.credit_account.hex(), r.credit_account.hex());
    compare_field(problems, row, "amount", u(t.amount.units), u(r.amount.units));
    compare_field(problems, row, "code", std::string(to_string(t.code)), std::string(to_string(r.code)));
    compare_field(problems, row, "flags", u(t.flags), u(r.flags));
    compare_field(problems, row, "pending_id", t.pending_id.hex(), r.pending_id.hex());
    compare_field(problems, row, "timeout", u(t.timeout_seconds), u(r.timeout_seconds));
    compare_field(problems, row, "job", t.user_data.job, r.user_data.job);
    compare_field(problems, row, "frames", t.user_data.frames, r.user_data.frames);
    compare_field(problems, row, "usage", t.user_data.usage, r.user_data.usage);
    compare_field(problems, row, "timestamp", u(t.timestamp), u(r.timestamp));
    compare_field(problems, row, "expires_at", u(t.expires_at), u(r.expires_at));
    compare_field(problems, row, "unbond", u(t.unbond_seconds), u(r.unbond_seconds));
    compare_field(problems, row, "unbond_at", u(t.unbond_at), u(r.unbond_at));
    compare_field(problems, row, "state", std::string(to_string(t.state)), std::string(to_string(r.state)));
    compare_field(problems, row, "event", u(t.event), u(r.event));
  }
  for (const auto& [id, t] : replay.transfers_) {
    if (!seen.count(id)) {
      problems.push_back("transfers: transfer " + id.hex() + " recorded by event #" + u(t.event) +
                         " is missing from the table (row deleted by hand?)");
    }
  }
}

void compare_evidence(const Replay& replay, Storage& storage, std::vector<std::string>& problems) {
  std::size_t seen = 0;
  for (const StoredFrameCommit& c : storage.list_frame_commits()) {
    std::string row = "frame_commits row " + c.commit.job + "/" + u(c.commit.frame) + "/" + c.commit.provider.hex();
    auto it = replay.frames_.find({c.commit.job, c.commit.frame, c.commit.provider});
    if (it == replay.frames_.end()) {
      problems.push_back(row + ": no event committed this frame (row inserted or edited by hand?)");
      continue;
    }
    ++seen;
    compare_field(problems, row, "exr_hash", c.commit.exr_hash.hex(), it->second.commit.exr_hash.hex());
    compare_field(problems, row, "tile_root", c.commit.tile_root.hex(), it->second.commit.tile_root.hex());
    compare_field(problems, row, "event", u(c.event), u(it->second.event));
  }
  if (seen != replay.frames_.size()) {
    problems.push_back("frame_commits: " + u(replay.frames_.size() - std::min(seen, replay.frames_.size())) +
                       " frame commits recorded by events are missing from the table (rows deleted by hand?)");
  }
  seen = 0;
  for (const RecordedVerdict& r : storage.list_verdicts()) {
    const Verdict& v = r.verdict;
    std::string row = "verdicts row " + v.job + "/" + u(v.frame) + "/" + v.provider.hex() + "/" + u(v.sample_tree_size);
    auto it = replay.verdicts_.find({v.job, v.frame, v.provider, v.sample_tree_size});
    if (it == replay.verdicts_.end()) {
      problems.push_back(row + ": no event recorded this verdict (row inserted or edited by hand?)");
      continue;
    }
    ++seen;
    const Verdict& w = it->second.verdict;
    compare_field(problems, row, "verifier", v.verifier.hex(), w.verifier.hex());
    compare_field(problems, row, "outcome", std::string(to_string(v.outcome)), std::string(to_string(w.outcome)));
    compare_field(problems, row, "reason", v.reason, w.reason);
    compare_field(problems, row, "sample_root", v.sample_root.hex(), w.sample_root.hex());
    compare_field(problems, row, "cells", u(v.cells_checked), u(w.cells_checked));
    compare_field(problems, row, "evidence", v.evidence_hash.hex(), w.evidence_hash.hex());
    compare_field(problems, row, "event", u(r.event), u(it->second.event));
  }
  if (seen != replay.verdicts_.size()) {
    problems.push_back("verdicts: " + u(replay.verdicts_.size() - std::min(seen, replay.verdicts_.size())) +
                       " verdicts recorded by events are missing from the table (rows deleted by hand?)");
  }
  seen = 0;
  for (const StoredUsage& s : storage.list_usage()) {
    std::string row = "usage row " + s.usage.record;
    auto it = replay.usage_.find(s.usage.record);
    if (it == replay.usage_.end()) {
      problems.push_back(row + ": no event recorded this usage (row inserted or edited by hand?)");
      continue;
    }
    ++seen;
    if (s.usage != it->second.usage || s.event != it->second.event) {
      problems.push_back(row + ": differs from usage event #" + u(it->second.event));
    }
  }
  if (seen != replay.usage_.size()) {
    problems.push_back("usage: " + u(replay.usage_.size() - std::min(seen, replay.usage_.size())) +
                       " usage records recorded by events are missing from the table (rows deleted by hand?)");
  }
}

}  // namespace

AuditReport audit(Storage& storage, const PublicKey& key, const std::string& cluster) {
  ReadSnapshot snap(storage);
  AuditReport report;
  auto& problems = report.problems;

  // 1 + 2: events, leaf hashes, replay. Bodies are read in chunks so memory stays bounded by the
  // leaf hashes (32 bytes per event) and the replayed state, not by the whole log's text.
  constexpr std::uint64_t kChunk = 8192;
  std::uint64_t count = storage.event_count();
  std::vector<Hash256> leaves;
  leaves.reserve(count);
  Replay replay(problems);
  bool gap = false;
  for (std::uint64_t from = 0; from < count && !gap; from += kChunk) {
    for (const StoredEvent& row : storage.read_events(from, std::min(count, from + kChunk))) {
      std::uint64_t i = leaves.size();
      if (row.index != i) {
        problems.push_back("events: row " + u(i) + " is missing (the next row has index " + u(row.index) + ")");
        gap = true;  // every later index is shifted; the root check below reports the damage too
        break;
      }
      Hash256 leaf = merkle::leaf_hash(as_bytes(row.body));
      leaves.push_back(leaf);
      if (row.by_reference && row.body.empty()) {
        // The body lived in the transfers row (or, for a post or void, needs its hold's row too),
        // which is gone: the event cannot be replayed.
        problems.push_back("events row " + u(i) + ": transfer " + row.transfer.hex() +
                           " (the event's body, stored by reference), or the hold it posts or voids, is missing "
                           "from the table (transfers row deleted by hand?)");
        continue;
      }
      if (leaf != row.leaf_hash) {
        problems.push_back(row.by_reference
                               ? "transfers row " + row.transfer.hex() + " (event " + u(i) +
                                     "): its fields no longer hash to the event's leaf_hash, so the row (or the "
                                     "pending row it posts or voids) was edited after it was logged"
                               : "events row " + u(i) + ": body does not match its leaf_hash");
      }
      try {
        replay.apply(decode_event(row.body, i));
      } catch (const Error& e) {
        problems.push_back(std::string("events row ") + u(i) + ": " + e.what());
      }
    }
  }
  report.events = leaves.size();

  // 3: the tables against the replay.
  auto accounts = storage.list_accounts();
  auto transfers = storage.list_transfers();
  report.accounts = accounts.size();
  report.transfers = transfers.size();
  compare_accounts(replay, accounts, problems);
  compare_transfers(replay, transfers, problems);
  compare_evidence(replay, storage, problems);

  // 4: signed heads against roots recomputed from the bodies.
  auto heads = storage.list_heads();
  report.heads = heads.size();
  merkle::Frontier frontier;
  // The stored subtree roots that proofs are built from must match the leaves too.
  auto check_node = [&](unsigned level, std::uint64_t index, const Hash256& hash) {
    if (level < kMinStoredNodeLevel) return;
    auto stored = storage.get_node(level, index);
    if (!stored) {
      problems.push_back("nodes row " + u(level) + "/" + u(index) + ": missing");
    } else if (*stored != hash) {
      problems.push_back("nodes row " + u(level) + "/" + u(index) + ": hash does not match the events it covers");
    }
  };
  std::uint64_t previous = 0;
  bool root_mismatch_reported = false;
  for (const SignedHead& h : heads) {
    std::string row = "heads row size=" + u(h.size);
    if (!verify_head(key, h)) problems.push_back(row + ": signature does not verify with the cluster key");
    if (h.cluster != cluster) problems.push_back(row + ": cluster is " + h.cluster + ", expected " + cluster);
    if (h.size > leaves.size()) {
      problems.push_back(row + ": signs " + u(h.size) + " events but the log holds " + u(leaves.size()) +
                         " (event rows deleted?)");
      break;
    }
    while (frontier.size() < h.size) frontier.append(leaves[frontier.size()], check_node);
    if (frontier.root() != h.root && !root_mismatch_reported) {
      // Earlier heads matched, so the altered rows are among the ones this head added.
      problems.push_back(row + ": root does not match the events; events rows " + u(previous) + ".." + u(h.size - 1) +
                         " were altered after they were signed");
      root_mismatch_reported = true;
    }
    previous = h.size;
  }
  if (heads.empty() && !leaves.empty()) problems.push_back("heads: no signed head covers the log");
  if (!heads.empty() && heads.back().size < leaves.size()) {
    problems.push_back("events rows " + u(heads.back().size) + ".." + u(leaves.size() - 1) +
                       " are not covered by any signed head (rows appended by hand?)");
  }

  // 5: the invariant over the stored accounts.
  __extension__ typedef unsigned __int128 u128;
  u128 dp = 0, dq = 0, cp = 0, cq = 0;
  for (const Account& a : accounts) {
    dp += a.debits_posted.units;
    dq += a.debits_pending.units;
    cp += a.credits_posted.units;
    cq += a.credits_pending.units;
  }
  if (dp != cp) problems.push_back("accounts: sum of debits_posted differs from sum of credits_posted");
  if (dq != cq) problems.push_back("accounts: sum of debits_pending differs from sum of credits_pending");
  return report;
}

}  // namespace rfarm::ledger
