#pragma once
// The admission check's view of the ledger: available balances, read-only.
#include <filesystem>
#include <optional>
#include <string_view>

#include "config/config.h"
#include "ledger/open_storage.h"
#include "plugins/slurm/admission.h"

namespace rfarm::spank {

// Reads balances from the ledger rfarm.yaml names (ledger.backend: sqlite with ledger.path, or
// postgres with ledger.url / ledger.password_file). Opens the ledger per query and never writes: on
// PostgreSQL the session is READ ONLY, and the plugin's rfarm.yaml (plugstack `config=`) should
// name the reader role, rfarm_reader, which holds SELECT only (docs/LEDGER.md "Roles"). Throws
// (rfarm::Error) when the ledger is missing or unreadable, which the admission policy then handles
// (fail closed or open).
class LedgerBalanceReader final : public BalanceReader {
 public:
  explicit LedgerBalanceReader(const config::LedgerConfig& ledger);
  explicit LedgerBalanceReader(ledger::StorageLocation where) : where_(std::move(where)) {}
  // credits_posted - debits_posted - debits_pending: what the account can still spend or hold.
  std::optional<Amount> available(std::string_view account) override;

 private:
  ledger::StorageLocation where_;
};

}  // namespace rfarm::spank
