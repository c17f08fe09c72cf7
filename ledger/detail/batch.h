#pragma once
// The state one write transaction carries: the log's frontier and clock as of the transaction's
// start (re-read from storage inside it, so concurrent writer processes never fork the log).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <optional>

#include "core/merkle.h"
#include "ledger/event.h"
#include "ledger/ledger.h"

namespace rfarm::ledger {

// An account's four balance fields, copied out so a transfer can compute its result before deciding
// to keep it.
struct Balances {
  Amount debits_pending, debits_posted, credits_pending, credits_posted;
  explicit Balances(const Account& a)
      : debits_pending(a.debits_pending), debits_posted(a.debits_posted), credits_pending(a.credits_pending),
        credits_posted(a.credits_posted) {}
};

struct Ledger::Batch {
  Storage& storage;
  merkle::Frontier frontier;
  std::uint64_t last_timestamp = 0;
  const Clock& clock;
  std::uint64_t events_appended = 0;

  // Ledger timestamps are strictly increasing even if the wall clock steps back, so every event has
  // a unique time and "ordered by timestamp" equals "ordered by log index".
  std::uint64_t next_timestamp() {
    last_timestamp = std::max(clock(), last_timestamp + 1);
    return last_timestamp;
  }
  // The timestamp next_timestamp() would return, without taking it.
  std::uint64_t peek_timestamp() const { return std::max(clock(), last_timestamp + 1); }

  // Accounts read or changed in this batch, by id. Balances are written back once per batch
  // (flush), not once per transfer: a batch of 8190 transfers between a few accounts costs a few
  // UPDATEs. load() hands out a pointer into this cache (stable: node-based map), so a transfer
  // reads its accounts without copying their names; it changes them only through commit_balances().
  struct Cached {
    Account account;
    bool dirty = false;
  };
  struct IdHash {
    std::size_t operator()(const Id128& id) const noexcept { return std::hash<std::uint64_t>{}(id.hi ^ (id.lo * 0x9e3779b97f4a7c15ULL)); }
  };
  std::unordered_map<Id128, Cached, IdHash> accounts;

  // The cached account, read from storage on first use; nullptr when it does not exist.
  const Account* load(const Id128& id) {
    if (auto it = accounts.find(id); it != accounts.end()) return &it->second.account;
    auto a = storage.find_account(id);
    if (!a) return nullptr;
    return &accounts.emplace(id, Cached{std::move(*a), false}).first->second.account;
  }
  // Replaces the four balance fields of a loaded account and marks it for write-back.
  void commit_balances(const Account& a, const Balances& b) {
    Cached& c = accounts.at(a.id);
    c.account.debits_pending = b.debits_pending;
    c.account.debits_posted = b.debits_posted;
    c.account.credits_pending = b.credits_pending;
    c.account.credits_posted = b.credits_posted;
    c.dirty = true;
  }
  void flush() {
    for (auto& [id, c] : accounts) {
      if (c.dirty) storage.update_balances(c.account);
      c.dirty = false;
    }
  }

  // Appends one event as the next leaf; returns its index.
  std::uint64_t append(Event e) {
    e.seq = frontier.size();
    std::string body = encode_event(e);
    Hash256 leaf = merkle::leaf_hash(as_bytes(body));
    storage.append_event({e.seq, std::move(body), leaf});
    frontier.append(leaf, [this](unsigned level, std::uint64_t index, const Hash256& hash) {
      if (level >= kMinStoredNodeLevel) storage.put_node(level, index, hash);
    });
    ++events_appended;
    return e.seq;
  }
};

}  // namespace rfarm::ledger
