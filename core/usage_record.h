#pragma once
// A signed usage record: what one Slurm job step used on one node, written by the SPANK plugin
// inside slurmstepd and ingested (signature checked, de-duplicated, priced) by the ledger.
//
// Wire form: one line of canonical JSON per record, appended to the node's spool file:
//   {"node_key":"<64 hex>","record":{...},"sig":"<128 hex>","v":1}
// "record" holds the fields of UsageRecord under their names below; the signature is Ed25519 by
// the node key over the exact bytes of the canonical "record" object. Canonical = nlohmann::json's
// compact dump of an object (keys sorted, no spaces, integers in decimal, strings UTF-8 with only the
// mandatory escapes). A line that is not exactly its own canonical form is refused: any changed
// byte either breaks the signature or breaks canonicality.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/signing.h"

namespace rfarm {

inline constexpr int kUsageRecordVersion = 1;
// A record line longer than this is refused unread (a spool line is ~600 bytes).
inline constexpr std::size_t kMaxUsageRecordBytes = 4096;
// Slurm's special step ids (slurm.h: SLURM_BATCH_SCRIPT, SLURM_EXTERN_CONT, SLURM_INTERACTIVE_STEP).
inline constexpr std::uint32_t kBatchStepId = 0xfffffffb;
inline constexpr std::uint32_t kExternStepId = 0xfffffffc;
inline constexpr std::uint32_t kInteractiveStepId = 0xfffffffa;

struct UsageRecord {
  std::string cluster;              // SLURM_CLUSTER_NAME
  std::string node;                 // short host name of the node that ran the step
  std::uint32_t job_id = 0;         // Slurm job id
  std::uint32_t step_id = 0;        // Slurm step id (kBatchStepId for the batch script)
  std::uint32_t array_job_id = 0;   // 0 when not an array element
  std::uint32_t array_task_id = 0;  // meaningful when array_job_id != 0
  std::uint32_t uid = 0;            // the job owner
  std::string account;              // the rfarm account charged (--rfarm-account or default)
  std::string rfarm_job;            // the rfarm job id, "" for a plain sbatch/srun job
  std::uint32_t cpus = 0;           // CPUs allocated to the step on this node
  std::uint32_t gpus = 0;           // GPUs allocated to the step on this node
  std::string gpu_model;            // the node's GPU model as configured ("" when none)
  std::int64_t start_ms = 0;        // step start, Unix epoch milliseconds
  std::int64_t end_ms = 0;          // step end, Unix epoch milliseconds (>= start_ms)
  std::int32_t exit_status = 0;     // first non-zero task exit status, else 0
  bool batch_job = false;           // the job runs an sbatch script: its batch step spans the
                                    // allocation, so its srun steps are covered by it

  // The de-duplication key: one record per (cluster, job, step, node).
  std::string key() const;
  std::uint64_t duration_ms() const { return end_ms > start_ms ? std::uint64_t(end_ms - start_ms) : 0; }
  // Whether this record is what the account pays for: the batch step of an sbatch job (it lasts
  // as long as the allocation), or each step of a job without a batch script (srun, salloc).
  // Steps inside a batch job and the extern step are kept as evidence but cost nothing extra.
  bool billable() const {
    if (step_id == kExternStepId) return false;
    return batch_job ? step_id == kBatchStepId : true;
  }
  bool operator==(const UsageRecord&) const = default;
};

// The exact bytes the node key signs.
std::string canonical_record_json(const UsageRecord& record);

// Signs and encodes one spool line (without the trailing newline).
std::string encode_usage_line(const UsageRecord& record, const SigningKey& node_key);

struct DecodedUsageLine {
  UsageRecord record;
  PublicKey node_key;  // the key the line claims; ingestion checks it is a registered node's
};

// Parses a spool line and checks its signature against the key it names. Throws
// Error(Integrity) naming what is wrong (not JSON, not canonical, missing field, bad signature,
// unknown version, field out of range).
DecodedUsageLine decode_usage_line(std::string_view line);

}  // namespace rfarm
