#pragma once
// The ledger's data model: accounts, transfers (single-phase and two-phase) and their results.
//
// Double entry: a transfer of amount A debits one account and credits another by A, so the sum of
// all debits always equals the sum of all credits, for posted and pending amounts separately.
// Balances are kept as four monotone totals per account (TigerBeetle's layout); a "balance" is a
// difference of two of them. For a credit-normal account (users, providers) the spendable balance
// is credits_posted - debits_posted - debits_pending.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/ids.h"
#include "core/money.h"

namespace rfarm::ledger {

enum class AccountKind : std::uint8_t { user, provider, escrow, stake, treasury, burn, issuer, verifier };

// Account flags (bit set).
namespace account_flags {
// The account can never spend more than it received: debits_posted + debits_pending <= credits_posted.
inline constexpr std::uint32_t debits_must_not_exceed_credits = 1u << 0;
// The mirror image for debit-normal accounts: credits_posted + credits_pending <= debits_posted.
inline constexpr std::uint32_t credits_must_not_exceed_debits = 1u << 1;
inline constexpr std::uint32_t all = debits_must_not_exceed_credits | credits_must_not_exceed_debits;
}  // namespace account_flags

// What a caller asks for when creating an account. The ledger assigns cluster and timestamp.
struct NewAccount {
  Id128 id;             // client-chosen, non-zero; the idempotency key
  std::string name;     // unique in the ledger: [A-Za-z0-9._:@-], 1..kMaxNameLength
  AccountKind kind = AccountKind::user;
  std::string owner;    // free identifier of who owns it (a Unix user, a provider id), may be empty
  std::uint32_t flags = 0;
};

struct Account {
  Id128 id;
  std::string name;
  AccountKind kind = AccountKind::user;
  std::string owner;
  std::string cluster;
  std::uint32_t flags = 0;
  Amount debits_pending, debits_posted, credits_pending, credits_posted;
  std::uint64_t timestamp = 0;  // ns since the Unix epoch, assigned by the ledger
  bool operator==(const Account&) const = default;
};

// Why money moved (recorded, not interpreted by the ledger beyond validation).
enum class TransferCode : std::uint16_t { deposit, hold, charge, fee, burn, reward, refund, slash, stake, unstake, settle };

// Transfer flags: at most one of them.
namespace transfer_flags {
inline constexpr std::uint32_t pending = 1u << 0;       // reserve: moves *_pending, not *_posted
inline constexpr std::uint32_t post_pending = 1u << 1;  // settle a pending transfer (all or part)
inline constexpr std::uint32_t void_pending = 1u << 2;  // release a pending transfer
inline constexpr std::uint32_t all = pending | post_pending | void_pending;
}  // namespace transfer_flags

// Where a pending transfer stands. Single-phase transfers and post/void records are `none`.
enum class PendingState : std::uint8_t { none, pending, posted, voided, expired };

// References back to the work that caused a transfer. Each at most kMaxUserDataLength bytes.
struct UserData {
  std::string job;     // scheduler job id
  std::string frames;  // frame range, e.g. "1-240:2"
  std::string usage;   // usage record id
  bool operator==(const UserData&) const = default;
};

struct TransferRequest {
  Id128 id;               // client-chosen, non-zero: the idempotency key
  Id128 debit_account;    // for post/void: zero (taken from the pending transfer) or equal to it
  Id128 credit_account;   // likewise
  Amount amount;          // for post: zero means "the full pending amount"; for void: zero or the full amount
  TransferCode code = TransferCode::charge;
  std::uint32_t flags = 0;
  Id128 pending_id;       // the pending transfer a post/void refers to; zero otherwise
  std::uint64_t timeout_seconds = 0;  // pending only: expires this long after it was placed; 0 = never
  // pending only: the hold cannot be *posted* until this long after it was placed (it may be voided
  // at any time). An unstake is such a hold: stake stays slashable while it unbonds. 0 = no lock.
  std::uint64_t unbond_seconds = 0;
  UserData user_data;
};

// A stored transfer: the request with every field resolved (post/void carry the pending transfer's
// accounts and the amount actually posted/released) plus what the ledger assigned.
struct Transfer {
  Id128 id;
  Id128 debit_account;
  Id128 credit_account;
  Amount amount;
  TransferCode code = TransferCode::charge;
  std::uint32_t flags = 0;
  Id128 pending_id;
  std::uint64_t timeout_seconds = 0;
  UserData user_data;
  std::uint64_t timestamp = 0;   // ns since the Unix epoch
  std::uint64_t expires_at = 0;  // pending with a timeout: timestamp + timeout; else 0
  std::uint64_t unbond_seconds = 0;
  std::uint64_t unbond_at = 0;   // pending with unbond_seconds: timestamp + unbond; a post before it is refused
  PendingState state = PendingState::none;
  std::uint64_t event = 0;       // index of the event that recorded it in the log
  bool operator==(const Transfer&) const = default;
};

enum class AccountResult : std::uint8_t {
  ok,
  exists,                        // same id, same fields: nothing changed
  exists_with_different_fields,  // same id, different fields: refused
  batch_failed,                  // valid, but another account in the batch failed: nothing applied
  id_must_not_be_zero,
  name_invalid,
  name_taken,
  owner_invalid,
  flags_invalid,
};

enum class TransferResult : std::uint8_t {
  ok,
  exists,
  exists_with_different_fields,
  batch_failed,
  id_must_not_be_zero,
  flags_are_mutually_exclusive,
  accounts_must_be_different,
  debit_account_not_found,
  credit_account_not_found,
  amount_must_not_be_zero,
  amount_too_large,
  user_data_too_long,
  timeout_reserved_for_pending,
  timeout_too_large,
  pending_id_must_be_zero,
  pending_id_required,
  pending_transfer_not_found,
  pending_transfer_not_pending,
  pending_transfer_already_posted,
  pending_transfer_already_voided,
  pending_transfer_expired,
  pending_transfer_has_different_accounts,
  exceeds_pending_amount,
  void_amount_must_match_pending,
  exceeds_credits,  // the debit account would overdraw (debits_must_not_exceed_credits)
  exceeds_debits,   // the credit account would exceed its debits (credits_must_not_exceed_debits)
  overflow,         // a balance field would exceed kMaxAmount
  unbond_reserved_for_pending,  // unbond_seconds on a transfer that is not pending
  unbond_too_large,             // unbond_seconds above kMaxTimeoutSeconds
  pending_transfer_unbonding,   // a post before the pending transfer's unbond_at
};

std::string_view to_string(AccountKind);
std::string_view to_string(TransferCode);
std::string_view to_string(PendingState);
std::string_view to_string(AccountResult);
std::string_view to_string(TransferResult);
std::optional<AccountKind> account_kind_from_string(std::string_view);
std::optional<TransferCode> transfer_code_from_string(std::string_view);
std::optional<PendingState> pending_state_from_string(std::string_view);
// "single", "pending", "post", "void" (and nullopt for a combination of flags).
std::optional<std::string_view> phase_name(std::uint32_t transfer_flags);
std::optional<std::uint32_t> phase_flags(std::string_view phase);

// A frame's rendered output, committed to the log by the renderer/verifier: the EXR file's hash
// and the Merkle root over its tiles let anyone later check a tile against the signed log.
struct FrameCommit {
  std::string job;           // scheduler job id (1..kMaxUserDataLength bytes)
  std::uint64_t frame = 0;   // frame number
  Id128 provider;            // the provider account that rendered it (must exist)
  Hash256 exr_hash;          // SHA-256 of the EXR file
  Hash256 tile_root;         // Merkle root over the frame's tile hashes
};

}  // namespace rfarm::ledger
