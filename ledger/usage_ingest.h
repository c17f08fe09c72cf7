#pragma once
// Ingestion of signed usage records (core/usage_record.h) written by the SPANK plugin on each node:
// verify, de-duplicate, price, charge.
//
// For each spool line:
//  1. decode it and check its signature (Error(Integrity) reasons become "rejected" outcomes);
//  2. the key that signed it must be registered for the node the record names (NodeKeyring);
//  3. records that are not billable (steps inside an sbatch job, extern steps) are evidence only;
//     so are records of an rfarm job (--rfarm-job): that job's escrow hold pays for it when the
//     scheduler settles, and charging the record too would bill the account twice;
//  4. the charge is (gpus x gpu_hour[model] + cpus x cpu_core_hour) x duration, in integer base
//     units, rounded down (the payer never pays for a fraction of a base unit);
//  5. every record that passed 1-2 (billable or not) is recorded as a "usage" event (record key,
//     job, step, node, account, device-milliseconds, signer, the charge's id), so the log proves what
//     was metered; a different record under the same key is refused ("conflict");
//  6. it is posted as one transfer from the record's account to the provider account, code charge,
//     user data {job: "slurm:<id>", usage: record key}, in the usage event's transaction. The transfer id is derived from
//     the record key, so ingesting a record twice changes nothing ("duplicate"), and a different
//     record for the same step (a replay with other numbers) is refused ("conflict").
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/signing.h"
#include "core/usage_record.h"
#include "ledger/ledger.h"

namespace rfarm::ledger {

// Per-hour prices in base units. The CLI fills them from rfarm.yaml (the ledger knows no config).
struct UsagePrices {
  std::map<std::string, Amount, std::less<>> gpu_hour;  // GPU model -> base units per GPU-hour
  Amount cpu_core_hour;                                 // base units per CPU-core-hour
};

// The node keys the cluster trusts: public key -> node name.
struct NodeKeyring {
  std::map<PublicKey, std::string> nodes;
  // Reads DIR/<node>.pub files (core/signing.h public key format). Error(Io/BadInput) naming the file.
  static NodeKeyring load_dir(const std::filesystem::path& dir);
};

// Integer charge for one record. Error(BadInput) when its GPU model has no price, Error(Refused)
// on overflow (a record claiming absurd usage).
Amount usage_charge(const UsageRecord& record, const UsagePrices& prices);

// The transfer id a record's charge gets: SHA-256("rfarm-usage-v1:" + key) truncated to 128 bits.
Id128 usage_transfer_id(const UsageRecord& record);

struct IngestOutcome {
  enum class Status { charged, duplicate, evidence_only, job_usage, free, rejected, conflict, refused };
  Status status = Status::rejected;
  std::string source;  // "FILE:LINE"
  std::string key;     // the record key, when it decoded
  std::string job;     // the rfarm job a job_usage record belongs to
  Amount amount;       // the charge (charged / duplicate)
  std::string reason;  // for rejected / conflict / refused
};
std::string_view to_string(IngestOutcome::Status status);

struct IngestSummary {
  std::vector<IngestOutcome> outcomes;
  std::size_t count(IngestOutcome::Status status) const;
};

// One spool line from `source` ("FILE:LINE").
IngestOutcome ingest_usage_line(Ledger& ledger, std::string_view line, const std::string& source,
                                const NodeKeyring& keyring, const UsagePrices& prices, const Id128& provider);

// Every usage-*.jsonl file in `spool_dir`, line by line, in file-name order.
IngestSummary ingest_spool(Ledger& ledger, const std::filesystem::path& spool_dir, const NodeKeyring& keyring,
                           const UsagePrices& prices, const Id128& provider);

}  // namespace rfarm::ledger
