#pragma once
// The metered usage of one rfarm job, read back from the ledger's "usage" events: what the SPANK
// plugin's signed records say the job's Slurm jobs used, so the scheduler can charge a Slurm chunk
// from its usage (not from the quote).
//
// Ingestion (usage_ingest.h) already checked each record's Ed25519 signature, that the signing key
// is registered for the node it names, and the cluster; what it stored is the usage event (record
// key, job, step, node, account, device-ms, signer) in the Merkle log. This query trusts nothing
// but that log: each stored usage row is checked against its event's canonical body (a row edited
// in the database after ingest is Error(Integrity), naming the event), the record key is parsed
// back into (cluster, Slurm job id, step, node) and must agree with the event's own fields, and,
// when a keyring is given, the signer must still be the registered key of the record's node (a key
// revoked since ingest is reported per record, never silently counted).
//
// The array task of a record is not part of a usage event (the plugin signs it, ingestion does not
// keep it): an array element is its own Slurm job with its own id, so a caller that knows which
// Slurm job ran which array task (the scheduler writes it in each element's log) asks by Slurm job id.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/signing.h"
#include "ledger/ledger.h"
#include "ledger/usage_ingest.h"

namespace rfarm::ledger {

// A query reads at most this many usage events of a job (a job of 100,000 chunks on 16 nodes
// with a batch step and one srun step per node is 3.2 M; more is refused, not truncated).
inline constexpr std::size_t kMaxJobUsageRecords = 4'000'000;

struct JobUsageQuery {
  std::string job;                            // the rfarm job id the records carry (--rfarm-job)
  std::optional<std::uint32_t> slurm_job_id;  // only this Slurm job (an array element's own id)
  const NodeKeyring* keyring = nullptr;       // when set, re-check each signer against it
};

struct JobUsageRecord {
  std::uint64_t event = 0;        // the usage event in the log (for an inclusion proof)
  std::string record;             // cluster/job/step/node, the record key
  std::string cluster;
  std::uint32_t slurm_job_id = 0;
  std::uint32_t step = 0;
  std::string node;
  std::string account;
  std::uint64_t cpu_ms = 0;       // CPU-core-milliseconds (CPUs allocated x duration)
  std::uint64_t gpu_ms = 0;       // GPU-milliseconds
  std::string gpu_model;
  std::uint64_t start_ms = 0, end_ms = 0;
  PublicKey signer;               // the node key that signed the record
  bool signer_registered = true;  // false only when a keyring was given and no longer lists it
  // The batch step: it lasts as long as the allocation on its node and is what the account pays for
  // (steps inside it are evidence of what ran).
  bool allocation() const { return step == kBatchStepId; }
};

// The usage events of `query.job` (optionally one Slurm job), in event order. Error(Integrity) when
// a stored row disagrees with its logged event or its key; Error(Refused) past kMaxJobUsageRecords;
// Error(BadInput) on an empty job id.
std::vector<JobUsageRecord> job_usage(Ledger& ledger, const JobUsageQuery& query);

// Device-milliseconds a set of one Slurm job's records stands for: per node, the batch step's
// record when there is one (it spans the allocation), else the sum of that node's step records (a
// node without the batch script, in a multi-node allocation); extern steps never count. `gpu`
// selects GPU-ms (a GPU job) or CPU-core-ms. Records whose signer is no longer registered are
// skipped. Error(Refused) on 64-bit overflow.
std::uint64_t allocation_device_ms(const std::vector<JobUsageRecord>& records, bool gpu);

}  // namespace rfarm::ledger
