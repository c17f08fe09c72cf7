#include "scheduler/ledger_escrow.h"

#include <algorithm>

#include "ledger/job_usage.h"
#include "ledger/usage_ingest.h"

#include <vector>

#include "core/error.h"
#include "ledger/stake.h"

namespace rfarm::scheduler {
namespace L = rfarm::ledger;

namespace {

[[noreturn]] void refuse(const std::string& what, L::TransferResult r) {
  throw Error(Error::Kind::Refused, what + ": the ledger refused it (" + std::string(L::to_string(r)) + ")");
}

}  // namespace

Id128 derived_transfer_id(const Id128& base, std::string_view role) {
  return Id128::derived("rfarm-escrow-v1:" + std::string(role) + ":" + base.hex());
}

Id128 hold_transfer_id(const Id128& job) { return derived_transfer_id(job, "hold"); }
Id128 charge_transfer_id(const Id128& job) { return derived_transfer_id(hold_transfer_id(job), "post"); }

LedgerEscrow::LedgerEscrow(L::Ledger ledger, const config::Config& config)
    : ledger_(std::move(ledger)), config_(config) {
  // Fixed ids make creation idempotent across processes and runs.
  const L::NewAccount system[] = {
      {derived_transfer_id(Id128{0, 1}, "account:escrow"), kEscrowAccount, L::AccountKind::escrow, "", 0},
      {derived_transfer_id(Id128{0, 1}, "account:burn"), kBurnAccount, L::AccountKind::burn, "", 0},
  };
  for (const auto& a : system) {
    if (ledger_.find_account(a.id)) continue;
    const L::AccountResult r = ledger_.create_accounts(std::span(&a, 1))[0];
    if (r != L::AccountResult::ok && r != L::AccountResult::exists) {
      throw Error(Error::Kind::Refused, "cannot create the ledger's '" + a.name + "' account: " +
                                            std::string(L::to_string(r)) + " (is the name taken by another account?)");
    }
  }
}

L::Account LedgerEscrow::account(std::string_view name, std::string_view role) {
  auto a = ledger_.storage().find_account_by_name(name);
  if (!a) {
    throw Error(Error::Kind::Refused, std::string(role) + " account '" + std::string(name) +
                                          "' is not in the ledger (run: rfarm ledger account create " +
                                          std::string(name) + ")");
  }
  return *a;
}

bool LedgerEscrow::has_account(std::string_view name) { return ledger_.storage().find_account_by_name(name).has_value(); }

void LedgerEscrow::pay(const Id128& id, std::string_view from, std::string_view to, Amount amount, std::string_view job,
                       std::string_view reference) {
  if (amount.units == 0) return;
  const L::Account payer = account(from, "the payer");
  const L::Account payee = account(to, "the payee");
  const L::TransferResult r = ledger_.submit_one(
      L::single(id, payer.id, payee.id, amount, L::TransferCode::settle, {std::string(job), "", std::string(reference)}));
  if (r != L::TransferResult::ok && r != L::TransferResult::exists)
    refuse("payment " + id.hex() + " from " + std::string(from) + " to " + std::string(to), r);
}

Amount LedgerEscrow::available(std::string_view name) {
  if (!funds_reader_) return spendable(account(name, "the"), name);
  std::optional<L::Account> found;
  try {
    std::unique_ptr<L::Storage> reader = L::open_storage(*funds_reader_, L::Access::read);
    L::ReadSnapshot snapshot(*reader);
    found = reader->find_account_by_name(name);
  } catch (const Error& e) {
    throw Error(e.kind(), std::string("funds check through ledger.reader_url: ") + e.what());
  }
  if (!found) {
    throw Error(Error::Kind::Refused, "the account '" + std::string(name) +
                                          "' is not in the ledger (run: rfarm ledger account create " + std::string(name) + ")");
  }
  return spendable(*found, name);
}

// What the account can still hold: credits - (posted + pending debits), less its rfarm.yaml
// min_balance; never negative.
Amount LedgerEscrow::spendable(const L::Account& a, std::string_view name) const {
  const auto committed = a.debits_posted.checked_add(a.debits_pending);
  if (!committed || *committed >= a.credits_posted) return Amount(0);
  Amount out(a.credits_posted.units - committed->units);
  if (const config::AccountConfig* c = config::find_account(config_, name)) {
    out = out > c->min_balance ? Amount(out.units - c->min_balance.units) : Amount(0);
  }
  return out;
}

HoldId LedgerEscrow::hold(std::string_view name, Amount amount, const Id128& job, std::chrono::seconds timeout) {
  if (amount.units == 0) throw Error(Error::Kind::BadInput, "a hold of zero tokens: the quote is empty");
  // On the writer's own connection (not the funds reader): the hold's clear refusal; the ledger
  // itself refuses an overdraft atomically either way.
  const L::Account payer = account(name, "the paying");
  if (const Amount free = spendable(payer, name); free < amount) {
    throw Error(Error::Kind::Refused, "account '" + std::string(name) + "' cannot cover a hold of " +
                                          format_amount(amount, config_.token.decimals) + " " + config_.token.symbol +
                                          " (available " + format_amount(free, config_.token.decimals) + ")");
  }
  const L::Account escrow = account(kEscrowAccount, "the escrow");
  const Id128 id = hold_transfer_id(job);
  const L::TransferResult r = ledger_.submit_one(L::hold(id, payer.id, escrow.id, amount,
                                                         static_cast<std::uint64_t>(timeout.count()), {job.hex(), "", ""}));
  if (r != L::TransferResult::ok && r != L::TransferResult::exists) refuse("escrow hold for job " + job.hex(), r);
  return HoldId{id};
}

void LedgerEscrow::post(HoldId hold, const Settlement& s) {
  const Amount total = s.total();
  if (total.units == 0) {
    void_hold(hold);
    return;
  }
  const L::Account escrow = account(kEscrowAccount, "the escrow");
  std::vector<L::TransferRequest> batch;
  const auto t = ledger_.find_transfer(hold.id);
  const std::string job = t ? t->user_data.job : std::string();
  // 1. What was used moves from the user's hold into escrow (the rest of the hold is released).
  batch.push_back(L::post(derived_transfer_id(hold.id, "post"), hold.id, total, L::TransferCode::charge, {job, "", s.reference}));
  // 2. Escrow pays each party its share, in the same atomic batch.
  auto pay = [&](std::string_view to, Amount amount, L::TransferCode code, std::string_view role) {
    if (amount.units == 0) return;
    const L::Account payee = account(to, role);
    batch.push_back(L::single(derived_transfer_id(hold.id, role), escrow.id, payee.id, amount, code, {job, "", s.reference}));
  };
  pay(s.provider, s.provider_share, L::TransferCode::settle, "provider");
  pay(s.treasury, s.treasury_share, L::TransferCode::fee, "treasury");
  pay(kBurnAccount, s.burn_share, L::TransferCode::burn, "burn");
  if (!s.verifier.empty()) pay(s.verifier, s.verifier_reward, L::TransferCode::reward, "verifier");

  const std::vector<L::TransferResult> results = ledger_.submit(batch);
  // All or nothing: report the member that failed, not the others' batch_failed.
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i] != L::TransferResult::ok && results[i] != L::TransferResult::exists &&
        results[i] != L::TransferResult::batch_failed) {
      refuse("settlement of hold " + hold.id.hex() + " (transfer " + std::to_string(i + 1) + " of " +
                 std::to_string(results.size()) + ")",
             results[i]);
    }
  }
}

