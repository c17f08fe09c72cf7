#pragma once
// One `accounts` row as both storage backends read it (SQLite and PostgreSQL store the same columns:
// ids and the kind as text, quantities as integers), turned into an Account in one place.
#include <cstdint>
#include <functional>
#include <string_view>

#include "ledger/types.h"

namespace rfarm::ledger::detail {

struct AccountRow {
  std::string_view id, name, kind, owner, cluster;
  std::uint64_t flags = 0;
  std::uint64_t debits_pending = 0, debits_posted = 0, credits_pending = 0, credits_posted = 0;
  std::uint64_t timestamp = 0;
};

// The Account the row holds. A field that cannot be one (an id that is not hex, an unknown kind,
// flags beyond 32 bits) is handed to `bad`, which must throw (the backend names its table and row).
Account account_from_row(const AccountRow& row, const std::function<void(std::string_view field)>& bad);

}  // namespace rfarm::ledger::detail
