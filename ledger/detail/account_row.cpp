#include "ledger/detail/account_row.h"

#include "core/error.h"

namespace rfarm::ledger::detail {

Account account_from_row(const AccountRow& row, const std::function<void(std::string_view field)>& bad) {
  auto invalid = [&](std::string_view field) {
    bad(field);
    throw Error(Error::Kind::Integrity, "accounts row: field " + std::string(field) + " holds an invalid value");
  };
  Account a;
  auto id = Id128::from_hex(row.id);
  if (!id) invalid("id");
  a.id = *id;
  a.name = row.name;
  auto kind = account_kind_from_string(row.kind);
  if (!kind) invalid("kind");
  a.kind = *kind;
  a.owner = row.owner;
  a.cluster = row.cluster;
  if (row.flags > UINT32_MAX) invalid("flags");
  a.flags = static_cast<std::uint32_t>(row.flags);
  a.debits_pending = Amount(row.debits_pending);
  a.debits_posted = Amount(row.debits_posted);
  a.credits_pending = Amount(row.credits_pending);
  a.credits_posted = Amount(row.credits_posted);
  a.timestamp = row.timestamp;
  return a;
}

}  // namespace rfarm::ledger::detail
