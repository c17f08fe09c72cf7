#pragma once
// Submission and its money, in the order that keeps the two consistent:
//   plan (quote) -> refuse over --max-cost or over the account's available balance -> store the job
//   -> place the hold -> queue on the backend -> if queueing fails, void the hold.
// Settlement charges what was rendered, from evidence and metered usage (charges.h): frames whose
// EXR is in evidence and that no verifier failed, at each chunk's metered device time x the price,
// plus the verification share once verification completed; the rest of the hold is released.
#include <chrono>
#include <string>

#include "config/config.h"
#include "scheduler/backend.h"
#include "scheduler/charges.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"
#include "scheduler/plan.h"

namespace rfarm::scheduler {

inline constexpr std::chrono::seconds kDefaultHoldTimeout{7 * 24 * 3600};

// The account a job is charged to: -A/--account, else the unix user's default in rfarm.yaml
// (users:). When rfarm.yaml lists accounts, it must be one of them and allow `unix_user`.
std::string resolve_account(const std::string& requested, const config::Config& config, const std::string& unix_user);

// The first account of `kind` in rfarm.yaml's accounts (the one settlement pays); empty when none.
std::string first_account(const config::Config& config, config::AccountKind kind);

// The unix user running this process ($USER, else the passwd entry).
std::string current_unix_user();

// Queues a planned job and returns its record. Error(Refused) before anything is queued when the
// quote exceeds escrow.available(account); Error(Io) when the backend cannot queue it (the hold
// is voided and the job stored as failed with the reason).
JobRecord submit_job(const JobPlan& plan, const config::Config& config, JobStore& store, Backend& backend,
                     Escrow& escrow, std::chrono::seconds hold_timeout = kDefaultHoldTimeout);

// What a job owes now (charges.h over the stored chunks and frames).
JobCharges job_charges(const JobStore& store, std::int64_t job);

// Posts job_charges (split by the configured fees between the first provider account, the first
// treasury account and the first verifier account of rfarm.yaml) and releases the rest of the hold,
// or voids the hold when nothing is owed. Records the cost and each frame's charge and clears the
// hold. No-op without a hold.
void settle_job(JobStore& store, Escrow& escrow, const config::Config& config, std::int64_t job);

// Whether nothing more will happen to the job, so its hold can be settled: verified, failed, or
// rendered with no verification job queued.
bool is_finished(const JobRecord& job);

// Unix seconds now (the clock deferred settlement measures its grace period with).
std::int64_t unix_now();

// For a job found finished with its hold open (Slurm: by rfarm queue/show/watch/settle): commits
// its rendered frames, applies the verification verdicts; frames a verifier failed are
// re-submitted on the backend as a new round (returns true: the job goes on, nothing is settled),
// else the job settles when its usage is known (settle_when_metered; returns false).
bool finish_job(JobStore& store, Backend& backend, Escrow& escrow, const config::Config& config, std::int64_t job,
                std::int64_t now = unix_now());

// Deferred settlement of a finished job (deferred_settlement.cpp, docs/SCHEDULER.md). Meters its
// chunks (Backend::meter, waiting pass); when a chunk with charged frames still has no complete
// usage and the backend's usage arrives later (Backend::awaits_usage), ingests the usage spool
// (Escrow::ingest_usage) and meters again. Settles (settle_job) as soon as every such chunk is
// metered. Otherwise the job waits "awaiting_usage" (JobRecord::usage_wait_since, kept in the job
// store, so any later rfarm process continues the wait) until cluster.usage_grace_seconds have
// passed since it began waiting; then a final pass settles it, the chunks still without usage
// unmetered (not charged, named in the job's message). Returns true when the hold was settled.
// Idempotent: a job without a hold is left alone; a final pass's inputs never change afterwards,
// so a settlement retried after a crash posts the same transfers (ledger ids derived from the hold).
bool settle_when_metered(JobStore& store, Backend& backend, Escrow& escrow, const config::Config& config,
                         std::int64_t job, std::int64_t now = unix_now());

// Cancels the job on its backend, then settles it (only rendered frames are charged), through
// settle_when_metered: on Slurm with metering, usage of the chunks that ran may still be on its way.
void cancel_job(JobStore& store, Backend& backend, Escrow* escrow, const config::Config& config, std::int64_t job,
                std::int64_t now = unix_now());

}  // namespace rfarm::scheduler
