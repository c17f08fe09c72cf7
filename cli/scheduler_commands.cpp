// rfarm submit / queue / show / cancel: thin wrappers over scheduler/ (parse flags, call, print).
// Where jobs are kept: --state-dir, else $RFARM_STATE_DIR, else state_dir from rfarm.yaml.
// Money goes through scheduler::make_escrow; until the ledger is bound there, a real submission is
// refused with "ledger not configured" (exit 3) and --test-only shows the plan and quote.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/route_commands.h"
#include "config/config.h"
#include "config/source.h"
#include "federation/remote_backend.h"
#include "core/error.h"
#include "scheduler/backend_factory.h"
#include "scheduler/directives.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/report.h"
#include "scheduler/settlement.h"
#include "scheduler/submit.h"
#include "scheduler/verification.h"

namespace rfarm::cli {
namespace {

namespace S = rfarm::scheduler;
namespace F = rfarm::federation;
using nlohmann::json;

// rfarm watch of a routed job: the least time between two long polls (watch_job).
constexpr int kLongPollGapMs = 200;

struct SubmitFlags {
  std::string scene, account, partition, qos, job_name, gres, time_limit, mem, dependency;
  unsigned nodes = 0, ntasks = 1, cpus_per_task = 1, gpus_per_task = 0;
  int nice = 0;
  std::string clusters;  // -M/--clusters: route to a peer (cli/route_commands.h)
  std::string deadline;  // --deadline: with --clusters only (federation/deadline.h)
  std::string frames = "1", resolution, output = "renders/frame_####.exr", verify_rate, max_cost, state_dir;
  unsigned chunk = 10, spp = 0, max_depth = 0, tile_size = 0;
  bool parsable = false, test_only = false, json_out = false, wait = false;
};

void print(const std::string& text) { std::fputs(text.c_str(), stdout); }

config::Config load_config(const Context& ctx) {
  return config::load_resolved(config::resolve_config_path(ctx.config_path));
}

// The submit options, bound to `f`, in the order their pointers are returned. Registered twice:
// on the subcommand, and on a scratch app that reads #RFARM lines.
std::vector<CLI::Option*> add_submit_options(CLI::App& a, SubmitFlags& f) {
  a.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  return {
      a.add_option("-A,--account", f.account, "account charged (default: yours in rfarm.yaml users:)"),
      a.add_option("-p,--partition", f.partition, "Slurm partition (default: cluster.default_partition)"),
      a.add_option("-q,--qos", f.qos, "Slurm QOS"),
      a.add_option("-J,--job-name", f.job_name, "job name (default: rfarm-<scene>)"),
      a.add_option("-N,--nodes", f.nodes, "nodes per chunk (Slurm -N)"),
      a.add_option("-n,--ntasks", f.ntasks, "MPI ranks per chunk (default 1)"),
      a.add_option("-c,--cpus-per-task", f.cpus_per_task, "CPUs per rank (default 1)"),
      a.add_option("--gpus-per-task", f.gpus_per_task, "GPUs per rank (priced at the dearest configured model)"),
      a.add_option("--gres", f.gres, "generic resources, e.g. gpu:h100:1 (prices that model)"),
      a.add_option("-t,--time", f.time_limit, "time limit per chunk (Slurm syntax)"),
      a.add_option("--mem", f.mem, "memory per node (Slurm syntax)"),
      a.add_option("-d,--dependency", f.dependency, "Slurm dependency for the render array"),
      a.add_option("--nice", f.nice, "Slurm nice value for the render array"),
      a.add_option("-M,--clusters", f.clusters, "run on a peer cluster: NAME[,NAME...] or any (the cheapest quote wins)"),
      a.add_option("--deadline", f.deadline,
                   "with --clusters: finish by then (YYYY-MM-DD[THH:MM[:SS]] UTC, or now+N[seconds|minutes|hours|days|weeks]); "
                   "the cheapest peer meeting it, or a split of the frames across peers"),
      a.add_flag("--parsable", f.parsable, "print only the rfarm job id"),
      a.add_flag("--test-only", f.test_only, "print the plan and quote; queue nothing, hold nothing"),
      a.add_flag("--wait", f.wait, "follow the job until it finishes (as rfarm watch); exit 0 when it rendered"),
      a.add_option("--frames", f.frames, "frames in Slurm array syntax, e.g. 1-240 (default 1)"),
      a.add_option("--chunk", f.chunk, "frames per chunk = per Slurm array element (default 10)"),
      a.add_option("--spp", f.spp, "samples per pixel (default: render.spp)"),
      a.add_option("--resolution", f.resolution, "WxH (default: render.resolution)"),
      a.add_option("--max-depth", f.max_depth, "bounces per path (default: render.max_depth)"),
      a.add_option("--tile-size", f.tile_size, "tile edge in pixels (default: render.tile_size)"),
      a.add_option("-o,--output", f.output, "output pattern; #### becomes the frame (default renders/frame_####.exr)"),
      a.add_option("--verify-rate", f.verify_rate, "share of frames verified, e.g. 5% (default 100%)"),
      a.add_option("--max-cost", f.max_cost, "refuse when the quote is above TOKENS"),
      a.add_flag("--json", f.json_out, "print JSON (with --test-only)"),
      a.add_option("--state-dir", f.state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)"),
  };
}

// Options given as #RFARM lines in a YAML job file, overridden by those on the command line.
void apply_directives(SubmitFlags& f, const std::vector<CLI::Option*>& command_line) {
  const auto words = S::read_rfarm_directives(f.scene);
  if (words.empty()) return;
  CLI::App scratch{"#RFARM"};
  add_submit_options(scratch, f);
  std::vector<std::string> reversed(words.rbegin(), words.rend());  // CLI11 consumes from the back
  try {
    scratch.parse(reversed);
  } catch (const CLI::ParseError& e) {
    throw_input_error({f.scene, 0, 0}, "#RFARM", e.what(), "fix the #RFARM line (same options as rfarm submit)");
  }
  for (CLI::Option* o : command_line)
    if (o->count() > 0) o->run_callback();  // the command line wins
}

S::JobRequest to_request(const SubmitFlags& f, const config::Config& c) {
  S::JobRequest r;
  r.scene = f.scene;
  r.frames = f.frames;
  r.chunk_size = f.chunk;
  r.spp = f.spp;
  r.max_depth = f.max_depth;
  r.tile_size = f.tile_size;
  r.output = f.output;
  if (!f.resolution.empty()) {
    const auto x = f.resolution.find('x');
    try {
      if (x == std::string::npos) throw std::invalid_argument("no x");
      std::size_t used = 0;
      const unsigned long w = std::stoul(f.resolution.substr(0, x), &used);
      if (used != x) throw std::invalid_argument("w");
      const unsigned long h = std::stoul(f.resolution.substr(x + 1), &used);
      if (used != f.resolution.size() - x - 1 || w == 0 || h == 0 || w > config::kMaxResolution || h > config::kMaxResolution)
        throw std::invalid_argument("h");
      r.width = static_cast<std::uint32_t>(w);
      r.height = static_cast<std::uint32_t>(h);
    } catch (const std::exception&) {
      throw_input_error({}, "--resolution", "'" + f.resolution + "' is not WxH", "write e.g. 1920x1080");
    }
  }
  if (!f.verify_rate.empty()) r.verify_rate_ppm = S::parse_rate_ppm(f.verify_rate, "--verify-rate");
  if (!f.max_cost.empty()) r.max_cost = parse_amount(f.max_cost, c.token.decimals, "--max-cost");
  r.account = f.account;
  r.partition = f.partition;
  r.qos = f.qos;
  r.job_name = f.job_name;
  r.gres = f.gres;
  r.time_limit = f.time_limit;
  r.mem = f.mem;
  r.dependency = f.dependency;
  r.nodes = f.nodes;
  r.ntasks = f.ntasks;
  r.cpus_per_task = f.cpus_per_task;
  r.gpus_per_task = f.gpus_per_task;
  if (f.nice != 0) r.nice = f.nice;
  return r;
}

// on_error set: a job whose refresh throws is reported to it and the others go on (rfarm settle).
using RefreshError = std::function<void(const S::JobRecord&, const Error&)>;
// follow: rfarm watch's long poll of a routed job (federation/remote_backend.h), for jobs[0].
void refresh(S::JobStore& store, const config::Config& cfg, const std::filesystem::path& state_dir,
             const std::vector<S::JobRecord>& jobs, const std::vector<std::string>& program,
             const RefreshError& on_error = {}, F::StatusFollow* follow = nullptr);

// This binary with the same configuration: what batch scripts (re-render rounds, verification
// jobs) and child processes run.
std::vector<std::string> rfarm_program(const Context& ctx) {
  std::vector<std::string> program = {S::self_executable()};
  if (!ctx.config_path.empty()) program.insert(program.end(), {"--config", ctx.config_path});
  return program;
}

// Follows a job until it finishes, printing a line whenever its state or progress changes.
// Returns the exit status: 0 when it rendered (and, if verification ran, was verified), else 1.
// A job routed to a peer is followed by long polls: the peer answers as soon as the job changes
// (up to kMaxLongPollSeconds), so the frames are fetched moments after the last one renders, not
// up to an interval later, and no question is asked in between.
int watch_job(S::JobStore& store, const config::Config& cfg, const std::filesystem::path& state_dir,
              std::int64_t id, double interval_seconds, bool quiet, const std::vector<std::string>& program) {
  std::string last;
  F::StatusFollow follow;
  for (;;) {
    refresh(store, cfg, state_dir, {store.get(id)}, program, {}, &follow);
    const S::JobRecord j = store.get(id);
    const std::string line = "job " + std::to_string(j.id) + ": " + std::string(S::to_string(j.state)) + ", " +
                             std::to_string(j.frames_done) + "/" + std::to_string(j.frame_count) +
                             " frames, verification " + std::string(S::to_string(j.verify_state)) +
                             (S::awaiting_usage(j) ? ", awaiting usage records" : "") + "\n";
    if (line != last && !quiet) {
      print(line);
      std::fflush(stdout);
    }
    last = line;
    // A job awaiting its usage records is followed until it settles (each poll ingests the spool).
    if (S::is_finished(j) && !S::awaiting_usage(j))
      return j.state == S::State::Rendered || j.state == S::State::Verified ? 0 : 1;
    // The next question to the peer waits there until the job changes; a short pause bounds the
    // questions asked of a job that changes often (one per kLongPollGapMs at most).
    const bool long_poll_next = j.backend == F::kRemoteBackendName && !follow.version.empty() && !follow.unsupported;
    const double pause = long_poll_next ? std::min(interval_seconds, kLongPollGapMs / 1000.0) : interval_seconds;
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<long>(pause * 1000)));
  }
}

