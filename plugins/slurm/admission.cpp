#include "plugins/slurm/admission.h"

#include <algorithm>
#include <exception>

namespace rfarm::spank {

AdmissionDecision decide_admission(const config::Config& config, const AdmissionRequest& request,
                                   BalanceReader* balances, LedgerFailurePolicy on_ledger_error) {
  AdmissionDecision d;
  d.account = request.requested_account;
  if (d.account.empty()) {
    auto it = config.users.find(request.unix_user);
    if (it == config.users.end()) {
      d.admit = true;  // not an rfarm job: nothing to charge, nothing to meter
      return d;
    }
    d.account = it->second;
  }

  const config::AccountConfig* account = config::find_account(config, d.account);
  if (account == nullptr) {
    d.reason = "account '" + d.account + "' does not exist (ask your rfarm administrator, or pick one with --rfarm-account)";
    return d;
  }
  const auto& users = account->unix_users;
  if (std::find(users.begin(), users.end(), request.unix_user) == users.end()) {
    d.reason = "user '" + request.unix_user + "' may not charge account '" + d.account +
               "' (its unix_users in rfarm.yaml do not list you)";
    return d;
  }
  if (balances == nullptr) {
    d.admit = true;
    return d;
  }

  std::optional<Amount> available;
  try {
    available = balances->available(d.account);
  } catch (const std::exception& e) {
    if (on_ledger_error == LedgerFailurePolicy::Open) {
      d.admit = true;
      d.reason = std::string("ledger unreadable, admitted by the fail-open policy: ") + e.what();
    } else {
      d.reason = std::string("cannot read the ledger, refusing (fail-closed policy): ") + e.what();
    }
    return d;
  }
  if (!available) {
    d.reason = "account '" + d.account + "' has no ledger account yet (run: rfarm ledger account create " + d.account + ")";
    return d;
  }
  if (*available <= account->min_balance) {
    const int decimals = config.token.decimals;
    d.reason = "account '" + d.account + "' has no funds above its floor (available " +
               format_amount(*available, decimals) + " " + config.token.symbol + ", floor " +
               format_amount(account->min_balance, decimals) + " " + config.token.symbol + "): deposit tokens first";
    return d;
  }
  d.admit = true;
  return d;
}

}  // namespace rfarm::spank
