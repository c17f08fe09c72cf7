#include "federation/detail/work_endpoints.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/hash.h"
#include "core/ids.h"
#include "federation/limits.h"
#include "federation/scene_bundle.h"
#include "federation/signed_quote.h"
#include "federation/work_service.h"
#include "ledger/proof.h"
#include "scheduler/ledger_escrow.h"
#include "scheduler/submit.h"

namespace rfarm::federation::detail {

namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kStatusVersionChars = 16;

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

std::optional<Reply> read_ref(const json& r, const std::string& peer, std::string* origin) {
  const auto hex32 = [](const json& v) {
    if (!v.is_string() || v.get_ref<const std::string&>().size() != 32) return false;
    for (const char ch : v.get_ref<const std::string&>())
      if (!std::isxdigit(static_cast<unsigned char>(ch)) || std::isupper(static_cast<unsigned char>(ch))) return false;
    return true;
  };
  if (!r.is_object() || r.size() != 1 || !r.contains("hold") || !hex32(r["hold"]))
    return refuse(400, "ref: must be {\"hold\": <the caller's hold transfer id, 32 lowercase hex>}");
  // At most 4 + 64 + 1 + 32 bytes: fits a transfer's user_data.usage (128).
  *origin = "fed:" + peer + ":" + r["hold"].get<std::string>();
  return std::nullopt;
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
    if (k != "quote" && k != "job" && k != "bundle" && k != "ref") return refuse(400, "unknown field '" + k.substr(0, 40) + "'");
  if (!req.contains("quote") || !req.contains("job") || !req.contains("bundle"))
    return refuse(400, "quote, job and bundle are required");
  std::string why;
  const auto sq = signed_quote_from_json(req["quote"], &why);
  if (!sq) return refuse(400, why);
  const auto quote = check_signed_quote(*sq, c.ledger.public_key(), us, c.peer.name, c.now_ns, &why);
  if (!quote) return refuse(why.find("expired") != std::string::npos ? 410 : 403, why);
  scheduler::JobRequest request;
  if (auto bad = read_job(req["job"], &request)) return *bad;
  if (req.contains("ref")) {
    // The caller's own record of this order (its user's hold, whose user data names its job): kept with the job
    // and written on our settlement transfers, so each ledger names the other's records.
    if (auto bad = read_ref(req["ref"], c.peer.name, &request.origin)) return *bad;
  }
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
    const scheduler::JobRecord job = c.work->submit(c.peer, request, dir, quoted_prices(*quote, c.config.token.decimals) /* the signed quote holds them */,
                       peer_exposure(c.ledger, c.peer) /* under the ledger lock: no other order holds meanwhile */);
    return {200, {{"job", job.id}, {"quote_id", (*quote)["quote_id"]}, {"account", job.request.account},
                  {"hold", job.quote.total.units}, {"frames", job.frame_count}}};
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return refuse(e.kind() == Error::Kind::Refused ? 402 : e.kind() == Error::Kind::BadInput ? 400 : 503, e.what());
  }
}

std::variant<LongPoll, Reply> read_long_poll(const Query& q) {
  LongPoll p;
  for (const auto& [k, v] : q) {
    if (k == "wait") {
      if (v.empty() || v.size() > 2 || !std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; }) ||
          std::stoi(v) < 1 || std::stoi(v) > kMaxLongPollSeconds)
        return refuse(400, "wait: give whole seconds from 1 to " + std::to_string(kMaxLongPollSeconds));
      p.seconds = std::stoi(v);
    } else if (k == "since") {
      if (v.size() != kStatusVersionChars || !std::all_of(v.begin(), v.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); }))
        return refuse(400, "since: give the \"version\" of the status you hold (" + std::to_string(kStatusVersionChars) + " hex digits)");
      p.since = v;
    } else {
      return refuse(400, "unknown query parameter '" + k.substr(0, 40) + "'");
    }
  }
  if ((p.seconds == 0) != p.since.empty()) return refuse(400, "a long poll needs both wait and since");
  return p;
}

