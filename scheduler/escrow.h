#pragma once
// The money the scheduler needs, and nothing more: a two-phase hold placed at submit, posted (in
// part) when the job settles, voided when it is cancelled or fails to queue. The scheduler never
// includes ledger/ headers; the ledger-backed implementation is chosen in escrow_factory.cpp.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <vector>

#include "config/config.h"
#include "core/hash.h"
#include "core/ids.h"
#include "core/money.h"

namespace rfarm::scheduler {

struct HoldId {
  Id128 id;
  auto operator<=>(const HoldId&) const = default;
};

// How a posted charge is split. total() must not exceed the hold; what is left of it is released.
struct Settlement {
  std::string provider;   // account paid for the rendering
  Amount provider_share;  // charge minus treasury and burn
  std::string treasury = "treasury";  // the treasury account
  Amount treasury_share;  // fees.treasury_bps of the charge
  Amount burn_share;      // fees.burn_bps of the charge
  std::string verifier;   // account paid for verification; empty when none
  Amount verifier_reward;
  // Written as user_data.usage on every transfer of the settlement (at most 128 bytes): the other
  // cluster's record for a job routed between clusters (JobRequest::origin on the provider's side,
  // "fed:<peer>:<its charge transfer id>:<its timestamp ns>" on the requester's). Empty otherwise.
  std::string reference;
  Amount total() const;
};

// Splits `charge` by the configured fees (rounding the fee shares down, so the provider gets the
// remainder and the parts add up to the charge exactly) and adds the verifier's reward.
Settlement split_charge(Amount charge, const config::FeesConfig& fees, std::string provider,
                        std::string verifier, Amount verifier_reward);

// A rendered frame's commitment: the provider's EXR as hashed when its evidence was taken.
struct FrameCommitRequest {
  std::string job;        // the job's uid (hex), as in the hold's user data
  std::int64_t frame = 0;
  std::string provider;   // provider account name
  Hash256 exr_sha256, tile_root;
};

// A verifier's recorded judgement of one committed frame.
struct FrameVerdict {
  std::int64_t frame = 0;
  bool pass = false;
  std::string reason;
  std::uint64_t event = 0;  // the ledger event recording it (0 in memory)
};

// A proven fake: take slash_bps of the provider's stake; burn_bps of that is burnt, the rest
// compensates `harmed`.
struct SlashOrder {
  Id128 id;               // idempotency key (derived from the job and the failed frames)
  std::string provider, harmed;
  std::uint32_t slash_bps = 0, burn_bps = 0;
  std::string job, frames;  // recorded with the transfers
};

// What the ledger's ingested usage records say one Slurm job (an array element) of a render job
// used: device-milliseconds by the allocation rule of ledger/job_usage.h, and the records' events.
struct MeteredJobUsage {
  std::size_t records = 0;             // usage events found for (job, Slurm job)
  std::uint64_t device_ms = 0;         // GPU-ms for a GPU job, else CPU-core-ms
  std::vector<std::uint64_t> events;   // the usage events (for inclusion proofs)
  std::string signers;                 // the nodes whose keys signed them, e.g. "n1,n2"
  // Whether the records are all in: the batch step's record (written when the batch script ends,
  // after every step inside it) is among them, and how many nodes sent any record.
  bool allocation = false;
  std::size_t nodes = 0;
};

// What reading the SPANK plugin's spool into the ledger gave (Escrow::ingest_usage).
struct UsageIngestResult {
  std::size_t lines = 0;  // spool lines read (re-reading one is harmless: ingestion is idempotent)
  std::string problem;    // why the spool could not be read; empty when it was
};

class Escrow {
 public:
  virtual ~Escrow() = default;
  // What `account` could hold now (balance minus its floor and its open holds).
  virtual Amount available(std::string_view account) = 0;
  // Reserves `amount` of `account` for `job` until posted, voided or `timeout` passes.
  // Error(Refused) when the account cannot cover it.
  virtual HoldId hold(std::string_view account, Amount amount, const Id128& job, std::chrono::seconds timeout) = 0;
  // Charges the settlement against the hold and releases the rest. Error(Refused) when the
  // settlement exceeds the hold or the hold is no longer open.
  virtual void post(HoldId hold, const Settlement& settlement) = 0;
  // Releases the whole hold. Error(Refused) when it is no longer open (voiding twice is a bug).
  virtual void void_hold(HoldId hold) = 0;

