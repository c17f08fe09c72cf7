#pragma once
// The admission check's view of the ledger: available balances, read-only.
#include <filesystem>
#include <optional>
#include <string_view>

#include "plugins/slurm/admission.h"

namespace rfarm::spank {

// Reads balances from the SQLite ledger at `path` (rfarm.yaml ledger.path). Opens the database per
// query and never writes. Throws (rfarm::Error) when the file is missing or unreadable, which
// the admission policy then handles (fail closed or open).
class LedgerBalanceReader final : public BalanceReader {
 public:
  explicit LedgerBalanceReader(std::filesystem::path path) : path_(std::move(path)) {}
  // credits_posted - debits_posted - debits_pending: what the account can still spend or hold.
  std::optional<Amount> available(std::string_view account) override;

 private:
  std::filesystem::path path_;
};

}  // namespace rfarm::spank
