#include "scheduler/report.h"

#include <cstdio>
#include <optional>

#include "scheduler/charges.h"
#include "scheduler/plan.h"
#include "scheduler/submit.h"

namespace rfarm::scheduler {
using nlohmann::json;

namespace {
std::string tokens(Amount a, const config::Config& c) { return format_tokens(a, c); }
}  // namespace

json quote_json(const Quote& q, const config::Config& c) {
  return {{"device", q.gpu ? "gpu" : "cpu"},
          {"price_key", q.price_key},
          {"price_per_hour", format_amount(q.price_per_hour, c.token.decimals)},
          {"path_segments_per_frame", q.path_segments_per_frame},
          {"render_device_seconds", q.render_device_seconds},
          {"render_cost", format_amount(q.render_cost, c.token.decimals)},
          {"verify_tiles_per_frame", q.verify_tiles_per_frame},
          {"verified_frames", q.verified_frames},
          {"verify_device_seconds", q.verify_device_seconds},
          {"verification_cost", format_amount(q.verification_cost, c.token.decimals)},
          {"total", format_amount(q.total, c.token.decimals)},
          {"total_base_units", q.total.units},
          {"symbol", c.token.symbol}};
}

json plan_json(const JobPlan& p, const config::Config& c) {
  const JobRequest& r = p.request;
  json chunks = json::array();
  for (const auto& ch : p.chunks) chunks.push_back({{"index", ch.index}, {"frames", ch.frame_spec}});
  return {{"scene", r.scene},
          {"name", r.job_name},
          {"account", r.account},
          {"partition", r.partition},
          {"frames", r.frames},
          {"frame_count", p.frames.size()},
          {"chunk_size", r.chunk_size},
          {"chunk_count", p.chunks.size()},
          {"resolution", std::to_string(r.width) + "x" + std::to_string(r.height)},
          {"spp", r.spp},
          {"max_depth", r.max_depth},
          {"tile_size", r.tile_size},
          {"tiles_per_frame", p.tiles_per_frame},
          {"ntasks", r.ntasks},
          {"output", r.output},
          {"verify_rate_ppm", r.verify_rate_ppm},
          {"quote", quote_json(p.quote, c)},
          {"chunks", chunks}};
}

std::string plan_text(const JobPlan& p, const config::Config& c) {
  const JobRequest& r = p.request;
  const Quote& q = p.quote;
  std::string s;
  s += "job:        " + r.job_name + " (account " + (r.account.empty() ? "-" : r.account) +
       (r.partition.empty() ? "" : ", partition " + r.partition) + ")\n";
  s += "scene:      " + r.scene + "\n";
  s += "frames:     " + r.frames + " (" + std::to_string(p.frames.size()) + " frames, " + std::to_string(p.chunks.size()) +
       " chunks of up to " + std::to_string(r.chunk_size) + ", " + std::to_string(r.ntasks) + " rank(s) each)\n";
  s += "image:      " + std::to_string(r.width) + "x" + std::to_string(r.height) + ", " + std::to_string(r.spp) +
       " spp, depth " + std::to_string(r.max_depth) + ", " + std::to_string(p.tiles_per_frame) + " tile(s) of " +
       std::to_string(r.tile_size) + "\n";
  s += "output:     " + r.output + "\n";
  s += "render:     " + std::to_string(q.render_device_seconds) + (q.gpu ? " GPU" : " CPU core") + "-seconds at " +
       tokens(q.price_per_hour, c) + " per " + (q.gpu ? "GPU" : "core") + "-hour (" + q.price_key + ") = " +
       tokens(q.render_cost, c) + "\n";
  s += "verify:     " + std::to_string(q.verified_frames) + " frame(s) x " + std::to_string(q.verify_tiles_per_frame) +
       " tile(s), " + std::to_string(q.verify_device_seconds) + " core-seconds + rewards = " +
       tokens(q.verification_cost, c) + "\n";
  s += "quote:      " + tokens(q.total, c) + " (held at submit; only what is rendered is charged)\n";
  return s;
}

namespace {
Amount shown_cost(const JobStore& store, const JobRecord& j) {
  return j.state == State::Cancelled || !j.hold ? j.cost : job_charges(store, j.id).total;
}

// "verified 24/24", "2 failed, 22 passed", "pending".
std::string verification_text(const JobStore& store, const JobRecord& j) {
  std::size_t pass = 0, fail = 0;
  for (const auto& f : store.frames(j.id)) {
    pass += f.verdict == "pass";
    fail += f.verdict == "fail";
  }
  // A job cancelled before any frame was judged will never be: "not run", not "pending".
  if (j.state == State::Cancelled && j.verify_state == State::Pending && pass + fail == 0) return "not run";
  std::string s(to_string(j.verify_state));
  if (pass + fail > 0) s += " (" + std::to_string(pass) + " pass" + (fail ? ", " + std::to_string(fail) + " fail" : "") + ")";
  return s;
}
// The job whose frames were placed again as job `id` (a re-route or re-queue: JobRecord::rerouted_to).
std::optional<std::int64_t> replaced_job(const JobStore& store, std::int64_t id) {
  for (const JobRecord& k : store.list())
    if (k.rerouted_to == id) return k.id;
  return std::nullopt;
}

}  // namespace

json job_json(const JobStore& store, const JobRecord& j, const config::Config& c) {
  std::size_t pass = 0, fail = 0, committed = 0;
  for (const auto& f : store.frames(j.id)) {
    pass += f.verdict == "pass";
    fail += f.verdict == "fail";
    committed += f.committed;
  }
  json out = {{"job", j.id},
              {"uid", j.uid.hex()},
              {"name", j.request.job_name},
              {"account", j.request.account},
              {"backend", j.backend},
              {"backend_id", j.backend_id},
              {"state", std::string(to_string(j.state))},
              {"verify_state", std::string(to_string(j.verify_state))},
              {"verify_backend_id", j.verify_backend_id},
              {"frames_done", j.frames_done},
              {"frames_total", j.frame_count},
              {"frames_committed", committed},
              {"frames_passed", pass},
              {"frames_failed", fail},
              {"chunks", j.chunk_count},
              {"quote", format_amount(j.quote.total, c.token.decimals)},
              {"cost", format_amount(shown_cost(store, j), c.token.decimals)},
              {"hold", j.hold ? json(j.hold->id.hex()) : json(nullptr)},
              {"symbol", c.token.symbol},
              {"created_at", j.created_at},
              {"updated_at", j.updated_at},
              {"message", j.message},
              // Deferred settlement: "open" (hold held), "awaiting_usage" (finished, waiting for
              // usage records), "settled" (hold closed).
              {"settlement", awaiting_usage(j) ? "awaiting_usage" : j.hold ? "open" : "settled"},
              {"usage_wait_since", j.usage_wait_since}};
  // Frames placed again on another cluster (federation/reroute.h): where to, and where from.
  out["rerouted_to"] = j.rerouted_to > 0 ? json(j.rerouted_to) : json(nullptr);
  const auto replaces = replaced_job(store, j.id);
  out["replaces"] = replaces ? json(*replaces) : json(nullptr);
  return out;
}

json job_detail_json(const JobStore& store, const JobRecord& j, const config::Config& c) {
  json out = job_json(store, j, c);
  const JobCharges charges = job_charges(store, j.id);
  out["usage"] = {{"device_ms", charges.device_ms}, {"sources", charges.usage_sources}, {"capped", charges.capped},
                  {"unmetered_chunks", charges.unmetered},
                  {"render_charge", format_amount(charges.render, c.token.decimals)},
                  {"verification_charge", format_amount(charges.verification, c.token.decimals)}};
  out["request"] = {{"scene", j.request.scene}, {"frames", j.request.frames}, {"chunk_size", j.request.chunk_size},
                    {"resolution", std::to_string(j.request.width) + "x" + std::to_string(j.request.height)},
                    {"spp", j.request.spp}, {"max_depth", j.request.max_depth}, {"output", j.request.output},
                    {"partition", j.request.partition}, {"ntasks", j.request.ntasks}};
  json cs = json::array();
  for (const auto& ch : store.chunks(j.id))
    cs.push_back({{"index", ch.index}, {"frames", ch.frame_spec}, {"state", std::string(to_string(ch.state))},
                  {"attempts", ch.attempts}, {"backend_id", ch.backend_id},
                  {"exit_code", ch.exit_code ? json(*ch.exit_code) : json(nullptr)}, {"device_ms", ch.device_ms},
                  {"usage_source", ch.usage_source.empty() ? std::string("none") : ch.usage_source}, {"note", ch.note}});
  out["chunk_states"] = cs;
  json fs = json::array();
  for (const auto& f : store.frames(j.id)) {
    const auto it = charges.per_frame.find(f.frame);
    const Amount charge = j.hold ? (it == charges.per_frame.end() ? Amount() : it->second) : f.charge;
    fs.push_back({{"frame", f.frame}, {"chunk", f.chunk}, {"state", std::string(to_string(f.state))}, {"output", f.output},
                  {"round", f.round}, {"host", f.host}, {"exr_sha256", f.exr_sha256}, {"tile_root", f.tile_root},
                  {"committed", f.committed}, {"verdict", f.verdict}, {"reason", f.verdict_reason},
                  {"charge", format_amount(charge, c.token.decimals)}, {"note", f.note}});
  }
  out["frame_states"] = fs;
  return out;
}

std::string queue_text(const JobStore& store, const std::vector<JobRecord>& jobs, const config::Config& c) {
  char line[512];
  std::string s;
  std::snprintf(line, sizeof line, "%8s %-20s %-12s %-10s %13s %-22s %14s %-8s\n", "JOBID", "NAME", "ACCOUNT", "STATE",
                "FRAMES", "VERIFY", "COST", "BACKEND");
  s += line;
  for (const auto& j : jobs) {
    const std::string frames = std::to_string(j.frames_done) + "/" + std::to_string(j.frame_count);
    std::snprintf(line, sizeof line, "%8lld %-20.20s %-12.12s %-10s %13s %-22.22s %14s %-8s\n",
                  static_cast<long long>(j.id), j.request.job_name.c_str(), j.request.account.c_str(),
                  awaiting_usage(j) ? "awaiting_usage" : std::string(to_string(j.state)).c_str(), frames.c_str(),
                  verification_text(store, j).c_str(),
                  format_amount(shown_cost(store, j), c.token.decimals).c_str(),
                  (j.backend + (j.backend_id.empty() ? "" : ":" + j.backend_id)).c_str());
    s += line;
  }
  return s;
}

std::string job_text(const JobStore& store, const JobRecord& j, const config::Config& c) {
  const JobCharges charges = job_charges(store, j.id);
  std::string s;
  s += "job " + std::to_string(j.id) + " (" + j.uid.hex() + "): " + j.request.job_name + "\n";
  s += "  account:  " + j.request.account + "\n";
  s += "  state:    " + std::string(to_string(j.state)) + ", verification " + verification_text(store, j) +
       (j.verify_backend_id.empty() ? "" : " (Slurm job " + j.verify_backend_id + ")") + "\n";
  s += "  backend:  " + j.backend + (j.backend_id.empty() ? "" : " (Slurm array " + j.backend_id + ")") + "\n";
  s += "  frames:   " + std::to_string(j.frames_done) + "/" + std::to_string(j.frame_count) + " rendered (" +
       j.request.frames + ", " + std::to_string(j.chunk_count) + " chunks of " + std::to_string(j.request.chunk_size) + ")\n";
  s += "  output:   " + j.request.output + "\n";
  if (j.rerouted_to > 0) s += "  again:    its frames were placed again as job " + std::to_string(j.rerouted_to) + "\n";
  if (const auto k = replaced_job(store, j.id)) s += "  replaces: job " + std::to_string(*k) + " (its frames, placed again here)\n";
  s += "  quote:    " + tokens(j.quote.total, c) + (j.hold ? " (held)" : "") + "\n";
  s += "  usage:    " + std::to_string(charges.device_ms) + (j.quote.gpu ? " GPU" : " CPU core") + "-ms metered, charged from " +
       (charges.usage_sources.empty() ? std::string("-") : charges.usage_sources) + (charges.capped ? " (capped by the hold)" : "") + "\n";
  if (awaiting_usage(j)) s += "  settle:   awaiting_usage: the hold settles once every chunk's usage records are in (see note)\n";
  if (!charges.unmetered.empty()) {
    std::string list;
    for (auto i : charges.unmetered) list += (list.empty() ? "" : ",") + std::to_string(i);
    s += awaiting_usage(j) ? "  awaiting: chunk(s) " + list + " have no complete usage record yet: not charged unless it arrives in time\n"
                           : "  unmetered: chunk(s) " + list + " rendered with no usage record: not charged\n";
  }
  s += "  cost:     " + tokens(shown_cost(store, j), c) + (j.hold ? " so far" : "") + "\n";
  if (!j.message.empty()) s += "  note:     " + j.message + "\n";
  s += "  chunks:\n";
  for (const auto& ch : store.chunks(j.id))
    s += "    " + std::to_string(ch.index) + "  " + ch.frame_spec + "  " + std::string(to_string(ch.state)) +
         "  attempts " + std::to_string(ch.attempts) + (ch.exit_code ? "  exit " + std::to_string(*ch.exit_code) : "") +
         "  usage " + std::to_string(ch.device_ms) + " ms (" + (ch.usage_source.empty() ? std::string("no usage yet") : ch.usage_source) +
         ")" + (ch.note.empty() ? "" : "  note: " + ch.note) + "\n";
  s += "  frames (frame  state  round  host  exr sha-256  verdict  charge):\n";
  for (const auto& f : store.frames(j.id)) {
    const auto it = charges.per_frame.find(f.frame);
    const Amount charge = j.hold ? (it == charges.per_frame.end() ? Amount() : it->second) : f.charge;
    s += "    " + std::to_string(f.frame) + "  " + std::string(to_string(f.state)) + "  r" + std::to_string(f.round) + "  " +
         (f.host.empty() ? "-" : f.host) + "  " + (f.exr_sha256.empty() ? std::string("-") : f.exr_sha256.substr(0, 16)) +
         (f.committed ? " (committed)" : "") + "  " + (f.verdict.empty() ? std::string("-") : f.verdict) +
         (f.verdict_reason.empty() ? "" : " (" + f.verdict_reason + ")") + "  " + tokens(charge, c) +
         (f.note.empty() ? "" : "  note: " + f.note) + "\n";
  }
  return s;
}

}  // namespace rfarm::scheduler