  // Evidence beside the money. Committing the same frame with the same hashes again is a no-op;
  // different hashes for a committed frame are Error(Refused) (the file changed after its commit).
  virtual void commit_frame(const FrameCommitRequest& commit) = 0;
  // The verdicts recorded for `job` (its uid hex), in the order they were recorded.
  virtual std::vector<FrameVerdict> verdicts(const std::string& job) = 0;
  // Slashes the provider's stake; returns the amount taken (0 when it has no stake). Idempotent by id.
  virtual Amount slash(const SlashOrder& order) = 0;
  // The metered usage recorded for Slurm job `slurm_job_id` of ledger job `job` (records carrying
  // --rfarm-job=job). records == 0 when none was ingested (the chunk is then not charged).
  virtual MeteredJobUsage job_usage(const std::string& job, std::uint32_t slurm_job_id, bool gpu) = 0;
  // Every Slurm job's metered usage under ledger job `job`, keyed by Slurm job id: one query for a
  // whole job (settlement of N chunks reads the job's records once, not N times).
  virtual std::map<std::uint32_t, MeteredJobUsage> usage_by_slurm_job(const std::string& job, bool gpu) = 0;
  // Ingests the usage spool this escrow knows of (rfarm.yaml spool_dir, node keys under
  // <state_dir>/node-keys) into the ledger, as `rfarm ledger ingest` does; idempotent. Deferred
  // settlement calls it while a job awaits its chunks' records. Default: nothing to read.
  virtual UsageIngestResult ingest_usage() { return {}; }
  // Whether `account` is in the ledger, so a caller can refuse before it holds anything (a routed
  // job's peer account is only paid at settlement). Default: every account exists (the in-memory
  // escrow creates them on first use).
  virtual bool has_account(std::string_view account) {
    (void)account;
    return true;
  }
  // Moves `amount` from `from` to `to` (code settle) in one transfer, idempotent by `id`, with
  // `job` and `reference` as its user data: what this cluster's treasury pays a peer for work its
  // re-route superseded (federation/reroute.h), which no user's hold covers. Error(Refused) when an
  // account is missing or `from` cannot cover it.
  virtual void pay(const Id128& id, std::string_view from, std::string_view to, Amount amount, std::string_view job,
                   std::string_view reference) = 0;
};

// An in-memory escrow with the ledger's rules, for tests and dry runs: integer balances, holds
// refused beyond the available balance, posts bounded by the hold, each hold closed once, expiry.
// After every operation it checks that deposits == balances + paid out + burnt.
class MemoryEscrow final : public Escrow {
 public:
  using Clock = std::chrono::steady_clock;

  void deposit(std::string_view account, Amount amount);
  void set_floor(std::string_view account, Amount min_balance);
  Amount balance(std::string_view account) const;  // including held funds
  Amount held(std::string_view account) const;
  std::size_t open_holds() const;
  // Voids holds whose timeout has passed at `now`; returns how many.
  std::size_t expire(Clock::time_point now);

  // Test hooks: a provider's stake and a verifier's verdict.
  void set_stake(std::string_view provider, Amount amount);
  Amount stake(std::string_view provider) const;
  void record_verdict(const std::string& job, FrameVerdict verdict);
  // Test hook: an ingested usage record of (job, Slurm job) from `node`; `allocation`: the batch
  // step's record (the one that completes a Slurm job's usage).
  void record_usage(const std::string& job, std::uint32_t slurm_job_id, std::uint64_t device_ms,
                    const std::string& node = "memory", bool allocation = true);
  // Test hook: a record waiting in the spool; ingest_usage() records it (once).
  void spool_usage(const std::string& job, std::uint32_t slurm_job_id, std::uint64_t device_ms,
                   const std::string& node = "memory");
  std::size_t ingests() const { return ingests_; }
  // Test hook: what ingest_usage() reports as the spool's problem (empty: none).
  void set_ingest_problem(std::string problem) { ingest_problem_ = std::move(problem); }
  const std::map<std::pair<std::string, std::int64_t>, FrameCommitRequest>& commits() const { return commits_; }

  Amount available(std::string_view account) override;
  HoldId hold(std::string_view account, Amount amount, const Id128& job, std::chrono::seconds timeout) override;
  void post(HoldId hold, const Settlement& settlement) override;
  void void_hold(HoldId hold) override;
  void commit_frame(const FrameCommitRequest& commit) override;
  std::vector<FrameVerdict> verdicts(const std::string& job) override;
  Amount slash(const SlashOrder& order) override;
  MeteredJobUsage job_usage(const std::string& job, std::uint32_t slurm_job_id, bool gpu) override;
  std::map<std::uint32_t, MeteredJobUsage> usage_by_slurm_job(const std::string& job, bool gpu) override;
  UsageIngestResult ingest_usage() override;
  // From `from`'s balance (its floor and holds respected), once per id.
  void pay(const Id128& id, std::string_view from, std::string_view to, Amount amount, std::string_view job,
           std::string_view reference) override;

 private:
  struct SpooledUsage {
    std::string job, node;
    std::uint32_t slurm_job_id = 0;
    std::uint64_t device_ms = 0;
  };
  struct Hold {
    std::string account;
    Amount amount;
    Id128 job;
    Clock::time_point expires;
  };
  void check_invariant() const;
  std::map<std::string, Amount, std::less<>> balances_;
  std::map<std::string, Amount, std::less<>> floors_;
  std::map<HoldId, Hold> holds_;
  Amount deposited_, burnt_;
  std::map<std::string, Amount, std::less<>> stakes_;
  std::map<std::pair<std::string, std::int64_t>, FrameCommitRequest> commits_;
  std::map<std::string, std::vector<FrameVerdict>> verdicts_;
  std::map<Id128, Amount> slashes_;
  std::map<Id128, Amount> payments_;
  std::map<std::pair<std::string, std::uint32_t>, MeteredJobUsage> usage_;
  std::map<std::pair<std::string, std::uint32_t>, std::vector<std::string>> usage_nodes_;
  std::vector<SpooledUsage> spool_;
  std::size_t ingests_ = 0;
  std::string ingest_problem_;
};

// The escrow the CLI uses. Until ledger/ is bound here (scheduler/escrow_factory.cpp, the one file
// to switch), it throws Error(Refused) "ledger not configured" so no job is queued without a hold.
std::unique_ptr<Escrow> make_escrow(const config::Config& config, const std::filesystem::path& state_dir);

}  // namespace rfarm::scheduler
