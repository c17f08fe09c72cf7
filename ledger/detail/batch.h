#pragma once
// The state one write transaction carries: the log's frontier and clock as of the transaction's
// start (re-read from storage inside it, so concurrent writer processes never fork the log).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/merkle.h"
#include "ledger/detail/event_pipeline.h"
#include "ledger/detail/id_hash.h"
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
  // The log: events appended in this write are encoded and hashed here (on a worker thread for a
  // large write) and reach storage at drain().
  detail::EventPipeline events;
  std::uint64_t last_timestamp = 0;
  const Clock& clock;
  std::uint64_t events_appended = 0;

  Batch(Storage& s, merkle::Frontier frontier, const Clock& c)
      : storage(s), events(std::move(frontier), kMinStoredNodeLevel), clock(c) {}

  // Ledger timestamps are strictly increasing even if the wall clock steps back, so every event has
  // a unique time and "ordered by timestamp" equals "ordered by log index".
  std::uint64_t next_timestamp() {
    last_timestamp = std::max(clock(), last_timestamp + 1);
    return last_timestamp;
  }
  // The timestamp next_timestamp() would return, without taking it.
  std::uint64_t peek_timestamp() const { return std::max(clock(), last_timestamp + 1); }
  // Takes a timestamp got from peek_timestamp() (the clock may have moved since: the peeked value
  // is the one the element was built with).
  void take_timestamp(std::uint64_t ts) {
    if (ts <= last_timestamp) {
      throw Error(Error::Kind::Internal, "ledger: timestamp " + std::to_string(ts) + " is not after " +
                                             std::to_string(last_timestamp));
    }
    last_timestamp = ts;
  }

  // Accounts read or changed in this batch, by id. Balances are written back once per batch
  // (flush), not once per transfer: a batch of 8190 transfers between a few accounts costs a few
  // UPDATEs. load() hands out a pointer into this cache (stable: node-based map), so a transfer
  // reads its accounts without copying their names; it changes them only through commit_balances().
  struct Cached {
    Account account;
    bool dirty = false;
  };
  std::unordered_map<Id128, Cached, detail::IdHash> accounts;

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
  // Loads the accounts among `ids` not cached yet in one storage call (a batch's debit and credit
  // accounts); load() then answers them from the cache. Unknown ids stay unknown: load() asks again
  // and gets nullptr, so the refusal is the same as without the preload.
  void preload(std::span<const Id128> ids) {
    std::vector<Id128> missing;
    missing.reserve(ids.size());
    for (const Id128& id : ids) {
      if (!id.is_zero() && !accounts.contains(id)) missing.push_back(id);
    }
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    if (missing.size() < 2) return;  // load() costs the same for one
    for (Account& a : storage.find_accounts(missing)) {
      const Id128 id = a.id;
      accounts.try_emplace(id, Cached{std::move(a), false});
    }
  }
  void flush() {
    std::vector<const Account*> dirty;
    for (auto& [id, c] : accounts) {
      if (c.dirty) dirty.push_back(&c.account);
      c.dirty = false;
    }
    if (dirty.empty()) return;
    // A fixed order (by id), so concurrent writers of a backend without a global write lock would
    // still take row locks in one order; and the statement is the same for the same batch.
    std::sort(dirty.begin(), dirty.end(), [](const Account* a, const Account* b) { return a->id < b->id; });
    storage.update_many_balances(std::span<const Account* const>(dirty));
  }

  // The index the next appended event gets.
  std::uint64_t next_event_index() const { return events.next_index(); }
  // Appends one event as the next leaf; returns its index. It reaches storage at drain().
  std::uint64_t append(Event e) {
    ++events_appended;
    return events.push(std::move(e));
  }
  // Writes every appended event and its completed Merkle nodes to storage; after it,
  // events.frontier() is the log's. A networked storage first sends the rows it buffered, so the
  // server stores them while the event worker finishes hashing.
  void drain() {
    storage.send_buffered_rows();
    events.drain([this](StoredEvent&& e) { storage.append_event(e); },
                 [this](const detail::EventPipeline::Node& n) { storage.put_node(n.level, n.index, n.hash); });
  }
};

}  // namespace rfarm::ledger
