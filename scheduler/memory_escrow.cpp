#include <algorithm>
#include <string>

#include "core/error.h"
#include "scheduler/escrow.h"

namespace rfarm::scheduler {
namespace {
[[noreturn]] void refuse(const std::string& message) { throw Error(Error::Kind::Refused, message); }
}  // namespace

Amount Settlement::total() const {
  return add(add(add(provider_share, treasury_share, "settlement"), burn_share, "settlement"), verifier_reward,
             "settlement");
}

Settlement split_charge(Amount charge, const config::FeesConfig& fees, std::string provider, std::string verifier,
                        Amount verifier_reward) {
  if (fees.treasury_bps + static_cast<std::uint64_t>(fees.burn_bps) > config::kBasisPoints)
    throw Error(Error::Kind::Internal, "fees: treasury_bps + burn_bps exceed 10000");
  __extension__ typedef unsigned __int128 u128;
  Settlement s;
  s.provider = std::move(provider);
  s.verifier = std::move(verifier);
  s.treasury_share = Amount(static_cast<std::uint64_t>(static_cast<u128>(charge.units) * fees.treasury_bps / config::kBasisPoints));
  s.burn_share = Amount(static_cast<std::uint64_t>(static_cast<u128>(charge.units) * fees.burn_bps / config::kBasisPoints));
  s.provider_share = sub(sub(charge, s.treasury_share, "charge"), s.burn_share, "charge");
  s.verifier_reward = verifier_reward;
  return s;
}

void MemoryEscrow::deposit(std::string_view account, Amount amount) {
  auto& b = balances_[std::string(account)];
  b = add(b, amount, "deposit");
  deposited_ = add(deposited_, amount, "deposits");
  check_invariant();
}

void MemoryEscrow::set_floor(std::string_view account, Amount min_balance) { floors_[std::string(account)] = min_balance; }

Amount MemoryEscrow::balance(std::string_view account) const {
  auto it = balances_.find(account);
  return it == balances_.end() ? Amount() : it->second;
}

Amount MemoryEscrow::held(std::string_view account) const {
  Amount total;
  for (const auto& [id, h] : holds_)
    if (h.account == account) total = add(total, h.amount, "held");
  return total;
}

std::size_t MemoryEscrow::open_holds() const { return holds_.size(); }

Amount MemoryEscrow::available(std::string_view account) {
  const Amount b = balance(account);
  auto f = floors_.find(account);
  const Amount reserved = add(held(account), f == floors_.end() ? Amount() : f->second, "reserved");
  return b > reserved ? sub(b, reserved) : Amount();
}

HoldId MemoryEscrow::hold(std::string_view account, Amount amount, const Id128& job, std::chrono::seconds timeout) {
  if (amount.units == 0) refuse("hold: a hold of 0 is pointless (the quote was 0?)");
  if (timeout.count() <= 0) refuse("hold: the timeout must be positive");
  const Amount free = available(account);
  if (amount > free)
    refuse("account '" + std::string(account) + "': a hold of " + std::to_string(amount.units) +
           " base units exceeds the available " + std::to_string(free.units) + " (deposit more or lower the job's cost)");
  HoldId id{Id128::random()};
  holds_[id] = Hold{std::string(account), amount, job, Clock::now() + timeout};
  check_invariant();
  return id;
}

void MemoryEscrow::post(HoldId hold, const Settlement& s) {
  auto it = holds_.find(hold);
  if (it == holds_.end()) refuse("post: hold " + hold.id.hex() + " is not open (posted, voided or expired)");
  const Amount total = s.total();
  if (total > it->second.amount)
    refuse("post: the settlement " + std::to_string(total.units) + " exceeds the hold " +
           std::to_string(it->second.amount.units));
  const std::pair<std::string, Amount> shares[] = {
      {s.provider, s.provider_share}, {s.verifier, s.verifier_reward}, {s.treasury, s.treasury_share}};
  for (const auto& [who, amount] : shares)  // check everything before moving anything
    if (amount.units != 0 && who.empty()) refuse("post: a share of " + std::to_string(amount.units) + " names no account");
  auto& payer = balances_[it->second.account];
  payer = sub(payer, total, "payer balance");
  for (const auto& [who, amount] : shares) {
    if (amount.units == 0) continue;
    auto& b = balances_[who];
    b = add(b, amount, "payee balance");
  }
  burnt_ = add(burnt_, s.burn_share, "burnt");
  holds_.erase(it);
  check_invariant();
}

void MemoryEscrow::void_hold(HoldId hold) {
  if (holds_.erase(hold) == 0) refuse("void: hold " + hold.id.hex() + " is not open (posted, voided or expired)");
  check_invariant();
}

std::size_t MemoryEscrow::expire(Clock::time_point now) {
  std::size_t n = 0;
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (it->second.expires <= now) {
      it = holds_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  check_invariant();
  return n;
}

void MemoryEscrow::check_invariant() const {
  Amount sum = burnt_;
  for (const auto& [name, b] : balances_) sum = add(sum, b, "balances");
  for (const auto& [name, b] : stakes_) sum = add(sum, b, "stakes");
  if (sum != deposited_) throw Error(Error::Kind::Internal, "escrow: balances + stakes + burnt != deposits");
  std::map<std::string, Amount, std::less<>> held_by;
  for (const auto& [id, h] : holds_) held_by[h.account] = add(held_by[h.account], h.amount, "held");
  for (const auto& [name, h] : held_by)
    if (h > balance(name)) throw Error(Error::Kind::Internal, "escrow: account '" + name + "' holds more than it has");
}

void MemoryEscrow::set_stake(std::string_view provider, Amount amount) {
  Amount& st = stakes_[std::string(provider)];
  deposited_ = add(sub(deposited_, st, "stake"), amount, "stake");
  st = amount;
  check_invariant();
}

Amount MemoryEscrow::stake(std::string_view provider) const {
  auto it = stakes_.find(provider);
  return it == stakes_.end() ? Amount() : it->second;
}

void MemoryEscrow::record_verdict(const std::string& job, FrameVerdict verdict) {
  if (!commits_.count({job, verdict.frame}))
    refuse("verdict: job " + job + " frame " + std::to_string(verdict.frame) + " has no commit");
  verdicts_[job].push_back(std::move(verdict));
}

void MemoryEscrow::commit_frame(const FrameCommitRequest& c) {
  auto [it, inserted] = commits_.try_emplace({c.job, c.frame}, c);
  if (!inserted && (it->second.exr_sha256 != c.exr_sha256 || it->second.tile_root != c.tile_root))
    refuse("commit: job " + c.job + " frame " + std::to_string(c.frame) + " was committed with other hashes");
}

std::vector<FrameVerdict> MemoryEscrow::verdicts(const std::string& job) {
  auto it = verdicts_.find(job);
  return it == verdicts_.end() ? std::vector<FrameVerdict>{} : it->second;
}

void MemoryEscrow::pay(const Id128& id, std::string_view from, std::string_view to, Amount amount, std::string_view job,
                       std::string_view reference) {
  (void)job;
  (void)reference;
  if (const auto done = payments_.find(id); done != payments_.end()) {
    if (done->second != amount) refuse("pay: id " + id.hex() + " was used for another amount");
    return;
  }
  if (amount > available(from))
    refuse("pay: " + std::string(from) + " cannot cover " + std::to_string(amount.units));
  balances_[std::string(from)] = sub(balances_[std::string(from)], amount, "payer balance");
  balances_[std::string(to)] = add(balances_[std::string(to)], amount, "payee balance");
  payments_[id] = amount;
  check_invariant();
}

Amount MemoryEscrow::slash(const SlashOrder& o) {
  if (o.slash_bps > 10'000 || o.burn_bps > 10'000) throw Error(Error::Kind::BadInput, "slash: bps above 10000");
  if (auto done = slashes_.find(o.id); done != slashes_.end()) return done->second;
  Amount& st = stakes_[o.provider];
  __extension__ typedef unsigned __int128 u128;
  const Amount slashed(static_cast<std::uint64_t>(static_cast<u128>(st.units) * o.slash_bps / 10'000));
  const Amount burned(static_cast<std::uint64_t>(static_cast<u128>(slashed.units) * o.burn_bps / 10'000));
  st = sub(st, slashed, "stake");
  burnt_ = add(burnt_, burned, "burnt");
  balances_[o.harmed] = add(balances_[o.harmed], sub(slashed, burned, "slash"), "compensation");
  slashes_[o.id] = slashed;
  check_invariant();
  return slashed;
}

void MemoryEscrow::record_usage(const std::string& job, std::uint32_t slurm_job_id, std::uint64_t device_ms,
                                const std::string& node, bool allocation) {
  MeteredJobUsage& u = usage_[{job, slurm_job_id}];
  u.records += 1;
  u.device_ms = add(Amount(u.device_ms), Amount(device_ms), "usage").units;
  u.allocation = u.allocation || allocation;
  auto& nodes = usage_nodes_[{job, slurm_job_id}];
  if (std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
    nodes.push_back(node);
    u.signers += (u.signers.empty() ? "" : ",") + node;
  }
  u.nodes = nodes.size();
}

void MemoryEscrow::spool_usage(const std::string& job, std::uint32_t slurm_job_id, std::uint64_t device_ms,
                               const std::string& node) {
  spool_.push_back({job, node, slurm_job_id, device_ms});
}

UsageIngestResult MemoryEscrow::ingest_usage() {
  ++ingests_;
  UsageIngestResult r;
  r.problem = ingest_problem_;
  if (!r.problem.empty()) return r;
  r.lines = spool_.size();
  for (const SpooledUsage& s : spool_) record_usage(s.job, s.slurm_job_id, s.device_ms, s.node, true);
  spool_.clear();  // the ledger's usage events are unique per record: ingesting again adds nothing
  return r;
}

std::map<std::uint32_t, MeteredJobUsage> MemoryEscrow::usage_by_slurm_job(const std::string& job, bool /*gpu*/) {
  std::map<std::uint32_t, MeteredJobUsage> out;
  for (auto it = usage_.lower_bound({job, 0}); it != usage_.end() && it->first.first == job; ++it)
    out[it->first.second] = it->second;
  return out;
}

MeteredJobUsage MemoryEscrow::job_usage(const std::string& job, std::uint32_t slurm_job_id, bool /*gpu*/) {
  const auto it = usage_.find({job, slurm_job_id});
  return it == usage_.end() ? MeteredJobUsage{} : it->second;
}

}  // namespace rfarm::scheduler
