#pragma once
// What `rfarm submit --test-only`, `rfarm queue` and `rfarm show` print, text and JSON.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "scheduler/job_store.h"

namespace rfarm::scheduler {

nlohmann::json quote_json(const Quote& quote, const config::Config& config);
nlohmann::json plan_json(const JobPlan& plan, const config::Config& config);
std::string plan_text(const JobPlan& plan, const config::Config& config);

// The cost shown is what the job was charged once settled, else what it owes now (charges.h).
nlohmann::json job_json(const JobStore& store, const JobRecord& job, const config::Config& config);
// job_json plus "chunk_states" (index, frames, state, attempts, backend id, exit code, usage, note)
// and "frame_states" (frame, state, output, round, host, exr_sha256, tile_root, committed, verdict,
// reason, charge).
nlohmann::json job_detail_json(const JobStore& store, const JobRecord& job, const config::Config& config);
// One header line, then one line per job (like squeue).
std::string queue_text(const JobStore& store, const std::vector<JobRecord>& jobs, const config::Config& config);
std::string job_text(const JobStore& store, const JobRecord& job, const config::Config& config);

}  // namespace rfarm::scheduler
