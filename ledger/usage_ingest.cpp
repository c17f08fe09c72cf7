#include "ledger/usage_ingest.h"

#include <algorithm>
#include <fstream>

#include "core/error.h"
#include "core/hash.h"
#include "ledger/limits.h"

namespace rfarm::ledger {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMillisecondsPerHour = 3'600'000;

IngestOutcome outcome(IngestOutcome::Status s, const std::string& source, std::string key = {},
                      std::string reason = {}) {
  IngestOutcome o;
  o.status = s;
  o.source = source;
  o.key = std::move(key);
  o.reason = std::move(reason);
  return o;
}

}  // namespace

NodeKeyring NodeKeyring::load_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw Error(Error::Kind::Io, dir.string() + ": not a directory of node public keys (create it and put "
                                                "<node>.pub files from `rfarm keygen` there)");
  }
  NodeKeyring ring;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".pub") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const PublicKey key = load_public_key(f);
    const std::string node = f.stem().string();
    auto [it, inserted] = ring.nodes.emplace(key, node);
    if (!inserted) {
      throw Error(Error::Kind::BadInput, f.string() + ": the same key is already registered for node " + it->second +
                                             " (each node needs its own key)");
    }
  }
  return ring;
}

Amount usage_charge(const UsageRecord& r, const UsagePrices& prices) {
  using u128 = unsigned __int128;
  u128 per_hour = static_cast<u128>(r.cpus) * prices.cpu_core_hour.units;
  if (r.gpus > 0) {
    auto it = prices.gpu_hour.find(r.gpu_model);
    if (it == prices.gpu_hour.end()) {
      throw Error(Error::Kind::BadInput, "GPU model '" + r.gpu_model + "' has no price (add it to prices.gpu_hour in rfarm.yaml, "
                                         "and set the node's gpu_model= plugstack argument to match)");
    }
    per_hour += static_cast<u128>(r.gpus) * it->second.units;
  }
  // (base units per hour) x ms / (ms per hour), rounded down. Both factors are below 2^64 and the
  // per-hour sum below 2^65, so the product fits comfortably in 128 bits.
  const u128 total = per_hour * r.duration_ms() / kMillisecondsPerHour;
  if (total > kMaxAmount) {
    throw Error(Error::Kind::Refused, "usage record " + r.key() + " would cost more than the ledger's maximum amount");
  }
  return Amount(static_cast<std::uint64_t>(total));
}

Id128 usage_transfer_id(const UsageRecord& r) { return Id128::derived("rfarm-usage-v1:" + r.key()); }

std::string_view to_string(IngestOutcome::Status s) {
  switch (s) {
    case IngestOutcome::Status::charged: return "charged";
    case IngestOutcome::Status::duplicate: return "duplicate";
    case IngestOutcome::Status::evidence_only: return "evidence_only";
    case IngestOutcome::Status::job_usage: return "job_usage";
    case IngestOutcome::Status::free: return "free";
    case IngestOutcome::Status::rejected: return "rejected";
    case IngestOutcome::Status::conflict: return "conflict";
    case IngestOutcome::Status::refused: return "refused";
  }
  return "unknown";
}

std::size_t IngestSummary::count(IngestOutcome::Status s) const {
  return static_cast<std::size_t>(
      std::count_if(outcomes.begin(), outcomes.end(), [s](const IngestOutcome& o) { return o.status == s; }));
}

