#pragma once
// Provider stake: tokens a provider locks as a bond for honest rendering, slashable when a verifier
// proves a fake tile.
//
// Stake lives in a per-provider stake account (kind stake, id derived from the provider's id, name
// "<provider name>.stake" or "stake.<provider id>" when that would be too long), created on the first
// stake. Every movement is an ordinary transfer, so it is in the signed log, the audit and statements:
//   stake           provider -> stake account, single, code stake
//   begin_unstake   stake account -> provider, *pending* with unbond_seconds = the unbonding delay,
//                   code unstake: the tokens leave "bonded" at once but stay in the stake account
//                   (and slashable) until complete_unstake posts the hold after the delay. The hold
//                   has no timeout: an expiry would void it and silently re-bond the stake.
//   complete_unstake post of that hold (refused with pending_transfer_unbonding before the delay)
//   slash           stake account -> burn (code burn) and -> harmed (code slash), one atomic batch
// The stake account has debits_must_not_exceed_credits, so no one can unstake or slash more than
// is staked.
//
// Slash arithmetic (integer, base units, every remainder rounded in the provider's favour):
//   slashed     = floor(staked x slash_bps / 10000), staked = bonded + unbonding
//   burned      = floor(slashed x burn_bps / 10000)
//   compensated = slashed - burned
// It takes bonded stake first. When that is short, the newest pending unstakes are voided and the
// part of each that is not needed is re-placed as a new pending unstake with the same release time
// (id Id128::derived("rfarm-slash-v1:<slash id>:restake:<old id>"), listed by stake_info), all in the
// same batch. Every transfer id of a slash is derived from the request's id, so retrying it returns
// existed and changes nothing.
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/ledger.h"

namespace rfarm::ledger {

struct SlashRequest {
  Id128 id;                  // idempotency key (caller-chosen, e.g. Id128::derived(...))
  Id128 provider;
  std::uint32_t slash_bps = 0;  // share of the provider's stake (including stake that is unbonding) to take
  std::uint32_t burn_bps = 0;   // share of the slashed amount sent to the "burn" account; the rest to `harmed`
  Id128 harmed;              // the account compensated (the job's user account)
  UserData data;             // job, frames
};

struct SlashResult {
  Amount slashed, burned, compensated;
  bool existed = false;
};

struct Unbonding {
  Id128 id;                 // the pending unstake transfer (pass it to complete_unstake)
  Amount amount;
  std::uint64_t release_at = 0;  // ns since the Unix epoch: complete_unstake works from then on
};

struct StakeInfo {
  Id128 provider;
  Id128 stake_account;
  bool exists = false;      // the stake account has been created
  Amount bonded;            // slashable and not leaving
  Amount unbonding;         // leaving, still slashable
  std::vector<Unbonding> unbondings;  // oldest first
  Reputation reputation;
};

// The id of a provider's stake account.
Id128 stake_account_id(const Id128& provider);

// bonded + unbonding (zero when the provider never staked).
Amount staked(Ledger& ledger, const Id128& provider);
StakeInfo stake_info(Ledger& ledger, const Id128& provider);

// Error(BadInput) when the provider account does not exist or is not of kind provider.
TransferResult stake(Ledger& ledger, Id128 id, const Id128& provider, Amount amount);
// A pending transfer stake -> provider that cannot be posted before the delay has passed.
TransferResult begin_unstake(Ledger& ledger, Id128 id, const Id128& provider, Amount amount,
                             std::uint64_t unbonding_delay_seconds);
// Posts the pending unstake; pending_transfer_unbonding before the delay has passed.
// Error(BadInput) when pending_unstake_id is not an unstake.
TransferResult complete_unstake(Ledger& ledger, Id128 id, const Id128& pending_unstake_id);
// One atomic batch (see above). Error(BadInput) on bps above 10000, unknown accounts or a zero id;
// Error(Refused) when the ledger refuses the batch (e.g. the stake changed underneath: retry).
SlashResult slash(Ledger& ledger, const SlashRequest& request);

}  // namespace rfarm::ledger
