#include "ledger/types.h"
#include "ledger/verdict.h"

#include <array>

namespace rfarm::ledger {

namespace {

template <typename E, std::size_t N>
std::string_view name_of(E value, const std::array<std::string_view, N>& names) {
  auto i = static_cast<std::size_t>(value);
  return i < N ? names[i] : std::string_view("unknown");
}

template <typename E, std::size_t N>
std::optional<E> value_of(std::string_view text, const std::array<std::string_view, N>& names) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr std::array<std::string_view, 8> kKinds = {"user", "provider", "escrow", "stake",
                                                    "treasury", "burn", "issuer", "verifier"};
constexpr std::array<std::string_view, 11> kCodes = {"deposit", "hold",  "charge", "fee",     "burn",  "reward",
                                                     "refund",  "slash", "stake",  "unstake", "settle"};
constexpr std::array<std::string_view, 5> kStates = {"none", "pending", "posted", "voided", "expired"};
constexpr std::array<std::string_view, 9> kAccountResults = {
    "ok",          "exists",     "exists_with_different_fields", "batch_failed", "id_must_not_be_zero",
    "name_invalid", "name_taken", "owner_invalid",                "flags_invalid"};
constexpr std::array<std::string_view, 30> kTransferResults = {
    "ok",
    "exists",
    "exists_with_different_fields",
    "batch_failed",
    "id_must_not_be_zero",
    "flags_are_mutually_exclusive",
    "accounts_must_be_different",
    "debit_account_not_found",
    "credit_account_not_found",
    "amount_must_not_be_zero",
    "amount_too_large",
    "user_data_too_long",
    "timeout_reserved_for_pending",
    "timeout_too_large",
    "pending_id_must_be_zero",
    "pending_id_required",
    "pending_transfer_not_found",
    "pending_transfer_not_pending",
    "pending_transfer_already_posted",
    "pending_transfer_already_voided",
    "pending_transfer_expired",
    "pending_transfer_has_different_accounts",
    "exceeds_pending_amount",
    "void_amount_must_match_pending",
    "exceeds_credits",
    "exceeds_debits",
    "overflow",
    "unbond_reserved_for_pending",
    "unbond_too_large",
    "pending_transfer_unbonding",
};
static_assert(kTransferResults.size() == static_cast<std::size_t>(TransferResult::pending_transfer_unbonding) + 1);
static_assert(kAccountResults.size() == static_cast<std::size_t>(AccountResult::flags_invalid) + 1);
static_assert(kCodes.size() == static_cast<std::size_t>(TransferCode::settle) + 1);
static_assert(kKinds.size() == static_cast<std::size_t>(AccountKind::verifier) + 1);

}  // namespace

std::string_view to_string(AccountKind v) { return name_of(v, kKinds); }
std::string_view to_string(TransferCode v) { return name_of(v, kCodes); }
std::string_view to_string(PendingState v) { return name_of(v, kStates); }
std::string_view to_string(AccountResult v) { return name_of(v, kAccountResults); }
std::string_view to_string(TransferResult v) { return name_of(v, kTransferResults); }
std::optional<AccountKind> account_kind_from_string(std::string_view s) { return value_of<AccountKind>(s, kKinds); }
std::optional<TransferCode> transfer_code_from_string(std::string_view s) { return value_of<TransferCode>(s, kCodes); }
std::optional<PendingState> pending_state_from_string(std::string_view s) { return value_of<PendingState>(s, kStates); }

std::string_view to_string(VerdictOutcome v) { return v == VerdictOutcome::pass ? "pass" : "fail"; }
std::optional<VerdictOutcome> verdict_outcome_from_string(std::string_view s) {
  if (s == "pass") return VerdictOutcome::pass;
  if (s == "fail") return VerdictOutcome::fail;
  return std::nullopt;
}

std::optional<std::string_view> phase_name(std::uint32_t flags) {
  switch (flags) {
    case 0: return "single";
    case transfer_flags::pending: return "pending";
    case transfer_flags::post_pending: return "post";
    case transfer_flags::void_pending: return "void";
    default: return std::nullopt;
  }
}

std::optional<std::uint32_t> phase_flags(std::string_view phase) {
  if (phase == "single") return 0u;
  if (phase == "pending") return transfer_flags::pending;
  if (phase == "post") return transfer_flags::post_pending;
  if (phase == "void") return transfer_flags::void_pending;
  return std::nullopt;
}

}  // namespace rfarm::ledger
