#include "scheduler/detail/request_json.h"

#include "core/error.h"

namespace rfarm::scheduler::detail {

nlohmann::json request_to_json(const JobRequest& r) {
  nlohmann::json j = {
      {"scene", r.scene},         {"frames", r.frames},       {"chunk_size", r.chunk_size},
      {"width", r.width},         {"height", r.height},       {"spp", r.spp},
      {"max_depth", r.max_depth}, {"tile_size", r.tile_size}, {"output", r.output},
      {"verify_rate_ppm", r.verify_rate_ppm},
      {"account", r.account},     {"partition", r.partition}, {"qos", r.qos},
      {"job_name", r.job_name},   {"gres", r.gres},           {"time", r.time_limit},
      {"mem", r.mem},             {"dependency", r.dependency}, {"nodes", r.nodes},
      {"ntasks", r.ntasks},       {"cpus_per_task", r.cpus_per_task}, {"gpus_per_task", r.gpus_per_task},
      {"gpu_model", r.gpu_model},
  };
  j["max_cost"] = r.max_cost ? nlohmann::json(r.max_cost->units) : nlohmann::json(nullptr);
  j["nice"] = r.nice ? nlohmann::json(*r.nice) : nlohmann::json(nullptr);
  if (!r.origin.empty()) j["origin"] = r.origin;  // only peer jobs: older stores have no such key
  return j;
}

JobRequest request_from_json(const nlohmann::json& j) {
  try {
    JobRequest r;
    r.scene = j.at("scene").get<std::string>();
    r.frames = j.at("frames").get<std::string>();
    r.chunk_size = j.at("chunk_size").get<std::uint32_t>();
    r.width = j.at("width").get<std::uint32_t>();
    r.height = j.at("height").get<std::uint32_t>();
    r.spp = j.at("spp").get<std::uint32_t>();
    r.max_depth = j.at("max_depth").get<std::uint32_t>();
    r.tile_size = j.at("tile_size").get<std::uint32_t>();
    r.output = j.at("output").get<std::string>();
    r.verify_rate_ppm = j.at("verify_rate_ppm").get<std::uint32_t>();
    r.account = j.at("account").get<std::string>();
    r.partition = j.at("partition").get<std::string>();
    r.qos = j.at("qos").get<std::string>();
    r.job_name = j.at("job_name").get<std::string>();
    r.gres = j.at("gres").get<std::string>();
    r.time_limit = j.at("time").get<std::string>();
    r.mem = j.at("mem").get<std::string>();
    r.dependency = j.at("dependency").get<std::string>();
    r.nodes = j.at("nodes").get<std::uint32_t>();
    r.ntasks = j.at("ntasks").get<std::uint32_t>();
    r.cpus_per_task = j.at("cpus_per_task").get<std::uint32_t>();
    r.gpus_per_task = j.at("gpus_per_task").get<std::uint32_t>();
    r.gpu_model = j.at("gpu_model").get<std::string>();
    if (!j.at("max_cost").is_null()) r.max_cost = Amount(j.at("max_cost").get<std::uint64_t>());
    if (!j.at("nice").is_null()) r.nice = j.at("nice").get<int>();
    r.origin = j.value("origin", "");
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw Error(Error::Kind::Integrity, std::string("job store: a stored request does not parse: ") + e.what());
  }
}

}  // namespace rfarm::scheduler::detail