void submit(const SubmitFlags& f, Context& ctx) {
  const config::Config cfg = load_config(ctx);
  S::JobPlan plan = S::plan_job(to_request(f, cfg), cfg);  // refuses over --max-cost
  plan.request.account = S::resolve_account(plan.request.account, cfg, S::current_unix_user());
  if (!f.deadline.empty() && f.clusters.empty())
    throw_input_error({}, "--deadline", "needs --clusters: only routing to peer clusters plans for a deadline",
                      "add --clusters any (or NAME[,NAME...]), or submit without --deadline");
  if (!f.clusters.empty()) {
    const std::vector<std::int64_t> placed =
        route_submit(plan, cfg, {f.clusters, f.state_dir, f.deadline, f.test_only, f.parsable}, ctx);
    if (!f.wait || placed.empty()) return;
    // --wait: follow each placed job (the parts of a split one after another) until it finishes.
    const auto state_dir = S::resolve_state_dir(f.state_dir, cfg.state_dir);
    S::JobStore store(state_dir);
    int worst = 0;
    for (const std::int64_t id : placed)
      worst = std::max(worst, watch_job(store, cfg, state_dir, id, 2.0, f.parsable, rfarm_program(ctx)));
    ctx.exit_code = worst;
    return;
  }
  if (f.test_only) {
    // No store, no hold, no backend: show what would happen.
    if (f.json_out) print(S::plan_json(plan, cfg).dump(2) + "\n");
    else if (f.parsable) print(S::format_tokens(plan.quote.total, cfg) + "\n");
    else print(S::plan_text(plan, cfg) + "test only: nothing was queued or held\n");
    ctx.exit_code = 0;
    return;
  }
  const auto state_dir = S::resolve_state_dir(f.state_dir, cfg.state_dir);
  auto escrow = S::make_escrow(cfg, state_dir);  // refuses while the ledger is not bound
  S::JobStore store(state_dir);
  const std::string backend_name(config::to_string(cfg.cluster.backend));
  // Scripts and child processes run this binary with the same configuration.
  const std::vector<std::string> program = rfarm_program(ctx);
  auto backend = S::make_backend(backend_name, cfg, state_dir, program);
  const S::JobRecord job = S::submit_job(plan, cfg, store, *backend, *escrow);
  if (f.parsable) print(std::to_string(job.id) + "\n");
  else print("Submitted rfarm job " + std::to_string(job.id) + " (" + std::to_string(job.chunk_count) + " chunks, quote " +
             S::format_tokens(job.quote.total, cfg) + " held)\n");
  if (auto* local = dynamic_cast<S::LocalBackend*>(backend.get())) {
    // Local chunks are children of this process: render in the foreground, commit the frames,
    // verify them (rfarm verify --record, when rfarm.yaml has a verifier account), then settle.
    S::VerifyRunner verify;
    if (const std::string verifier = S::verifier_account(cfg); !verifier.empty()) {
      const char* env_db = std::getenv("RFARM_LEDGER");
      S::VerifierSetup setup{program, env_db && *env_db ? std::string(env_db) : cfg.ledger.path.string(), verifier, {}};
      verify = S::command_verify_runner(setup, state_dir / "logs");
    }
    const S::JobRecord done = S::run_local_job(store, *local, *escrow, cfg, job.id, verify);
    S::settle_job(store, *escrow, cfg, job.id);
    const S::JobRecord settled = store.get(job.id);
    if (!f.parsable)
      print("job " + std::to_string(job.id) + ": " + std::string(S::to_string(done.state)) + ", verification " +
            std::string(S::to_string(done.verify_state)) + ", charged " + S::format_tokens(settled.cost, cfg) + "\n");
    ctx.exit_code = done.state == S::State::Rendered || done.state == S::State::Verified ? 0 : 1;
    return;
  }
  ctx.exit_code = f.wait ? watch_job(store, cfg, state_dir, job.id, 2.0, f.parsable, program) : 0;
}