Reply job_status(const EndpointContext& c, const Query& q, std::int64_t job) {
  if (auto poll = read_long_poll(q); std::holds_alternative<Reply>(poll)) return std::get<Reply>(poll);
  if (!c.work) return refuse(503, "this gateway takes no work");
  auto s = c.work->status(c.peer, job);
  if (!s) return refuse(404, "no job " + std::to_string(job) + " of peer " + c.peer.name + " here");
  // 64 bits of SHA-256 over the status: a caller holding this version has seen all of it.
  (*s)["version"] = sha256(s->dump()).hex().substr(0, kStatusVersionChars);
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
  // The bytes themselves; the response signature covers them, and the outputs list (also signed)
  // names their SHA-256 and tile root.
  return Reply::bytes(std::move(*data));
}

Reply job_cancel(const EndpointContext& c, const Query& q, std::int64_t job) {
  if (auto bad = no_query(q)) return *bad;
  if (!c.work) return refuse(503, "this gateway takes no work");
  try {
    const auto s = c.work->cancel(c.peer, job);
    if (!s) return refuse(404, "no job " + std::to_string(job) + " of peer " + c.peer.name + " here");
    return {200, *s};
  } catch (const Error& e) {
    return refuse(e.kind() == Error::Kind::Refused ? 409 : 503, e.what());
  }
}

Reply job_charge(const EndpointContext& c, const Query& q, std::int64_t id) {
  for (const auto& [k, v] : q)
    if (k != "size") return refuse(400, "unknown query parameter '" + k.substr(0, 40) + "'");
  if (!c.work) return refuse(503, "this gateway takes no work");
  // A Slurm-backed job settles when its usage records are in: asking for the charge drives that
  // as asking for the status does (a requester that has its frames asks only this from then on).
  c.work->refresh(c.peer, id);
  const auto j = c.work->job(c.peer, id);
  if (!j) return refuse(404, "no job " + std::to_string(id) + " of peer " + c.peer.name + " here");
  if (j->hold || !scheduler::is_finished(*j))
    return refuse(409, "job " + std::to_string(id) + " is not settled yet (" + std::string(scheduler::to_string(j->state)) +
                           "): ask again later");
  json out = {{"job", id}, {"uid", j->uid.hex()}, {"state", std::string(scheduler::to_string(j->state))},
              {"origin", j->request.origin}, {"cost_units", j->cost.units}};
  if (j->cost.units == 0) {
    out["charged"] = false;  // the hold was voided: nothing to prove, nothing owed
    return {200, out};
  }
  const auto t = c.ledger.find_transfer(scheduler::charge_transfer_id(j->uid));
  if (!t || t->amount != j->cost || t->user_data.job != j->uid.hex())
    return refuse(500, "job " + std::to_string(id) + " is settled but its charge transfer is not in the ledger as recorded");
  std::uint64_t size = 0;
  if (const auto it = q.find("size"); it != q.end()) {
    const std::string& text = it->second;
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
      return refuse(400, "size: must be a tree size (a whole number)");
    size = std::stoull(text);
    if (!c.ledger.head_at(size)) return refuse(404, "size: no head of size " + text + " was signed here");
  } else {
    const auto h = c.ledger.head();
    if (!h) return refuse(503, "this cluster's ledger has no signed head yet");
    size = h->size;
  }
  if (t->event >= size)
    return refuse(409, "the charge is event #" + std::to_string(t->event) + ", not inside the head of size " +
                           std::to_string(size) + ": sync this cluster's head and ask again");
  out["charged"] = true;
  out["transfer_id"] = t->id.hex();
  out["amount_units"] = t->amount.units;
  out["timestamp_ns"] = t->timestamp;
  out["event"] = t->event;
  out["proof"] = ledger::to_json(c.ledger.prove_inclusion(t->event, size));
  return {200, out};
}

}  // namespace rfarm::federation::detail
