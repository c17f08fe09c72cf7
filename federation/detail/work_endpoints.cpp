#include "federation/detail/work_endpoints.h"

#include "core/error.h"
#include "core/hash.h"
#include "core/ids.h"
#include "federation/detail/base64.h"
#include "federation/limits.h"
#include "federation/scene_bundle.h"
#include "federation/signed_quote.h"
#include "federation/work_service.h"

namespace rfarm::federation::detail {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

std::optional<Reply> no_query(const Query& q) {
  if (!q.empty()) return refuse(400, "unknown query parameter '" + q.begin()->first.substr(0, 40) + "'");
  return std::nullopt;
}

// The job fields a peer may set; everything else (account, output, Slurm flags) is this cluster's.
std::optional<Reply> read_job(const json& j, scheduler::JobRequest* r) {
  if (!j.is_object()) return refuse(400, "job: must be an object");
  for (const auto& [k, v] : j.items()) {
    if (k == "frames") {
      if (!v.is_string()) return refuse(400, "job.frames: must be a string in Slurm array syntax");
      r->frames = v.get<std::string>();
      continue;
    }
    std::uint32_t* field = k == "width" ? &r->width : k == "height" ? &r->height : k == "spp" ? &r->spp
                         : k == "max_depth" ? &r->max_depth : k == "tile_size" ? &r->tile_size
                         : k == "chunk_size" ? &r->chunk_size : nullptr;
    if (!field) return refuse(400, "job: unknown field '" + k.substr(0, 40) + "'");
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() > 1'000'000) return refuse(400, "job." + k + ": must be a whole number");
    *field = v.get<std::uint32_t>();
  }
  return std::nullopt;
}

// The quoted prices replace this cluster's current ones for the job: the signed quote holds them.
config::PricesConfig quoted_prices(const json& quote, int decimals) {
  config::PricesConfig p;
  p.cpu_core_hour = parse_amount(quote.at("cpu_core_hour").get<std::string>(), decimals, "quote.cpu_core_hour");
  for (const auto& [model, price] : quote.at("gpu_hour").items())
    p.gpu_hour[model] = parse_amount(price.get<std::string>(), decimals, "quote.gpu_hour");
  return p;
}

}  // namespace

Reply submit(const EndpointContext& c, const Query& q, const std::string& body) {
  if (auto bad = no_query(q)) return *bad;
  const std::string& us = c.config.federation.name;
  if (!c.peer.may_send) return refuse(403, "peer " + c.peer.name + " may not send work to " + us + " (may_send is false here)");
  if (!c.work) return refuse(503, us + "'s gateway takes no work (started without a job store)");
  const json req = json::parse(body, nullptr, false);
  if (req.is_discarded() || !req.is_object()) return refuse(400, "the body must be a JSON object {quote, job, bundle}");
  for (const auto& [k, v] : req.items())
    if (k != "quote" && k != "job" && k != "bundle") return refuse(400, "unknown field '" + k.substr(0, 40) + "'");
  if (!req.contains("quote") || !req.contains("job") || !req.contains("bundle"))
    return refuse(400, "quote, job and bundle are required");
  std::string why;
  const auto sq = signed_quote_from_json(req["quote"], &why);
  if (!sq) return refuse(400, why);
  const auto quote = check_signed_quote(*sq, c.ledger.public_key(), us, c.peer.name, c.now_ns, &why);
  if (!quote) return refuse(why.find("expired") != std::string::npos ? 410 : 403, why);
  scheduler::JobRequest request;
  if (auto bad = read_job(req["job"], &request)) return *bad;
  const json& b = req["bundle"];
  if (!b.is_object() || !b.contains("sha256") || !b["sha256"].is_string() || !b.contains("text") || !b["text"].is_string())
    return refuse(400, "bundle: {sha256, text} (strings) required");
  const std::string& text = b["text"].get_ref<const std::string&>();
  if (text.size() > kMaxBundleBytes)
    return refuse(413, "bundle: " + std::to_string(text.size()) + " bytes, over the limit of " + std::to_string(kMaxBundleBytes));
  // Content-addressed and unique per order: <state>/federation/<peer>/<sha256>-<random>.
  const fs::path dir = c.work->state_dir() / "federation" / c.peer.name /
                       (b["sha256"].get<std::string>().substr(0, 64) + "-" + Id128::random().hex());
  try {
    request.scene = unpack_scene_bundle(text, b["sha256"].get<std::string>(), dir / "scene").string();
    const scheduler::JobRecord job = c.work->submit(c.peer, request, dir, quoted_prices(*quote, c.config.token.decimals));
    return {200, {{"job", job.id}, {"quote_id", (*quote)["quote_id"]}, {"account", job.request.account},
                  {"hold", job.quote.total.units}, {"frames", job.frame_count}}};
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return refuse(e.kind() == Error::Kind::Refused ? 402 : e.kind() == Error::Kind::BadInput ? 400 : 503, e.what());
  }
}

Reply job_status(const EndpointContext& c, const Query& q, std::int64_t job) {
  if (auto bad = no_query(q)) return *bad;
  if (!c.work) return refuse(503, "this gateway takes no work");
  const auto s = c.work->status(c.peer, job);
  if (!s) return refuse(404, "no job " + std::to_string(job) + " of peer " + c.peer.name + " here");
  return {200, *s};
}

Reply job_outputs(const EndpointContext& c, const Query& q, std::int64_t job) {
  if (auto bad = no_query(q)) return *bad;
  if (!c.work) return refuse(503, "this gateway takes no work");
  const auto s = c.work->outputs(c.peer, job);
  if (!s) return refuse(404, "no job " + std::to_string(job) + " of peer " + c.peer.name + " here");
  return {200, *s};
}

Reply job_output_file(const EndpointContext& c, const Query& q, std::int64_t job, std::int64_t frame) {
  if (auto bad = no_query(q)) return *bad;
  if (!c.work) return refuse(503, "this gateway takes no work");
  const auto data = c.work->output_file(c.peer, job, frame);
  if (!data) return refuse(404, "no rendered frame " + std::to_string(frame) + " of job " + std::to_string(job) + " of peer " + c.peer.name);
  return {200, {{"job", job}, {"frame", frame}, {"sha256", sha256(*data).hex()}, {"data", base64_encode(*data)}}};
}

}  // namespace rfarm::federation::detail