struct JobFlags {
  std::string account, state_dir;
  long long job = 0;
  bool json_out = false;
  double interval = 2.0;
};

// Refreshes jobs still in flight on Slurm (local jobs are driven by their submitting process),
// then finishes every job that has: commit, verdicts, a re-render round for failed frames (Slurm),
// or metering and settlement of its hold.
void refresh(S::JobStore& store, const config::Config& cfg, const std::filesystem::path& state_dir,
             const std::vector<S::JobRecord>& jobs, const std::vector<std::string>& program,
             const RefreshError& on_error, F::StatusFollow* follow) {
  // One backend and one escrow (one ledger connection, one spool pass) for all the jobs.
  std::unique_ptr<S::Backend> slurm;
  std::unique_ptr<S::Escrow> escrow;
  for (const auto& listed : jobs) try {
    if (listed.backend == "remote") {  // routed to a peer: ask it, fetch its outputs, settle on its charge
      if (!S::is_finished(listed)) refresh_remote_job(store, cfg, listed.id, listed.id == jobs.front().id ? follow : nullptr);
      verify_remote_job_when_due(store, cfg, state_dir, listed.id, program);  // judged here first
      // A re-routed job settles its silent peer's charge once that peer answers (reroute.h).
      if (const S::JobRecord j = store.get(listed.id); (j.hold || j.peer_due) && S::is_finished(j)) {
        if (!escrow) escrow = S::make_escrow(cfg, state_dir);
        settle_remote(store, cfg, *escrow, j.id);
      }
      // Settled as disputed after a failed verdict: its frames go to another peer (reroute.h).
      requeue_remote_when_failed(store, cfg, state_dir, listed.id);
      continue;
    }
    const bool on_slurm = listed.backend == "slurm";
    if (on_slurm && !slurm) slurm = S::make_backend("slurm", cfg, state_dir, program);
    if (on_slurm && !S::is_finished(listed)) slurm->refresh(store, listed.id);
    const S::JobRecord j = store.get(listed.id);
    if (j.hold && S::is_finished(j)) {
      if (!escrow) escrow = S::make_escrow(cfg, state_dir);
      if (on_slurm) {
        S::finish_job(store, *slurm, *escrow, cfg, j.id);
      } else {
        // A local job whose submitting process ended before settling it.
        auto local = S::make_backend(j.backend, cfg, state_dir, program);
        S::finish_job(store, *local, *escrow, cfg, j.id);
      }
    }
  } catch (const Error& e) {
    if (!on_error) throw;
    on_error(listed, e);
  }
}

}  // namespace

