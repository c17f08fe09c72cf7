#pragma once
// rfarm submit --clusters (routing to a peer cluster) and the remote jobs' refresh: kept apart from
// scheduler_commands.cpp, which calls these.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "config/config.h"
#include "scheduler/backend.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"
#include "scheduler/plan.h"

namespace rfarm::federation {
class WorkService;
struct StatusFollow;
}

namespace rfarm::cli {

struct RouteFlags {
  std::string clusters;   // "any" or NAME[,NAME...]
  std::string state_dir;
  std::string deadline;   // --deadline as given (federation/deadline.h); empty: none
  bool test_only = false, parsable = false;
};

// Quotes the eligible peers, prints the quote table and the placement (federation/placement.h),
// and (unless test_only) holds the user's escrow here and orders the job from the chosen peer, or
// each part of a split from its peer (one rfarm job, hold and order per part). Returns the ids of
// the jobs placed (none for test_only).
std::vector<std::int64_t> route_submit(const scheduler::JobPlan& plan, const config::Config& config, const RouteFlags& flags, Context& ctx);

// For a job routed to a peer: asks the peer and fetches the outputs when it has rendered them.
// With `follow` (rfarm watch), the question is a long poll once a status was seen (remote_backend.h).
void refresh_remote_job(scheduler::JobStore& store, const config::Config& config, std::int64_t job,
                        federation::StatusFollow* follow = nullptr);

// For a routed job that finished with its hold open here: settles it on the peer's proven charge
// (federation/remote_settlement.h). A peer not settled yet leaves it open (the job's message says so).
void settle_remote(scheduler::JobStore& store, const config::Config& config, scheduler::Escrow& escrow, std::int64_t job);

// For a routed job settled as disputed after a failed verdict: places its frames on another peer
// under a new hold (federation/reroute.h requeue_if_failed); the job's message says where, or why not.
void requeue_remote_when_failed(scheduler::JobStore& store, const config::Config& config,
                                const std::filesystem::path& state_dir, std::int64_t job);

// Cancels a routed job: tells the peer, then settles when its charge is proven (remote_settlement.h).
void cancel_remote(scheduler::JobStore& store, const config::Config& config, scheduler::Escrow& escrow, std::int64_t job);

// For a routed job whose outputs were fetched: verifies its frames here, slashes the peer's stake
// for failed ones and sends the peer the signed verdict (federation/remote_verify.h), when that is
// still due and rfarm.yaml has a verifier account. `program`: this binary and its --config.
void verify_remote_job_when_due(scheduler::JobStore& store, const config::Config& config,
                                const std::filesystem::path& state_dir, std::int64_t job,
                                const std::vector<std::string>& program);


// rfarm serve's work service: jobs peers send run on the local backend, kept in the state
// directory's job store, with this binary (and --config) rendering their chunks.
std::shared_ptr<federation::WorkService> serve_work_service(const config::Config& config, const Context& ctx);

}  // namespace rfarm::cli
