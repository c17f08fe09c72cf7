#include "core/usage_record.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rfarm {
namespace {

using nlohmann::json;

json to_json(const UsageRecord& r) {
  // nlohmann::json objects are std::map-backed: keys come out sorted, which is what makes the
  // compact dump canonical.
  return json{{"cluster", r.cluster},       {"node", r.node},
              {"job_id", r.job_id},         {"step_id", r.step_id},
              {"array_job_id", r.array_job_id}, {"array_task_id", r.array_task_id},
              {"uid", r.uid},               {"account", r.account},
              {"rfarm_job", r.rfarm_job},   {"cpus", r.cpus},
              {"gpus", r.gpus},             {"gpu_model", r.gpu_model},
              {"start_ms", r.start_ms},     {"end_ms", r.end_ms},
              {"exit_status", r.exit_status}, {"batch_job", r.batch_job}};
}

[[noreturn]] void bad(std::string_view what) {
  throw Error(Error::Kind::Integrity, "usage record: " + std::string(what));
}

const json& field(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) bad(std::string("missing field '") + name + "'");
  return *it;
}

std::string get_string(const json& obj, const char* name) {
  const json& v = field(obj, name);
  if (!v.is_string()) bad(std::string("field '") + name + "' is not a string");
  return v.get<std::string>();
}

template <typename Int>
Int get_int(const json& obj, const char* name) {
  const json& v = field(obj, name);
  if (!v.is_number_integer()) bad(std::string("field '") + name + "' is not an integer");
  if constexpr (std::is_unsigned_v<Int>) {
    if (v.is_number_unsigned()) {
      auto u = v.get<std::uint64_t>();
      if (u > std::numeric_limits<Int>::max()) bad(std::string("field '") + name + "' is out of range");
      return static_cast<Int>(u);
    }
    auto s = v.get<std::int64_t>();
    if (s < 0 || static_cast<std::uint64_t>(s) > std::numeric_limits<Int>::max()) {
      bad(std::string("field '") + name + "' is out of range");
    }
    return static_cast<Int>(s);
  } else {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<Int>::max())) {
      bad(std::string("field '") + name + "' is out of range");
    }
    auto s = v.get<std::int64_t>();
    if (s < std::numeric_limits<Int>::min() || s > std::numeric_limits<Int>::max()) {
      bad(std::string("field '") + name + "' is out of range");
    }
    return static_cast<Int>(s);
  }
}

}  // namespace

std::string UsageRecord::key() const {
  return cluster + "/" + std::to_string(job_id) + "/" + std::to_string(step_id) + "/" + node;
}

std::string canonical_record_json(const UsageRecord& record) { return to_json(record).dump(); }

std::string encode_usage_line(const UsageRecord& record, const SigningKey& node_key) {
  const std::string body = canonical_record_json(record);
  json line{{"v", kUsageRecordVersion},
            {"node_key", node_key.public_key().hex()},
            {"record", to_json(record)},
            {"sig", node_key.sign(body).hex()}};
  return line.dump();
}

DecodedUsageLine decode_usage_line(std::string_view line) {
  if (line.size() > kMaxUsageRecordBytes) {
    bad("line is " + std::to_string(line.size()) + " bytes, more than the limit of " +
        std::to_string(kMaxUsageRecordBytes));
  }
  json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) bad("not a JSON object");
  if (doc.dump() != line) bad("not in canonical form (the bytes were changed after signing)");
  if (doc.size() != 4) bad("expected exactly the fields node_key, record, sig, v");
  if (get_int<int>(doc, "v") != kUsageRecordVersion) {
    bad("version " + field(doc, "v").dump() + " is not supported (this rfarm reads version " +
        std::to_string(kUsageRecordVersion) + ")");
  }
  auto key = PublicKey::from_hex(get_string(doc, "node_key"));
  if (!key) bad("node_key is not 64 hex characters");
  auto sig = Signature::from_hex(get_string(doc, "sig"));
  if (!sig) bad("sig is not 128 hex characters");
  const json& rec = field(doc, "record");
  if (!rec.is_object()) bad("record is not an object");

  DecodedUsageLine out;
  out.node_key = *key;
  UsageRecord& r = out.record;
  r.cluster = get_string(rec, "cluster");
  r.node = get_string(rec, "node");
  r.job_id = get_int<std::uint32_t>(rec, "job_id");
  r.step_id = get_int<std::uint32_t>(rec, "step_id");
  r.array_job_id = get_int<std::uint32_t>(rec, "array_job_id");
  r.array_task_id = get_int<std::uint32_t>(rec, "array_task_id");
  r.uid = get_int<std::uint32_t>(rec, "uid");
  r.account = get_string(rec, "account");
  r.rfarm_job = get_string(rec, "rfarm_job");
  r.cpus = get_int<std::uint32_t>(rec, "cpus");
  r.gpus = get_int<std::uint32_t>(rec, "gpus");
  r.gpu_model = get_string(rec, "gpu_model");
  r.start_ms = get_int<std::int64_t>(rec, "start_ms");
  r.end_ms = get_int<std::int64_t>(rec, "end_ms");
  r.exit_status = get_int<std::int32_t>(rec, "exit_status");
  const json& batch = field(rec, "batch_job");
  if (!batch.is_boolean()) bad("field 'batch_job' is not true or false");
  r.batch_job = batch.get<bool>();
  if (rec.size() != to_json(r).size()) bad("record has fields this version does not define");
  if (r.end_ms < r.start_ms) bad("end_ms is before start_ms");
  if (!verify(*key, rec.dump(), *sig)) bad("signature does not match the record and node_key");
  return out;
}

}  // namespace rfarm
