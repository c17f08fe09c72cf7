#include "plugins/slurm/ledger_balance.h"

#include "core/error.h"
#include "ledger/storage.h"

namespace rfarm::spank {

LedgerBalanceReader::LedgerBalanceReader(const config::LedgerConfig& c)
    : where_(c.backend == config::LedgerBackend::Postgres
                 ? ledger::StorageLocation{ledger::StorageBackend::postgres, {}, c.url, c.password_file}
                 : ledger::StorageLocation{ledger::StorageBackend::sqlite, c.path, {}, {}}) {}

std::optional<Amount> LedgerBalanceReader::available(std::string_view account) {
  if (where_.backend == ledger::StorageBackend::sqlite && !std::filesystem::exists(where_.sqlite_path)) {
    throw Error(Error::Kind::Io, "ledger " + where_.sqlite_path.string() + " does not exist (run: rfarm ledger init)");
  }
  auto storage = ledger::open_storage(where_, ledger::Access::read);
  std::optional<ledger::Account> found;
  {
    ledger::ReadSnapshot snapshot(*storage);
    found = storage->find_account_by_name(account);
  }
  if (!found) return std::nullopt;
  const ledger::Account& a = *found;
  // The ledger guarantees debits_posted + debits_pending <= credits_posted for accounts that may
  // not overdraw; for any other account a negative spendable balance reads as zero.
  const auto spent = a.debits_posted.checked_add(a.debits_pending);
  if (!spent || *spent >= a.credits_posted) return Amount(0);
  return Amount(a.credits_posted.units - spent->units);
}

}  // namespace rfarm::spank