void LedgerEscrow::void_hold(HoldId hold) {
  const L::TransferResult r = ledger_.submit_one(L::void_pending(derived_transfer_id(hold.id, "void"), hold.id));
  if (r != L::TransferResult::ok && r != L::TransferResult::exists) refuse("release of hold " + hold.id.hex(), r);
}

void LedgerEscrow::commit_frame(const FrameCommitRequest& c) {
  if (c.frame < 0) throw Error(Error::Kind::BadInput, "commit: negative frame " + std::to_string(c.frame));
  const L::Account provider = account(c.provider, "the provider");
  ledger_.append_frame_commit(L::FrameCommit{c.job, static_cast<std::uint64_t>(c.frame), provider.id, c.exr_sha256, c.tile_root});
}

std::vector<FrameVerdict> LedgerEscrow::verdicts(const std::string& job) {
  std::vector<FrameVerdict> out;
  for (const L::RecordedVerdict& v : ledger_.verdicts(job))
    out.push_back({static_cast<std::int64_t>(v.verdict.frame), v.verdict.outcome == L::VerdictOutcome::pass,
                   v.verdict.reason, v.event});
  return out;
}

Amount LedgerEscrow::slash(const SlashOrder& o) {
  const L::Account provider = account(o.provider, "the provider");
  const L::Account harmed = account(o.harmed, "the compensated");
  if (L::staked(ledger_, provider.id).units == 0) return Amount();
  const L::SlashResult r = L::slash(ledger_, L::SlashRequest{o.id, provider.id, o.slash_bps, o.burn_bps, harmed.id,
                                                            L::UserData{o.job, o.frames, ""}});
  return r.slashed;
}

