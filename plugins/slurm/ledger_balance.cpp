#include "plugins/slurm/ledger_balance.h"

#include "core/error.h"
#include "ledger/storage.h"

namespace rfarm::spank {

std::optional<Amount> LedgerBalanceReader::available(std::string_view account) {
  if (!std::filesystem::exists(path_)) {
    throw Error(Error::Kind::Io, "ledger " + path_.string() + " does not exist (run: rfarm ledger init)");
  }
  auto storage = ledger::open_sqlite_storage(path_, {.durable = false, .create = false});
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
