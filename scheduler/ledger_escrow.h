#pragma once
// The scheduler's Escrow on the real ledger: a render job's hold is a two-phase ledger transfer
// from the user's account into the "escrow" account; settlement posts what was used (into escrow)
// and pays it out from escrow to the provider, the treasury, the burn account and the verifier in
// the same atomic batch; what is left of the hold is released by the post itself.
//
// Every transfer id is derived from the job's hold id and its role, so a retried settlement or a
// re-run after a crash returns `exists` and never pays twice.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "ledger/ledger.h"
#include "ledger/open_storage.h"
#include "scheduler/escrow.h"

namespace rfarm::scheduler {

inline constexpr const char* kEscrowAccount = "escrow";
inline constexpr const char* kBurnAccount = "burn";

class LedgerEscrow final : public Escrow {
 public:
  // `ledger` must be writable (opened with the cluster key). Creates the escrow and burn accounts
  // if they are missing (idempotent: fixed ids).
  LedgerEscrow(ledger::Ledger ledger, const config::Config& config);

  // The funds check (submit_job): through the reader when read_funds_through() named one, else on
  // this escrow's own (writer's) connection.
  Amount available(std::string_view account) override;
  // Least privilege (docs/LEDGER.md "Roles"): read balances for the funds check through `reader`
  // (the rfarm_reader role, opened READ ONLY per check, as the SPANK admission check does); holds,
  // posts and everything else stay on the writer's connection.
  void read_funds_through(ledger::StorageLocation reader) { funds_reader_ = std::move(reader); }
  HoldId hold(std::string_view account, Amount amount, const Id128& job, std::chrono::seconds timeout) override;
  void post(HoldId hold, const Settlement& settlement) override;
  void void_hold(HoldId hold) override;
  // append_frame_commit; verdicts(job) from the ledger's verdict events; slash through ledger/stake.h.
  void commit_frame(const FrameCommitRequest& commit) override;
  std::vector<FrameVerdict> verdicts(const std::string& job) override;
  Amount slash(const SlashOrder& order) override;
  // ledger/job_usage.h over the usage events of (job, Slurm job).
  MeteredJobUsage job_usage(const std::string& job, std::uint32_t slurm_job_id, bool gpu) override;
  // One ledger query (Storage::usage_of_job, indexed) for all of the job's Slurm jobs.
  std::map<std::uint32_t, MeteredJobUsage> usage_by_slurm_job(const std::string& job, bool gpu) override;
  // ledger/usage_ingest.h over rfarm.yaml's spool_dir with <state_dir>/node-keys, prices from
  // rfarm.yaml and the first provider account: what `rfarm ledger ingest` does with its defaults.
  // At most once per min_ingest_interval per escrow: `rfarm queue` looks at every awaiting job with
  // one escrow, and each spool pass re-reads (and re-verifies) every line.
  UsageIngestResult ingest_usage() override;
  void set_min_ingest_interval(std::chrono::milliseconds interval) { min_ingest_interval_ = interval; }
  bool has_account(std::string_view name) override;
  // A single transfer (code settle); the treasury, having no overdraft flag, may go below zero.
  void pay(const Id128& id, std::string_view from, std::string_view to, Amount amount, std::string_view job,
           std::string_view reference) override;

  ledger::Ledger& ledger() { return ledger_; }

 private:
  ledger::Account account(std::string_view name, std::string_view role);
  Amount spendable(const ledger::Account& a, std::string_view name) const;
  ledger::Ledger ledger_;
  config::Config config_;
  std::optional<ledger::StorageLocation> funds_reader_;
  std::chrono::milliseconds min_ingest_interval_{5'000};
  std::optional<std::chrono::steady_clock::time_point> last_ingest_;
  UsageIngestResult last_ingest_result_;
};

// Transfer ids for a job's money: SHA-256("rfarm-escrow-v1:" + role + ":" + hold id) truncated.
Id128 derived_transfer_id(const Id128& base, std::string_view role);
// The hold of job `job` (its uid), and the post of that hold at settlement: the transfer that
// charges the paying account (for a peer's job, what this cluster charged the peer for it).
Id128 hold_transfer_id(const Id128& job);
Id128 charge_transfer_id(const Id128& job);

}  // namespace rfarm::scheduler
