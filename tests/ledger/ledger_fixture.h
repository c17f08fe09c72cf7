#pragma once
// A ledger over private in-memory SQLite with a controllable clock and a fixed key.
#include <memory>

#include "ledger/ledger.h"

namespace rfarm::ledger::testing {

inline SigningKey test_key(std::uint8_t seed_byte = 1) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(seed_byte);
  return SigningKey::from_seed(seed);
}

struct ManualClock {
  std::shared_ptr<std::uint64_t> now = std::make_shared<std::uint64_t>(1'700'000'000ULL * 1'000'000'000ULL);
  Clock clock() const {
    auto n = now;
    return [n] { return *n; };
  }
  void advance_seconds(std::uint64_t s) { *now += s * 1'000'000'000ULL; }
};

inline Id128 id(std::uint64_t n) { return Id128{0, n}; }

inline Ledger make_ledger(const ManualClock& clock, std::unique_ptr<Storage> storage = nullptr) {
  if (!storage) storage = open_sqlite_storage(":memory:", {.durable = false, .create = true});
  InitOptions o;
  o.cluster = "test";
  o.decimals = 6;
  o.issuer_id = Id128{0xffff, 1};
  return Ledger::init(std::move(storage), o, test_key(), clock.clock());
}

}  // namespace rfarm::ledger::testing