namespace {
// One Slurm job's records as the scheduler sees them.
MeteredJobUsage summarise(const std::vector<L::JobUsageRecord>& records, bool gpu) {
  MeteredJobUsage out;
  out.records = records.size();
  out.device_ms = L::allocation_device_ms(records, gpu);
  std::vector<std::string> nodes;
  for (const auto& r : records) {
    out.events.push_back(r.event);
    out.allocation = out.allocation || r.allocation();
    if (std::find(nodes.begin(), nodes.end(), r.node) == nodes.end()) nodes.push_back(r.node);
  }
  for (const auto& n : nodes) out.signers += (out.signers.empty() ? "" : ",") + n;
  out.nodes = nodes.size();
  return out;
}
}  // namespace

MeteredJobUsage LedgerEscrow::job_usage(const std::string& job, std::uint32_t slurm_job_id, bool gpu) {
  // Signatures and node keys were checked at ingest; job_usage checks each row against its event.
  return summarise(ledger::job_usage(ledger_, {job, slurm_job_id, nullptr}), gpu);
}

std::map<std::uint32_t, MeteredJobUsage> LedgerEscrow::usage_by_slurm_job(const std::string& job, bool gpu) {
  std::map<std::uint32_t, std::vector<L::JobUsageRecord>> by_slurm_job;
  for (L::JobUsageRecord& r : ledger::job_usage(ledger_, {job, std::nullopt, nullptr}))
    by_slurm_job[r.slurm_job_id].push_back(std::move(r));
  std::map<std::uint32_t, MeteredJobUsage> out;
  for (const auto& [slurm_job, records] : by_slurm_job) out[slurm_job] = summarise(records, gpu);
  return out;
}

UsageIngestResult LedgerEscrow::ingest_usage() {
  const auto now = std::chrono::steady_clock::now();
  if (last_ingest_ && now - *last_ingest_ < min_ingest_interval_) return last_ingest_result_;
  last_ingest_ = now;
  UsageIngestResult& out = last_ingest_result_;
  out = {};
  try {
    std::string provider;
    for (const auto& a : config_.accounts)
      if (a.kind == config::AccountKind::Provider && provider.empty()) provider = a.name;
    if (provider.empty())
      throw Error(Error::Kind::Refused, "rfarm.yaml has no provider account to credit (add one with kind: provider)");
    L::UsagePrices prices;
    for (const auto& [model, price] : config_.prices.gpu_hour) prices.gpu_hour[model] = price;
    prices.cpu_core_hour = config_.prices.cpu_core_hour;
    const L::NodeKeyring ring = L::NodeKeyring::load_dir(config_.state_dir / "node-keys");
    const L::IngestSummary s = L::ingest_spool(ledger_, config_.spool_dir, ring, prices, account(provider, "the provider").id);
    out.lines = s.outcomes.size();
  } catch (const Error& e) {
    // Said in the job's message; the job keeps waiting (or settles unmetered after the grace).
    out.problem = std::string("usage spool not ingested: ") + e.what();
  }
  return out;
}

}  // namespace rfarm::scheduler
