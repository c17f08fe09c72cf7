#pragma once
// Admission control: may this Unix user run a job that charges this rfarm account? Decided before
// the job is queued (srun/sbatch/salloc, the local/allocator context) and re-checked in slurmstepd
// for what needs no ledger (a user can bypass their own srun process, not the node).
//
// Rules, in order:
//  1. The account is the one asked for (--rfarm-account), else the user's default from rfarm.yaml
//     (users:). With neither, the job is not an rfarm job: admitted, unmetered.
//  2. The account exists in rfarm.yaml, and the user is one of its unix_users.
//  3. When a balance reader is given: the account's available balance (posted credits - posted
//     debits - pending debits) must be above its configured floor (min_balance). When the ledger
//     cannot be read, the policy decides: fail closed (refuse, the default) or open (admit).
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/money.h"

namespace rfarm::spank {

// Read-only access to account balances (the ledger implements it). Throws on a failed read.
class BalanceReader {
 public:
  virtual ~BalanceReader() = default;
  // Available balance in base units, or nullopt when the ledger has no such account.
  virtual std::optional<Amount> available(std::string_view account) = 0;
};

enum class LedgerFailurePolicy { Closed, Open };

struct AdmissionRequest {
  std::string requested_account;  // "" when the user did not pass --rfarm-account
  std::string unix_user;
};

struct AdmissionDecision {
  bool admit = false;
  std::string account;  // the account the job charges ("" for a non-rfarm job)
  std::string reason;   // why it was refused (or a warning when admitted by the open policy)
};

AdmissionDecision decide_admission(const config::Config& config, const AdmissionRequest& request,
                                   BalanceReader* balances, LedgerFailurePolicy on_ledger_error);

}  // namespace rfarm::spank
