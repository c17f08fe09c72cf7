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

// For a job found finished with its hold open (Slurm: by rfarm queue/show/watch): commits its
// rendered frames, applies the verification verdicts; frames a verifier failed are re-submitted
// on the backend as a new round (returns true: the job goes on, nothing is settled), else each
// chunk's usage is metered (Backend::meter) and the job settled (returns false).
bool finish_job(JobStore& store, Backend& backend, Escrow& escrow, const config::Config& config, std::int64_t job);

// Cancels the job on its backend, then settles it (only rendered frames are charged).
void cancel_job(JobStore& store, Backend& backend, Escrow* escrow, const config::Config& config, std::int64_t job);

}  // namespace rfarm::scheduler
