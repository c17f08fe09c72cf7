#include "ledger/stake.h"

#include <algorithm>

#include "core/error.h"
#include "ledger/limits.h"

namespace rfarm::ledger {

namespace {

__extension__ typedef unsigned __int128 u128;

constexpr std::uint32_t kBpsDenominator = 10'000;
// The same id the scheduler's escrow gives the burn account, so whichever creates it first wins.
constexpr std::string_view kBurnName = "burn";

Id128 burn_account_id() { return Id128::derived("rfarm-escrow-v1:account:burn:" + Id128{0, 1}.hex()); }

Id128 slash_part_id(const Id128& slash, std::string_view part) {
  return Id128::derived("rfarm-slash-v1:" + slash.hex() + ":" + std::string(part));
}

Account require_provider(Ledger& ledger, const Id128& provider) {
  auto a = ledger.find_account(provider);
  if (!a) {
    throw_input_error({}, "provider", "no account has the id " + provider.hex(),
                      "list accounts with `rfarm ledger account list`");
  }
  if (a->kind != AccountKind::provider) {
    throw_input_error({}, "provider", "account " + a->name + " is of kind " + std::string(to_string(a->kind)) +
                                          ", not provider",
                      "stake belongs to provider accounts (`rfarm ledger account create NAME --kind provider`)");
  }
  return *a;
}

// Creates the provider's stake account if it does not exist yet.
Id128 ensure_stake_account(Ledger& ledger, const Account& provider) {
  const Id128 id = stake_account_id(provider.id);
  if (ledger.find_account(id)) return id;
  std::string name = provider.name + ".stake";
  if (name.size() > kMaxNameLength) name = "stake." + provider.id.hex();
  NewAccount a{id, name, AccountKind::stake, provider.name, account_flags::debits_must_not_exceed_credits};
  AccountResult r = ledger.create_accounts(std::span(&a, 1))[0];
  if (r != AccountResult::ok && r != AccountResult::exists) {
    throw Error(Error::Kind::Refused, "creating the stake account " + name + " of provider " + provider.name +
                                          " failed: " + std::string(to_string(r)) +
                                          (r == AccountResult::name_taken ? " (another account already has that name)" : ""));
  }
  return id;
}

Id128 ensure_burn_account(Ledger& ledger) {
  for (const Account& a : ledger.list_accounts()) {
    if (a.name == kBurnName) return a.id;
  }
  NewAccount a{burn_account_id(), std::string(kBurnName), AccountKind::burn, "", 0};
  AccountResult r = ledger.create_accounts(std::span(&a, 1))[0];
  if (r != AccountResult::ok && r != AccountResult::exists) {
    throw Error(Error::Kind::Refused, "creating the burn account failed: " + std::string(to_string(r)));
  }
  return a.id;
}

Amount bps_of(Amount amount, std::uint32_t bps) {
  return Amount(static_cast<std::uint64_t>(static_cast<u128>(amount.units) * bps / kBpsDenominator));
}

void check_bps(std::uint32_t bps, std::string_view field) {
  if (bps > kBpsDenominator) {
    throw_input_error({}, field, std::to_string(bps) + " basis points is more than 100%",
                      "give 0 to 10000 (100 = 1%)");
  }
}

}  // namespace

Id128 stake_account_id(const Id128& provider) { return Id128::derived("rfarm-stake-v1:" + provider.hex()); }

StakeInfo stake_info(Ledger& ledger, const Id128& provider) {
  StakeInfo info;
  info.provider = provider;
  info.stake_account = stake_account_id(provider);
  info.reputation = ledger.reputation(provider);
  auto acct = ledger.find_account(info.stake_account);
  if (!acct) return info;
  info.exists = true;
  // Within limits (checked on every transfer) these never underflow; a corrupt row would.
  auto held = acct->credits_posted.checked_sub(acct->debits_posted);
  auto bonded = held ? held->checked_sub(acct->debits_pending) : std::nullopt;
  if (!bonded) {
    throw Error(Error::Kind::Integrity, "stake account " + acct->name +
                                            " has more debits than credits; run `rfarm ledger audit`");
  }
  info.bonded = *bonded;
  info.unbonding = acct->debits_pending;
  for (const Transfer& t : ledger.pending_debits(info.stake_account)) {
    info.unbondings.push_back({t.id, t.amount, t.unbond_at != 0 ? t.unbond_at : t.timestamp});
  }
  return info;
}

Amount staked(Ledger& ledger, const Id128& provider) {
  StakeInfo info = stake_info(ledger, provider);
  return Amount(info.bonded.units + info.unbonding.units);  // both <= kMaxAmount, their sum is the held amount
}

TransferResult stake(Ledger& ledger, Id128 id, const Id128& provider, Amount amount) {
  Account p = require_provider(ledger, provider);
  Id128 account = ensure_stake_account(ledger, p);
  return ledger.submit_one(single(id, provider, account, amount, TransferCode::stake));
}

TransferResult begin_unstake(Ledger& ledger, Id128 id, const Id128& provider, Amount amount,
                             std::uint64_t unbonding_delay_seconds) {
  Account p = require_provider(ledger, provider);
  Id128 account = ensure_stake_account(ledger, p);
  TransferRequest r = single(id, account, provider, amount, TransferCode::unstake);
  r.flags = transfer_flags::pending;
  r.unbond_seconds = unbonding_delay_seconds;
  return ledger.submit_one(r);
}

TransferResult complete_unstake(Ledger& ledger, Id128 id, const Id128& pending_unstake_id) {
  if (auto p = ledger.find_transfer(pending_unstake_id)) {
    if (p->code != TransferCode::unstake || p->flags != transfer_flags::pending) {
      throw_input_error({}, "unstake id", "transfer " + pending_unstake_id.hex() + " is not a pending unstake",
                        "give the id `rfarm ledger unstake` printed, or see `rfarm ledger stake-info PROVIDER`");
    }
  }
  return ledger.submit_one(post(id, pending_unstake_id, Amount(0), TransferCode::unstake));
}

SlashResult slash(Ledger& ledger, const SlashRequest& req) {
  if (req.id.is_zero()) throw_input_error({}, "slash id", "is zero", "choose a non-zero idempotency key");
  check_bps(req.slash_bps, "--bps");
  check_bps(req.burn_bps, "--burn-bps");
  Account provider = require_provider(ledger, req.provider);
  const Id128 stake_acct = stake_account_id(provider.id);
  const Id128 burn_id = slash_part_id(req.id, "burn");
  const Id128 harm_id = slash_part_id(req.id, "harm");

  // A retry: report what the first attempt took.
  auto burned_before = ledger.find_transfer(burn_id);
  auto harmed_before = ledger.find_transfer(harm_id);
  if (burned_before || harmed_before) {
    for (const auto& t : {burned_before, harmed_before}) {
      if (t && t->debit_account != stake_acct) {
        throw Error(Error::Kind::Refused, "slash id " + req.id.hex() + " was already used to slash another provider");
      }
    }
    SlashResult r;
    r.existed = true;
    r.burned = burned_before ? burned_before->amount : Amount(0);
    r.compensated = harmed_before ? harmed_before->amount : Amount(0);
    r.slashed = Amount(r.burned.units + r.compensated.units);
    return r;
  }

  StakeInfo info = stake_info(ledger, provider.id);
  SlashResult result;
  result.slashed = bps_of(Amount(info.bonded.units + info.unbonding.units), req.slash_bps);
  result.burned = bps_of(result.slashed, req.burn_bps);
  result.compensated = Amount(result.slashed.units - result.burned.units);
  if (result.slashed.units == 0) return result;  // nothing staked (or a share below one base unit)
  if (result.compensated.units != 0 && !ledger.find_account(req.harmed)) {
    throw_input_error({}, "--harmed", "no account has the id " + req.harmed.hex(),
                      "name the job's user account, or burn everything with --burn-bps 10000");
  }
  const Id128 burn_acct = result.burned.units != 0 ? ensure_burn_account(ledger) : Id128{};

  std::vector<TransferRequest> batch;
  // Bonded stake first; then void the newest unstakes and re-place what is not needed.
  std::uint64_t shortfall = result.slashed > info.bonded ? result.slashed.units - info.bonded.units : 0;
  // A lower bound of the batch's timestamps: re-placed holds then never release earlier than before.
  const std::uint64_t now = ledger.head() ? ledger.head()->timestamp : 0;
  for (auto it = info.unbondings.rbegin(); it != info.unbondings.rend() && shortfall != 0; ++it) {
    const std::uint64_t take = std::min(it->amount.units, shortfall);
    shortfall -= take;
    batch.push_back(void_pending(slash_part_id(req.id, "void:" + it->id.hex()), it->id, TransferCode::slash, req.data));
    if (take < it->amount.units) {
      TransferRequest again = single(slash_part_id(req.id, "restake:" + it->id.hex()), stake_acct, provider.id,
                                     Amount(it->amount.units - take), TransferCode::unstake, req.data);
      again.flags = transfer_flags::pending;
      const std::uint64_t left_ns = it->release_at > now ? it->release_at - now : 0;
      again.unbond_seconds = (left_ns + kNanosPerSecond - 1) / kNanosPerSecond;
      batch.push_back(again);
    }
  }
  if (result.burned.units != 0) {
    batch.push_back(single(burn_id, stake_acct, burn_acct, result.burned, TransferCode::slash, req.data));
  }
  if (result.compensated.units != 0) {
    batch.push_back(single(harm_id, stake_acct, req.harmed, result.compensated, TransferCode::slash, req.data));
  }
  std::vector<TransferResult> results = ledger.submit(batch);
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] != TransferResult::ok && results[i] != TransferResult::batch_failed) {
      throw Error(Error::Kind::Refused, "slash of provider " + provider.name + ": the ledger refused transfer " +
                                            batch[i].id.hex() + ": " + std::string(to_string(results[i])) +
                                            " (the stake changed meanwhile? retry with the same id)");
    }
  }
  return result;
}

}  // namespace rfarm::ledger
