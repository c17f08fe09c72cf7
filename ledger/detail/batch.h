#pragma once
// The state one write transaction carries: the log's frontier and clock as of the transaction's
// start (re-read from storage inside it, so concurrent writer processes never fork the log).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>

#include "core/merkle.h"
#include "ledger/event.h"
#include "ledger/ledger.h"

namespace rfarm::ledger {

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

  // Accounts read or changed in this batch. Balances are written back once per batch (flush), not
  // once per transfer: a batch of 8190 transfers between a few accounts costs a few UPDATEs.
  std::map<Id128, Account> accounts;
  std::map<Id128, bool> dirty;

  std::optional<Account> load(const Id128& id) {
    if (auto it = accounts.find(id); it != accounts.end()) return it->second;
    auto a = storage.find_account(id);
    if (a) accounts.emplace(id, *a);
    return a;
  }
  void store(const Account& a) {
    accounts[a.id] = a;
    dirty[a.id] = true;
  }
  void flush() {
    for (const auto& [id, changed] : dirty) {
      if (changed) storage.update_balances(accounts.at(id));
    }
    dirty.clear();
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