IngestOutcome ingest_usage_line(Ledger& ledger, std::string_view line, const std::string& source,
                                const NodeKeyring& keyring, const UsagePrices& prices, const Id128& provider) {
  using S = IngestOutcome::Status;
  DecodedUsageLine d;
  try {
    d = decode_usage_line(line);
  } catch (const Error& e) {
    return outcome(S::rejected, source, {}, e.what());
  }
  const UsageRecord& r = d.record;
  auto known = keyring.nodes.find(d.node_key);
  if (known == keyring.nodes.end()) {
    return outcome(S::rejected, source, r.key(), "signed by key " + d.node_key.hex() + ", which no registered node has");
  }
  if (known->second != r.node) {
    return outcome(S::rejected, source, r.key(),
                   "record names node '" + r.node + "' but is signed by the key of node '" + known->second + "'");
  }
  if (r.cluster != ledger.cluster()) {
    return outcome(S::rejected, source, r.key(),
                   "record is from cluster '" + r.cluster + "', this ledger is cluster '" + ledger.cluster() + "'");
  }
  try {
    MeteredUsage usage;
    usage.record = r.key();
    usage.job = r.rfarm_job.empty() ? "slurm:" + std::to_string(r.job_id) : r.rfarm_job;
    usage.step = r.step_id;
    usage.node = r.node;
    usage.account = r.account;
    usage.gpu_model = r.gpu_model;
    usage.signer = d.node_key;
    // Device time in exact device-milliseconds; 2^32 devices x 2^63 ms would not fit: refuse that.
    const unsigned __int128 cpu_ms = static_cast<unsigned __int128>(r.cpus) * r.duration_ms();
    const unsigned __int128 gpu_ms = static_cast<unsigned __int128>(r.gpus) * r.duration_ms();
    if (cpu_ms > kMaxAmount || gpu_ms > kMaxAmount || r.start_ms < 0 || r.end_ms < r.start_ms) {
      return outcome(S::rejected, source, r.key(), "the record's times or device counts are out of range");
    }
    usage.cpu_ms = static_cast<std::uint64_t>(cpu_ms);
    usage.gpu_ms = static_cast<std::uint64_t>(gpu_ms);
    usage.start_ms = static_cast<std::uint64_t>(r.start_ms);
    usage.end_ms = static_cast<std::uint64_t>(r.end_ms);
    const bool chargeable = r.billable() && r.rfarm_job.empty();
    // The id the record's charge has (or will have once it can be charged): fixed by the record alone,
    // so the usage event is the same whether or not the charge succeeded on this attempt.
    if (chargeable) usage.charge = usage_transfer_id(r);

    // Records the usage event alone (no charge); maps a conflict.
    auto record_only = [&](IngestOutcome o) {
      UsageResult u = ledger.append_usage(usage);
      if (u.conflict) {
        return outcome(S::conflict, source, r.key(),
                       "a different record for the same step is already in the log (event #" + std::to_string(u.event) +
                           "): replayed or altered usage");
      }
      return o;
    };

    if (!r.billable()) return record_only(outcome(S::evidence_only, source, r.key()));
    if (!r.rfarm_job.empty()) {
      IngestOutcome o = outcome(S::job_usage, source, r.key());
      o.job = r.rfarm_job;
      return record_only(o);
    }

    Amount amount;
    try {
      amount = usage_charge(r, prices);
    } catch (const Error& e) {
      return record_only(outcome(S::refused, source, r.key(), e.what()));
    }
    if (amount.units == 0) return record_only(outcome(S::free, source, r.key(), "costs less than one base unit"));

    std::optional<Account> payer;
    try {
      payer = ledger.resolve_account(r.account, "record account");
    } catch (const Error& e) {
      return record_only(outcome(S::refused, source, r.key(), "account '" + r.account + "' is not in the ledger"));
    }
    const TransferRequest charge = single(usage.charge, payer->id, provider, amount, TransferCode::charge,
                                          UserData{usage.job, "", r.key()});
    const UsageResult u = ledger.append_usage(usage, charge);
    IngestOutcome o = outcome(S::charged, source, r.key());
    o.amount = amount;
    if (u.conflict) {
      o.status = S::conflict;
      o.reason = "a different record for the same step is already in the log (event #" + std::to_string(u.event) +
                 "): replayed or altered usage";
      return o;
    }
    switch (u.charge) {
      case TransferResult::ok: return o;
      case TransferResult::exists: o.status = S::duplicate; return o;
      case TransferResult::exists_with_different_fields:
        o.status = S::conflict;
        o.reason = "a different record for the same step was already charged (replayed or altered usage)";
        return o;
      default:
        o.status = S::refused;
        o.reason = "the ledger refused the charge: " + std::string(to_string(u.charge)) +
                   (u.charge == TransferResult::exceeds_credits ? " (deposit into " + r.account + ", then ingest again)" : "");
        return o;
    }
  } catch (const Error& e) {
    // A field the ledger cannot store (e.g. an over-long node name): reject this line, go on.
    if (e.kind() != Error::Kind::BadInput) throw;
    return outcome(IngestOutcome::Status::rejected, source, r.key(), e.what());
  }
}

IngestSummary ingest_spool(Ledger& ledger, const fs::path& spool_dir, const NodeKeyring& keyring,
                           const UsagePrices& prices, const Id128& provider) {
  std::error_code ec;
  if (!fs::is_directory(spool_dir, ec)) {
    throw Error(Error::Kind::Io, spool_dir.string() + ": no such spool directory (the SPANK plugin's spool= argument)");
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(spool_dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("usage-", 0) == 0 && e.path().extension() == ".jsonl") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  IngestSummary summary;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw Error(Error::Kind::Io, f.string() + ": cannot read");
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      if (line.empty()) continue;
      summary.outcomes.push_back(
          ingest_usage_line(ledger, line, f.string() + ":" + std::to_string(n), keyring, prices, provider));
    }
  }
  return summary;
}

}  // namespace rfarm::ledger