void add_scheduler_commands(CLI::App& app, Context& ctx) {
  auto sf = std::make_shared<SubmitFlags>();
  CLI::App* sub = app.add_subcommand("submit", "Plan, quote, hold and queue a render job (Slurm's flags pass through)");
  sub->add_option("SCENE", sf->scene, "a glTF scene, or a YAML job file with #RFARM option lines at the top")->required();
  auto opts = std::make_shared<std::vector<CLI::Option*>>(add_submit_options(*sub, *sf));
  sub->callback([sf, opts, &ctx] {
    if (S::is_job_file(sf->scene)) apply_directives(*sf, *opts);
    submit(*sf, ctx);
  });

  auto qf = std::make_shared<JobFlags>();
  CLI::App* queue = app.add_subcommand("queue", "List jobs: state, frames done/total, verification, cost so far");
  queue->add_option("-A,--account", qf->account, "only this account's jobs");
  queue->add_flag("--json", qf->json_out, "print JSON");
  queue->add_option("--state-dir", qf->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  queue->callback([qf, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(qf->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    refresh(store, cfg, dir, store.list(qf->account), rfarm_program(ctx));
    const auto jobs = store.list(qf->account);
    if (qf->json_out) {
      json out = json::array();
      for (const auto& j : jobs) out.push_back(S::job_json(store, j, cfg));
      print(out.dump(2) + "\n");
    } else {
      print(S::queue_text(store, jobs, cfg));
    }
    ctx.exit_code = 0;
  });

  auto shf = std::make_shared<JobFlags>();
  CLI::App* show = app.add_subcommand("show", "Show one job: its chunks, states, attempts, quote and cost");
  show->add_option("JOB", shf->job, "rfarm job id (see rfarm queue)")->required();
  show->add_flag("--json", shf->json_out, "print JSON");
  show->add_option("--state-dir", shf->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  show->callback([shf, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(shf->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    refresh(store, cfg, dir, {store.get(shf->job)}, rfarm_program(ctx));
    const S::JobRecord j = store.get(shf->job);
    print(shf->json_out ? S::job_detail_json(store, j, cfg).dump(2) + "\n" : S::job_text(store, j, cfg));
    ctx.exit_code = 0;
  });

  auto wf = std::make_shared<JobFlags>();
  CLI::App* watch = app.add_subcommand("watch", "Follow a job until it finishes, one line per change; exit 0 when it rendered");
  watch->add_option("JOB", wf->job, "rfarm job id (see rfarm queue)")->required();
  watch->add_option("--interval", wf->interval, "seconds between polls (default 2)")->check(CLI::Range(0.05, 3600.0));
  watch->add_option("--state-dir", wf->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  watch->callback([wf, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(wf->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    ctx.exit_code = watch_job(store, cfg, dir, store.get(wf->job).id, wf->interval, false, rfarm_program(ctx));
  });

  auto sef = std::make_shared<JobFlags>();
  CLI::App* settle = app.add_subcommand(
      "settle", "Finish and settle jobs whose render and verification are done (ingests the usage spool while "
                "a job awaits its usage records); for cron, or instead of polling rfarm queue");
  settle->add_option("JOB", sef->job, "only this rfarm job (default: every job with an open hold)");
  settle->add_option("-A,--account", sef->account, "only this account's jobs");
  settle->add_option("--state-dir", sef->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  settle->callback([sef, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(sef->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    std::vector<S::JobRecord> jobs;
    if (sef->job != 0) jobs.push_back(store.get(sef->job));
    else
      for (const auto& j : store.list(sef->account))
        if (j.hold) jobs.push_back(j);
    // One job's trouble (a refused post, an unreadable ledger row) must not keep cron's pass from
    // settling the others: each job on its own, errors said and counted.
    std::vector<std::int64_t> failed;
    refresh(store, cfg, dir, jobs, rfarm_program(ctx), [&failed](const S::JobRecord& job, const Error& e) {
      std::fprintf(stderr, "rfarm: error: job %lld: %s\n", static_cast<long long>(job.id), e.what());
      failed.push_back(job.id);
    });
    for (const auto& listed : jobs) {
      if (std::find(failed.begin(), failed.end(), listed.id) != failed.end()) continue;
      const S::JobRecord j = store.get(listed.id);
      const std::string what = !j.hold ? "settled, cost " + S::format_tokens(j.cost, cfg)
                               : S::awaiting_usage(j) ? std::string("awaiting_usage")
                                                      : "open (" + std::string(S::to_string(j.state)) + ")";
      print("job " + std::to_string(j.id) + ": " + what + (j.message.empty() ? "" : ": " + j.message) + "\n");
    }
    ctx.exit_code = failed.empty() ? 0 : 1;
  });

  auto mf = std::make_shared<JobFlags>();
  CLI::App* commit = app.add_subcommand("commit", "Take evidence of a job's rendered frames and commit them to the ledger (the verification job runs it)");
  commit->add_option("JOB", mf->job, "rfarm job id (see rfarm queue)")->required();
  commit->add_option("--state-dir", mf->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  commit->callback([mf, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(mf->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    const S::JobRecord j = store.get(mf->job);
    if (j.backend == "slurm") S::make_backend("slurm", cfg, dir, {S::self_executable()})->refresh(store, j.id);
    auto escrow = S::make_escrow(cfg, dir);
    const std::size_t n = S::commit_frames(store, *escrow, cfg, j.id);
    const S::JobRecord after = store.get(j.id);
    print("job " + std::to_string(j.id) + ": " + std::to_string(n) + " frame(s) committed, " + std::to_string(after.frames_done) +
          "/" + std::to_string(after.frame_count) + " in evidence\n");
    // Non-zero while frames are missing: the verification job must not verify an incomplete job.
    ctx.exit_code = after.frames_done == after.frame_count ? 0 : 1;
  });

  auto cf = std::make_shared<JobFlags>();
  CLI::App* cancel = app.add_subcommand("cancel", "Cancel a job (scancel), charge only rendered frames, release the rest of the hold");
  cancel->add_option("JOB", cf->job, "rfarm job id (see rfarm queue)")->required();
  cancel->add_option("--state-dir", cf->state_dir, "job store directory (default: $RFARM_STATE_DIR, then state_dir)");
  cancel->callback([cf, &ctx] {
    const config::Config cfg = load_config(ctx);
    const auto dir = S::resolve_state_dir(cf->state_dir, cfg.state_dir);
    S::JobStore store(dir);
    const S::JobRecord j = store.get(cf->job);
    std::unique_ptr<S::Escrow> escrow;
    if (j.hold) escrow = S::make_escrow(cfg, dir);  // before anything is stopped
    if (j.backend == "remote") {
      if (!escrow) escrow = S::make_escrow(cfg, dir);
      cancel_remote(store, cfg, *escrow, j.id);  // the peer is told; its charge settles the hold
    } else {
      auto backend = S::make_backend(j.backend, cfg, dir, {S::self_executable()});
      S::cancel_job(store, *backend, escrow.get(), cfg, j.id);
    }
    const S::JobRecord after = store.get(j.id);
    print("job " + std::to_string(after.id) + ": cancelled (" + std::to_string(after.frames_done) + "/" +
          std::to_string(after.frame_count) + " frames rendered, cost " + S::format_tokens(after.cost, cfg) + ")" +
          (S::awaiting_usage(after) ? "; awaiting usage records of the chunks that ran: it settles when they are in "
                                      "(rfarm show, rfarm settle)"
                                    : "") +
          "\n");
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
