// APEL messages and OGF Usage Record XML from collected usage (usage_export.h).
//
// What this follows (field names, order, formats):
//  - APEL individual job message v0.3 and summary message v0.2: the field lists of the APEL
//    server's own record classes, github.com/apel/apel apel/db/records/job.py (JobRecord:
//    mandatory Site, LocalJobId, WallDuration, CpuDuration, StartTime, EndTime; message order
//    Site, SubmitHost, MachineName, Queue, LocalJobId, LocalUserId, GlobalUserName, FQAN, VO,
//    VOGroup, VORole, WallDuration, CpuDuration, Processors, NodeCount, StartTime, EndTime,
//    InfrastructureDescription, InfrastructureType, MemoryReal, MemoryVirtual, ServiceLevelType,
//    ServiceLevel) and summary.py (SummaryRecord: Site, Month, Year, GlobalUserName, VO, VOGroup,
//    VORole, SubmitHost, InfrastructureType, ServiceLevelType, ServiceLevel, NodeCount, Processors,
//    EarliestEndTime, LatestEndTime, WallDuration, CpuDuration, NumberOfJobs). Durations are whole
//    seconds, times are Unix seconds, a message is a header line, then "Key: value" lines, each
//    record closed by a "%%" line (as in APEL's test messages and its published examples).
//  - OGF Usage Record Format, GFD.98, namespace http://schema.ogf.org/urf/2003/09/urf: element
//    order of UsageRecordType (RecordIdentity, JobIdentity, UserIdentity, JobName, Charge, Status,
//    then the resource elements) as in the schema-derived classes of Apache Taverna Server
//    (usagerecord/xml/urf/UsageRecordType.java); <UsageRecords> as the container of several
//    records as NorduGrid ARC's JURA publishes them; durations as xs:duration ("PT3600.5S"),
//    times as xs:dateTime in UTC; CpuDuration without usageType means user + system.
#include <cstdio>
#include <map>
#include <tuple>

#include "core/error.h"
#include "federation/usage_export.h"

