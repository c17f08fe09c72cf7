#pragma once
// JobRequest <-> JSON, the job store's column format for a request (private to scheduler/).
#include <nlohmann/json.hpp>

#include "scheduler/job.h"

namespace rfarm::scheduler::detail {

nlohmann::json request_to_json(const JobRequest& request);
// Error(Integrity) when a stored request does not parse back.
JobRequest request_from_json(const nlohmann::json& json);

}  // namespace rfarm::scheduler::detail
