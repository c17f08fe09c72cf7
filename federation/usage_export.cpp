#include "federation/usage_export.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <map>
#include <tuple>

#include "core/error.h"
#include "core/hash.h"
#include "core/merkle.h"
#include "core/usage_record.h"
#include "ledger/event.h"
#include "ledger/storage.h"

namespace rfarm::federation {

namespace {

[[noreturn]] void tampered(const ledger::StoredUsage& s, const std::string& what) {
  throw Error(Error::Kind::Integrity, "usage row " + s.usage.record + " (event #" + std::to_string(s.event) + "): " + what +
                                          " (the ledger database was changed outside rfarm: run rfarm ledger audit)");
}

// The row must be exactly what its event in the Merkle log says: the export reports what the log
// proves, and each exported job lists its events so a reader can ask for inclusion proofs.
void check_against_event(ledger::Storage& storage, const ledger::StoredUsage& s) {
  const auto rows = storage.read_events(s.event, s.event + 1);
  if (rows.size() != 1) tampered(s, "its event is not in the log");
  if (merkle::leaf_hash(as_bytes(rows[0].body)) != rows[0].leaf_hash) tampered(s, "its event does not match its leaf hash");
  const ledger::Event e = ledger::decode_event(rows[0].body, s.event);
  const auto* u = std::get_if<ledger::UsageEvent>(&e.body);
  if (u == nullptr || !(u->usage == s.usage)) tampered(s, "the row differs from its usage event");
}

// cluster/job/step/node (core/usage_record.h); the cluster has no '/', the node is last.
std::pair<std::string, std::uint32_t> cluster_and_job(const ledger::StoredUsage& s) {
  const std::string& key = s.usage.record;
  const auto a = key.find('/');
  const auto b = a == std::string::npos ? a : key.find('/', a + 1);
  if (b == std::string::npos) tampered(s, "its record key is not cluster/job/step/node");
  std::uint32_t id = 0;
  const auto [end, ec] = std::from_chars(key.data() + a + 1, key.data() + b, id);
  if (ec != std::errc() || end != key.data() + b) tampered(s, "its record key has no valid Slurm job id");
  return {key.substr(0, a), id};
}

struct NodeRecords {
  const ledger::StoredUsage* batch = nullptr;
  std::vector<const ledger::StoredUsage*> steps;
};

// CPUs of one record: its core-milliseconds over its duration, rounded to the nearest CPU.
std::uint32_t cpus_of(const ledger::MeteredUsage& u) {
  const std::uint64_t d = u.end_ms > u.start_ms ? u.end_ms - u.start_ms : 0;
  if (d == 0) return 0;
  return static_cast<std::uint32_t>((u.cpu_ms + d / 2) / d);
}

std::uint64_t add_ms(std::uint64_t a, std::uint64_t b) {
  if (b > UINT64_MAX - a) throw Error(Error::Kind::Refused, "usage export: milliseconds overflow");
  return a + b;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::vector<ExportedJob> collect_usage(ledger::Ledger& l, const UsageExportOptions& o) {
  if (o.service_level_type.empty() != o.service_level.empty()) {
    throw_input_error({}, "--service-level", "ServiceLevelType and ServiceLevel must be given together",
                      "give both (e.g. HEPSPEC and 10.5) or neither");
  }
  if (!o.service_level_type.empty()) {
    // The APEL server accepts these benchmark units only (apel/db/records/job.py, _valid_slts).
    std::string t = o.service_level_type;
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (t != "si2k" && t != "hepspec" && t != "hepscore23") {
      throw_input_error({}, "--service-level-type", "\"" + o.service_level_type + "\" is not an APEL benchmark unit",
                        "use HEPSPEC, HEPscore23 or si2k");
    }
    const std::string& v = o.service_level;
    const bool number = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789.") == std::string::npos &&
                        std::count(v.begin(), v.end(), '.') <= 1 && v.front() != '.' && v.back() != '.' &&
                        v.find_first_not_of("0.") != std::string::npos;
    if (!number) {
      throw_input_error({}, "--service-level", "\"" + v + "\" is not a positive decimal number",
                        "give the benchmark score per core, e.g. 10.5");
    }
  }
  if (o.from_ms && o.to_ms && *o.from_ms >= *o.to_ms) {
    throw_input_error({}, "--from/--to", "the window is empty (from is not before to)", "give --from earlier than --to");
  }
  // An unknown account is a typo, not "no usage"; an id given in hex selects that account's name.
  const std::string account = o.account.empty() ? std::string() : l.resolve_account(o.account, "--account").name;

  ledger::Storage& storage = l.storage();
  ledger::ReadSnapshot snap(storage);
  const std::vector<ledger::StoredUsage> rows = storage.list_usage();
  // (cluster, Slurm job, account) -> node -> records
  std::map<std::tuple<std::string, std::uint32_t, std::string>, std::map<std::string, NodeRecords>> jobs;
  for (const ledger::StoredUsage& s : rows) {
    if (!account.empty() && s.usage.account != account) continue;
    if (s.usage.step == kExternStepId) continue;
    check_against_event(storage, s);
    auto [cluster, id] = cluster_and_job(s);
    NodeRecords& n = jobs[{cluster, id, s.usage.account}][s.usage.node];
    if (s.usage.step == kBatchStepId) n.batch = &s;
    else n.steps.push_back(&s);
  }

  std::vector<ExportedJob> out;
  for (const auto& [key, nodes] : jobs) {
    ExportedJob j;
    std::tie(j.cluster, j.slurm_job_id, j.account) = key;
    bool first = true;
    Amount charged;
    bool any_charge = false;
    for (const auto& [node, recs] : nodes) {
      std::vector<const ledger::StoredUsage*> counted;
      if (recs.batch) counted.push_back(recs.batch);
      else counted = recs.steps;
      std::uint32_t node_cpus = 0;
      for (const ledger::StoredUsage* s : counted) {
        const ledger::MeteredUsage& u = s->usage;
        if (first || static_cast<std::int64_t>(u.start_ms) < j.start_ms) j.start_ms = static_cast<std::int64_t>(u.start_ms);
        if (first || static_cast<std::int64_t>(u.end_ms) > j.end_ms) j.end_ms = static_cast<std::int64_t>(u.end_ms);
        first = false;
        j.cpu_ms = add_ms(j.cpu_ms, u.cpu_ms);
        j.gpu_ms = add_ms(j.gpu_ms, u.gpu_ms);
        if (!u.gpu_model.empty()) j.gpu_model = u.gpu_model;
        if (j.job.empty()) j.job = u.job;
        node_cpus = std::max(node_cpus, cpus_of(u));  // steps of one node share its allocation
        j.events.push_back(s->event);
        if (!u.charge.is_zero()) {
          const auto t = l.find_transfer(u.charge);
          if (t) {
            charged = add(charged, t->amount, "usage export charge");
            any_charge = true;
          }
        }
      }
      j.processors += node_cpus;
      j.nodes.push_back(node);
    }
    if (first) continue;  // no counted record
    if (any_charge) j.charge = charged;
    std::sort(j.events.begin(), j.events.end());
    if (o.from_ms && j.end_ms < *o.from_ms) continue;
    if (o.to_ms && j.end_ms >= *o.to_ms) continue;
    out.push_back(std::move(j));
  }
  std::sort(out.begin(), out.end(), [](const ExportedJob& a, const ExportedJob& b) {
    return std::tie(a.end_ms, a.cluster, a.slurm_job_id, a.account) < std::tie(b.end_ms, b.cluster, b.slurm_job_id, b.account);
  });
  return out;
}

std::int64_t parse_export_time(std::string_view t, std::string_view field) {
  auto fail = [&]() -> std::int64_t {
    throw_input_error({}, field, "\"" + std::string(t) + "\" is not a UTC date",
                      "use YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  };
  auto num = [&](std::size_t pos, std::size_t len, int lo, int hi) -> int {
    int v = 0;
    if (pos + len > t.size()) fail();
    const auto [end, ec] = std::from_chars(t.data() + pos, t.data() + pos + len, v);
    if (ec != std::errc() || end != t.data() + pos + len || v < lo || v > hi) fail();
    return v;
  };
  std::tm tm{};
  if (t.size() != 7 && t.size() != 10 && t.size() != 20) fail();
  tm.tm_year = num(0, 4, 1970, 9999) - 1900;
  if (t[4] != '-') fail();
  tm.tm_mon = num(5, 2, 1, 12) - 1;
  tm.tm_mday = 1;
  if (t.size() >= 10) {
    if (t[7] != '-') fail();
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const int max_day = kDays[tm.tm_mon] + (tm.tm_mon == 1 && leap(tm.tm_year + 1900) ? 1 : 0);
    tm.tm_mday = num(8, 2, 1, max_day);
  }
  if (t.size() == 20) {
    if (t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z') fail();
    tm.tm_hour = num(11, 2, 0, 23);
    tm.tm_min = num(14, 2, 0, 59);
    tm.tm_sec = num(17, 2, 0, 59);
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}

std::string iso8601_utc(std::int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace rfarm::federation
