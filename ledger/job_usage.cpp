#include "ledger/job_usage.h"

#include <charconv>
#include <map>

#include "core/error.h"
#include "core/hash.h"
#include "core/merkle.h"
#include "ledger/event.h"

namespace rfarm::ledger {

namespace {

[[noreturn]] void tampered(const StoredUsage& s, const std::string& what) {
  throw Error(Error::Kind::Integrity, "usage row " + s.usage.record + " (event #" + std::to_string(s.event) + "): " + what +
                                          " (the ledger database was changed outside rfarm: run rfarm ledger audit)");
}

std::uint32_t parse_u32(std::string_view text, const StoredUsage& s, const char* field) {
  std::uint32_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    tampered(s, std::string("its record key has no valid ") + field);
  return v;
}

// cluster/job/step/node (core/usage_record.h UsageRecord::key). The node is the last field and
// the cluster name has no '/', so the split is unambiguous.
void split_key(const StoredUsage& s, JobUsageRecord& out) {
  const std::string& key = s.usage.record;
  const auto a = key.find('/');
  const auto b = a == std::string::npos ? a : key.find('/', a + 1);
  const auto c = b == std::string::npos ? b : key.find('/', b + 1);
  if (c == std::string::npos) tampered(s, "its record key is not cluster/job/step/node");
  out.cluster = key.substr(0, a);
  out.slurm_job_id = parse_u32(std::string_view(key).substr(a + 1, b - a - 1), s, "Slurm job id");
  const std::uint32_t step = parse_u32(std::string_view(key).substr(b + 1, c - b - 1), s, "step id");
  if (step != s.usage.step) tampered(s, "its record key names step " + std::to_string(step) + ", the row step " +
                                            std::to_string(s.usage.step));
  if (key.substr(c + 1) != s.usage.node) tampered(s, "its record key names another node than the row");
}

// The stored row must be exactly what its event in the Merkle log says.
void check_against_event(Storage& storage, const StoredUsage& s) {
  const auto rows = storage.read_events(s.event, s.event + 1);
  if (rows.size() != 1) tampered(s, "its event is not in the log");
  if (merkle::leaf_hash(as_bytes(rows[0].body)) != rows[0].leaf_hash) tampered(s, "its event body does not match its leaf hash");
  const Event e = decode_event(rows[0].body, s.event);
  const auto* u = std::get_if<UsageEvent>(&e.body);
  if (!u) tampered(s, "its event is not a usage event");
  if (!(u->usage == s.usage)) tampered(s, "the row differs from its usage event");
}

}  // namespace

std::vector<JobUsageRecord> job_usage(Ledger& ledger, const JobUsageQuery& query) {
  if (query.job.empty()) throw Error(Error::Kind::BadInput, "job usage: no job id given");
  Storage& storage = ledger.storage();
  ReadSnapshot snap(storage);
  std::vector<JobUsageRecord> out;
  // Only the job's rows, through the storage's (job, event) index: O(the job's records), not
  // O(every usage event in the ledger).
  for (const StoredUsage& s : storage.usage_of_job(query.job)) {
    if (s.usage.job != query.job) tampered(s, "the storage returned it for job " + query.job);
    JobUsageRecord r;
    split_key(s, r);
    if (query.slurm_job_id && r.slurm_job_id != *query.slurm_job_id) continue;
    if (out.size() >= kMaxJobUsageRecords)
      throw Error(Error::Kind::Refused, "job usage: job " + query.job + " has more than " +
                                            std::to_string(kMaxJobUsageRecords) + " usage records");
    check_against_event(storage, s);
    r.event = s.event;
    r.record = s.usage.record;
    r.step = s.usage.step;
    r.node = s.usage.node;
    r.account = s.usage.account;
    r.cpu_ms = s.usage.cpu_ms;
    r.gpu_ms = s.usage.gpu_ms;
    r.gpu_model = s.usage.gpu_model;
    r.start_ms = s.usage.start_ms;
    r.end_ms = s.usage.end_ms;
    r.signer = s.usage.signer;
    if (query.keyring) {
      const auto it = query.keyring->nodes.find(r.signer);
      r.signer_registered = it != query.keyring->nodes.end() && it->second == r.node;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::uint64_t allocation_device_ms(const std::vector<JobUsageRecord>& records, bool gpu) {
  struct PerNode {
    std::optional<std::uint64_t> allocation;
    std::uint64_t steps = 0;
  };
  std::map<std::pair<std::uint32_t, std::string>, PerNode> nodes;
  const auto add = [](std::uint64_t a, std::uint64_t b) {
    if (b > kMaxAmount - a) throw Error(Error::Kind::Refused, "job usage: device-milliseconds overflow");
    return a + b;
  };
  for (const JobUsageRecord& r : records) {
    if (!r.signer_registered || r.step == kExternStepId) continue;
    const std::uint64_t ms = gpu ? r.gpu_ms : r.cpu_ms;
    PerNode& n = nodes[{r.slurm_job_id, r.node}];
    if (r.allocation()) n.allocation = add(n.allocation.value_or(0), ms);
    else n.steps = add(n.steps, ms);
  }
  std::uint64_t total = 0;
  for (const auto& [key, n] : nodes) total = add(total, n.allocation ? *n.allocation : n.steps);
  return total;
}

}  // namespace rfarm::ledger
