#pragma once
// `rfarm ledger export-usage`: the ledger's metered usage as grid accounting records, so an
// institution can feed its national accounting (EGI/WLCG APEL, or any OGF Usage Record consumer).
//
// Why in federation/ and not ledger/: APEL and OGF-UR are the formats clusters of different
// institutions exchange usage in (the same role as pair statements between peers); the ledger
// keeps its own events and rules and knows no external report format. This file reads the
// ledger only through its public interface.
//
// Source of truth: the ledger's "usage" events (ledger/usage_ingest.h). Each stored usage row is
// checked against its event's canonical body before it is exported (a row edited in the database
// is Error(Integrity)). Records are grouped per Slurm job (cluster, Slurm job id, account), counting
// on each node what the account pays for: the batch step when there is one (it spans the
// allocation), else that node's srun steps; extern steps never (the same rule as
// ledger::allocation_device_ms).
//
// Field mapping (what the ledger knows; what it does not know is left out, not invented):
//   LocalJobId     the Slurm job id (an array element has its own)
//   VO / ProjectName  the rfarm account charged (the group that pays; the ledger keeps no Unix user)
//   WallDuration   latest end - earliest start over the counted records
//   CpuDuration    allocated core-time (CPUs x duration, summed over nodes): rfarm meters
//                  allocations, not the kernel's CPU seconds, so this is an upper bound of the latter
//   Processors     CPUs allocated, summed over nodes; NodeCount: distinct nodes
//   StartTime/EndTime  earliest start / latest end
//   Charge (UR)    the ledger's posted charge transfers for the records, in token units; absent for
//                  records of an rfarm job (paid from the job's escrow at settlement, not per record)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "ledger/ledger.h"

namespace rfarm::federation {

struct UsageExportOptions {
  std::string site;         // APEL Site (default: the ledger's cluster name)
  std::string submit_host;  // APEL/UR SubmitHost (default: the ledger's cluster name)
  std::string token_symbol = "RT";  // UR Charge unit
  std::optional<std::int64_t> from_ms, to_ms;  // keep jobs whose EndTime is in [from, to)
  std::string account;      // only this rfarm account ("" = all)
  // APEL ServiceLevelType/ServiceLevel (e.g. "HEPSPEC", "10.5"): both or neither; neither is
  // APEL's default (no normalisation).
  std::string service_level_type;
  std::string service_level;
  std::int64_t create_time_ms = 0;  // UR RecordIdentity createTime
};

struct ExportedJob {
  std::string cluster;
  std::uint32_t slurm_job_id = 0;
  std::string job;      // what the records carry: "slurm:<id>" or the rfarm job id
  std::string account;
  std::int64_t start_ms = 0, end_ms = 0;
  std::uint64_t cpu_ms = 0;  // allocated core-milliseconds
  std::uint64_t gpu_ms = 0;  // GPU-milliseconds
  std::string gpu_model;
  std::uint32_t processors = 0;
  std::vector<std::string> nodes;  // sorted
  std::optional<Amount> charge;    // posted charges, when the records were charged
  std::vector<std::uint64_t> events;  // the counted usage events (for inclusion proofs)
  std::uint64_t wall_ms() const { return end_ms > start_ms ? static_cast<std::uint64_t>(end_ms - start_ms) : 0; }
};

// The ledger's usage grouped per Slurm job and filtered, ordered by (end, cluster, Slurm job id).
// Error(Integrity) when a stored row disagrees with its event; Error(BadInput) on bad options.
std::vector<ExportedJob> collect_usage(ledger::Ledger& ledger, const UsageExportOptions& options);

// "APEL-individual-job-message: v0.3": one "Key: value" block per job, each closed by "%%".
std::string format_apel_jobs(const std::vector<ExportedJob>& jobs, const UsageExportOptions& options);
// "APEL-summary-job-message: v0.2": one block per (year, month of EndTime in UTC, VO, NodeCount,
// Processors); WallDuration/CpuDuration are the sums of the individual messages' rounded seconds.
std::string format_apel_summaries(const std::vector<ExportedJob>& jobs, const UsageExportOptions& options);
// OGF Usage Record (GFD.98) XML: <urf:UsageRecords> of <urf:JobUsageRecord>, namespace
// http://schema.ogf.org/urf/2003/09/urf. `decimals` formats the Charge.
std::string format_usage_records(const std::vector<ExportedJob>& jobs, const UsageExportOptions& options, int decimals);

// "YYYY-MM" (first day), "YYYY-MM-DD" (midnight) or "YYYY-MM-DDTHH:MM:SSZ", all UTC, to Unix ms.
// Error(BadInput) naming `field` otherwise.
std::int64_t parse_export_time(std::string_view text, std::string_view field);
// Unix ms -> "YYYY-MM-DDTHH:MM:SSZ" (UTC, whole seconds, rounded down).
std::string iso8601_utc(std::int64_t ms);

}  // namespace rfarm::federation