namespace rfarm::federation {

namespace {

// Whole seconds, rounded half up: the summaries add these same rounded values.
std::uint64_t seconds(std::uint64_t ms) { return ms / 1000 + (ms % 1000 >= 500 ? 1 : 0); }
std::int64_t unix_seconds(std::int64_t ms) { return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; }

// A value on one APEL line: no newline (it would start a new field) and not empty.
const std::string& apel_value(const std::string& v, const char* field) {
  if (v.empty() || v.find_first_of("\r\n") != std::string::npos) {
    throw Error(Error::Kind::BadInput, std::string("APEL field ") + field + " would be empty or span lines: \"" + v + "\"");
  }
  return v;
}

void line(std::string& out, const char* key, const std::string& value) {
  out += key;
  out += ": ";
  out += apel_value(value, key);
  out += '\n';
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// xs:duration of milliseconds: "PT12S", "PT12.5S", "PT0.042S".
std::string xs_duration(std::uint64_t ms) {
  std::string s = "PT" + std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03u", static_cast<unsigned>(ms % 1000));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    s += f;
  }
  return s + "S";
}

const std::string& site_of(const ExportedJob& j, const UsageExportOptions& o) { return o.site.empty() ? j.cluster : o.site; }
const std::string& host_of(const ExportedJob& j, const UsageExportOptions& o) {
  return o.submit_host.empty() ? j.cluster : o.submit_host;
}

constexpr const char* kInfrastructureDescription = "APEL-rfarm-SLURM";
constexpr const char* kInfrastructureType = "local";

}  // namespace

std::string format_apel_jobs(const std::vector<ExportedJob>& jobs, const UsageExportOptions& o) {
  std::string out = "APEL-individual-job-message: v0.3\n";
  for (const ExportedJob& j : jobs) {
    line(out, "Site", site_of(j, o));
    line(out, "SubmitHost", host_of(j, o));
    line(out, "MachineName", j.cluster);
    line(out, "LocalJobId", std::to_string(j.slurm_job_id));
    line(out, "VO", j.account);
    line(out, "WallDuration", std::to_string(seconds(j.wall_ms())));
    line(out, "CpuDuration", std::to_string(seconds(j.cpu_ms)));
    line(out, "Processors", std::to_string(j.processors));
    line(out, "NodeCount", std::to_string(j.nodes.size()));
    line(out, "StartTime", std::to_string(unix_seconds(j.start_ms)));
    line(out, "EndTime", std::to_string(unix_seconds(j.end_ms)));
    line(out, "InfrastructureDescription", kInfrastructureDescription);
    line(out, "InfrastructureType", kInfrastructureType);
    if (!o.service_level_type.empty()) {
      line(out, "ServiceLevelType", o.service_level_type);
      line(out, "ServiceLevel", o.service_level);
    }
    out += "%%\n";
  }
  return out;
}

std::string format_apel_summaries(const std::vector<ExportedJob>& jobs, const UsageExportOptions& o) {
  struct Sum {
    std::int64_t earliest = 0, latest = 0;
    std::uint64_t wall = 0, cpu = 0, count = 0;
    std::string submit_host;
  };
  // (year, month, site, VO, NodeCount, Processors): APEL's summariser groups by these among others.
  std::map<std::tuple<int, int, std::string, std::string, std::size_t, std::uint32_t>, Sum> groups;
  for (const ExportedJob& j : jobs) {
    const std::string end = iso8601_utc(j.end_ms);  // YYYY-MM-...
    const int year = std::stoi(end.substr(0, 4));
    const int month = std::stoi(end.substr(5, 2));
    Sum& s = groups[{year, month, site_of(j, o), j.account, j.nodes.size(), j.processors}];
    const std::int64_t e = unix_seconds(j.end_ms);
    if (s.count == 0 || e < s.earliest) s.earliest = e;
    if (s.count == 0 || e > s.latest) s.latest = e;
    s.wall += seconds(j.wall_ms());
    s.cpu += seconds(j.cpu_ms);
    s.count += 1;
    s.submit_host = host_of(j, o);
  }
  std::string out = "APEL-summary-job-message: v0.2\n";
  for (const auto& [key, s] : groups) {
    const auto& [year, month, site, vo, nodes, processors] = key;
    line(out, "Site", site);
    line(out, "Month", std::to_string(month));
    line(out, "Year", std::to_string(year));
    line(out, "VO", vo);
    line(out, "SubmitHost", s.submit_host);
    line(out, "InfrastructureType", kInfrastructureType);
    if (!o.service_level_type.empty()) {
      line(out, "ServiceLevelType", o.service_level_type);
      line(out, "ServiceLevel", o.service_level);
    }
    line(out, "NodeCount", std::to_string(nodes));
    line(out, "Processors", std::to_string(processors));
    line(out, "EarliestEndTime", std::to_string(s.earliest));
    line(out, "LatestEndTime", std::to_string(s.latest));
    line(out, "WallDuration", std::to_string(s.wall));
    line(out, "CpuDuration", std::to_string(s.cpu));
    line(out, "NumberOfJobs", std::to_string(s.count));
    out += "%%\n";
  }
  return out;
}

std::string format_usage_records(const std::vector<ExportedJob>& jobs, const UsageExportOptions& o, int decimals) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<urf:UsageRecords xmlns:urf=\"http://schema.ogf.org/urf/2003/09/urf\">\n";
  const std::string created = iso8601_utc(o.create_time_ms);
  for (const ExportedJob& j : jobs) {
    const std::string id = j.cluster + "/" + std::to_string(j.slurm_job_id);
    out += " <urf:JobUsageRecord>\n";
    out += "  <urf:RecordIdentity urf:recordId=\"rfarm:" + xml_escape(id + "/" + j.account) + "\" urf:createTime=\"" +
           created + "\"/>\n";
    out += "  <urf:JobIdentity><urf:GlobalJobId>" + xml_escape(id) + "</urf:GlobalJobId><urf:LocalJobId>" +
           std::to_string(j.slurm_job_id) + "</urf:LocalJobId></urf:JobIdentity>\n";
    out += "  <urf:JobName>" + xml_escape(j.job) + "</urf:JobName>\n";
    if (j.charge) {
      out += "  <urf:Charge urf:unit=\"" + xml_escape(o.token_symbol) +
             "\" urf:description=\"posted ledger charges\">" + format_amount(*j.charge, decimals) + "</urf:Charge>\n";
    }
    // The ledger keeps no exit status: a metered record means the step ran to its end.
    out += "  <urf:Status>completed</urf:Status>\n";
    out += "  <urf:WallDuration>" + xs_duration(j.wall_ms()) + "</urf:WallDuration>\n";
    out += "  <urf:CpuDuration urf:description=\"allocated core-time\">" + xs_duration(j.cpu_ms) + "</urf:CpuDuration>\n";
    out += "  <urf:NodeCount>" + std::to_string(j.nodes.size()) + "</urf:NodeCount>\n";
    out += "  <urf:Processors>" + std::to_string(j.processors) + "</urf:Processors>\n";
    out += "  <urf:EndTime>" + iso8601_utc(j.end_ms) + "</urf:EndTime>\n";
    out += "  <urf:StartTime>" + iso8601_utc(j.start_ms) + "</urf:StartTime>\n";
    out += "  <urf:MachineName>" + xml_escape(j.cluster) + "</urf:MachineName>\n";
    out += "  <urf:SubmitHost>" + xml_escape(host_of(j, o)) + "</urf:SubmitHost>\n";
    out += "  <urf:ProjectName>" + xml_escape(j.account) + "</urf:ProjectName>\n";
    for (std::size_t i = 0; i < j.nodes.size(); ++i) {
      out += std::string("  <urf:Host urf:primary=\"") + (i == 0 ? "true" : "false") + "\">" + xml_escape(j.nodes[i]) +
             "</urf:Host>\n";
    }
    if (j.gpu_ms > 0) {
      out += "  <urf:ConsumableResource urf:description=\"gpu-time:" + xml_escape(j.gpu_model) +
             "\" urf:units=\"s\">" + xs_duration(j.gpu_ms).substr(2, xs_duration(j.gpu_ms).size() - 3) +
             "</urf:ConsumableResource>\n";
    }
    out += " </urf:JobUsageRecord>\n";
  }
  out += "</urf:UsageRecords>\n";
  return out;
}

}  // namespace rfarm::federation
