#include "scheduler/slurm/slurm_backend.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <algorithm>

#include "core/atomic_file.h"
#include "core/error.h"
#include "scheduler/detail/process.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/settlement.h"
#include "scheduler/slurm/element_log.h"

namespace rfarm::scheduler {
namespace fs = std::filesystem;

namespace {

// A Slurm job state (squeue %T) as an rfarm chunk state.
std::optional<State> chunk_state_from_slurm(const std::string& s) {
  if (s == "PENDING" || s == "CONFIGURING" || s == "REQUEUED" || s == "REQUEUE_HOLD" || s == "RESV_DEL_HOLD" ||
      s == "SUSPENDED" || s == "REQUEUE_FED")
    return State::Queued;
  if (s == "RUNNING" || s == "COMPLETING" || s == "STAGE_OUT" || s == "SIGNALING" || s == "RESIZING") return State::Running;
  if (s == "COMPLETED") return State::Rendered;
  if (s == "CANCELLED") return State::Cancelled;
  if (s == "FAILED" || s == "TIMEOUT" || s == "NODE_FAIL" || s == "OUT_OF_MEMORY" || s == "BOOT_FAIL" ||
      s == "DEADLINE" || s == "PREEMPTED" || s == "SPECIAL_EXIT" || s == "REVOKED")
    return State::Failed;
  return std::nullopt;
}

}  // namespace

std::string shell_quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

SlurmOptions slurm_options_from_config(const config::Config& config) {
  SlurmOptions o;
  const char* env_conf = std::getenv("SLURM_CONF");
  if ((!env_conf || !*env_conf) && !config.cluster.slurm_conf.empty())
    o.env["SLURM_CONF"] = config.cluster.slurm_conf.string();
  o.verify_partition = config.cluster.verification_partition;
  o.verify_qos = config.cluster.verification_qos;
  return o;
}

SlurmBackend::SlurmBackend(SlurmOptions options) : options_(std::move(options)) {
  if (options_.program.empty()) throw Error(Error::Kind::Internal, "slurm backend: no render program");
  if (options_.max_attempts < 1 || options_.max_attempts > 100)
    throw Error(Error::Kind::BadInput, "slurm backend: max_attempts " + std::to_string(options_.max_attempts) +
                                           " is out of range (use 1 to 100)");
  if (options_.verify_nice <= 0)
    throw Error(Error::Kind::BadInput, "slurm backend: verify_nice must be positive (verification runs at lower priority)");
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  if (ec) throw Error(Error::Kind::Io, "slurm backend: work directory " + options_.work_dir.string() + ": " + ec.message());
}

fs::path SlurmBackend::log_path(std::int64_t job, const std::string& what) const {
  return options_.work_dir / ("job-" + std::to_string(job) + "-" + what + ".log");
}

fs::path SlurmBackend::chunk_log(std::int64_t job, std::uint32_t chunk) const {
  return options_.work_dir / ("job-" + std::to_string(job) + "-chunk-" + std::to_string(chunk) + ".log");
}

std::string SlurmBackend::array_script(const JobRecord& job, const std::vector<ChunkRecord>& chunks) const {
  std::string s = "#!/bin/bash\n";
  s += "# rfarm job " + std::to_string(job.id) + " (" + job.uid.hex() + "): " + std::to_string(chunks.size()) +
       " chunks, one per element of this Slurm job array.\n";
  s += "# Element i renders the frames CHUNKS[i], retrying up to " + std::to_string(options_.max_attempts) +
       " times (a retry resumes: finished frames validate and are skipped).\n";
  // Indexed by chunk: a re-render round is a one-element array whose task id is its chunk index.
  s += "CHUNKS=(\n";
  for (const auto& c : chunks) s += "[" + std::to_string(c.index) + "]=" + shell_quote(c.frame_spec) + "\n";
  s += ")\n";
  s += "i=${SLURM_ARRAY_TASK_ID:?rfarm: run this script as a Slurm array element}\n";
  s += "spec=${CHUNKS[$i]:?rfarm: this array has no chunk $i}\n";
  // Which Slurm job ran this chunk: its usage records (SPANK) are filed under that id.
  s += "echo \"rfarm: chunk $i slurm job ${SLURM_JOB_ID}\"\n";
  // How many nodes send usage records for it: settlement waits for a record from each.
  s += "echo \"rfarm: chunk $i nodes ${SLURM_JOB_NUM_NODES:-1}\"\n";
  s += "max_attempts=" + std::to_string(options_.max_attempts) + "\n";
  s += "attempt=1\n";
  s += "while :; do\n";
  s += "  echo \"rfarm: chunk $i attempt $attempt frames $spec\"\n";
  s += "  srun --mpi=pmix --kill-on-bad-exit=1";
  const auto argv = render_argv(options_.program, job.request, "");
  for (std::size_t k = 0; k < argv.size(); ++k) {
    if (k > 0 && argv[k - 1] == "--frames") s += " \"$spec\"";
    else s += " " + shell_quote(argv[k]);
  }
  s += "\n  status=$?\n";
  s += "  if [ \"$status\" -eq 0 ]; then echo \"rfarm: chunk $i rendered\"; exit 0; fi\n";
  s += "  echo \"rfarm: chunk $i attempt $attempt failed (exit $status)\"\n";
  s += "  if [ \"$attempt\" -ge \"$max_attempts\" ]; then echo \"rfarm: chunk $i gave up\"; exit \"$status\"; fi\n";
  s += "  attempt=$((attempt + 1))\n";
  s += "done\n";
  return s;
}

std::vector<std::string> SlurmBackend::array_sbatch_argv(const JobRecord& job, std::size_t chunks,
                                                         const fs::path& script) const {
  return array_sbatch_argv(job, "0-" + std::to_string(chunks - 1), 0, {}, script);
}

std::vector<std::string> SlurmBackend::array_sbatch_argv(const JobRecord& job, const std::string& array,
                                                         std::uint32_t round, const std::vector<std::string>& exclude,
                                                         const fs::path& script) const {
  const JobRequest& r = job.request;
  std::vector<std::string> a = {options_.sbatch, "--parsable", "--array=" + array,
                                "--job-name=" + r.job_name, "--output=" + (options_.work_dir / ("job-" + std::to_string(job.id) + "-chunk-%a.log")).string(),
                                "--chdir=" + options_.work_dir.string(), "--ntasks=" + std::to_string(r.ntasks),
                                "--cpus-per-task=" + std::to_string(r.cpus_per_task), "--export=ALL"};
  if (!r.account.empty()) a.push_back("--account=" + r.account);
  if (!r.partition.empty()) a.push_back("--partition=" + r.partition);
  if (!r.qos.empty()) a.push_back("--qos=" + r.qos);
  if (r.nodes > 0) a.push_back("--nodes=" + std::to_string(r.nodes));
  if (r.gpus_per_task > 0 && r.gres.empty()) a.push_back("--gpus-per-task=" + std::to_string(r.gpus_per_task));
  if (!r.gres.empty()) a.push_back("--gres=" + r.gres);
  if (!r.time_limit.empty()) a.push_back("--time=" + r.time_limit);
  if (!r.mem.empty()) a.push_back("--mem=" + r.mem);
  if (!r.dependency.empty()) a.push_back("--dependency=" + r.dependency);
  if (r.nice) a.push_back("--nice=" + std::to_string(*r.nice));
  if (!exclude.empty()) {
    std::string list;
    for (const auto& h : exclude) list += (list.empty() ? "" : ",") + h;
    a.push_back("--exclude=" + list);
  }
  // With rfarm's SPANK plugin the elements' usage records name the account and the ledger job
  // (the round's), so settlement can charge each chunk from its own metered usage.
  if (metering() && !r.account.empty())
    a.insert(a.end(), {"--rfarm-account=" + r.account, "--rfarm-job=" + ledger_job_id(job, round)});
  a.push_back(script.string());
  return a;
}

bool SlurmBackend::metering() const {
  if (!metering_) metering_ = options_.metering;
  if (!metering_) {
    // The plugin registers its options with sbatch (plugins/slurm): `sbatch --help` lists them.
    const auto r = detail::run_command({options_.sbatch, "--help"}, options_.env);
    metering_ = r.exit_code == 0 && r.out.find("--rfarm-job") != std::string::npos;
  }
  return *metering_;
}

std::string SlurmBackend::run_sbatch(const std::vector<std::string>& argv) {
  ++sbatch_calls_;
  const auto r = detail::run_command(argv, options_.env);
  if (r.exit_code != 0) {
    std::string err = r.err.empty() ? r.out : r.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    throw Error(Error::Kind::Io, "sbatch failed (exit " + std::to_string(r.exit_code) + "): " + err);
  }
  std::string id = r.out.substr(0, r.out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error(Error::Kind::Io, "sbatch --parsable printed '" + r.out + "', not a job id");
  return id;
}

void SlurmBackend::submit(JobStore& store, const JobRecord& job) {
  if (job.backend != name())
    throw Error(Error::Kind::Internal, "slurm backend: job " + std::to_string(job.id) + " belongs to " + job.backend);
  auto chunks = store.chunks(job.id);
  if (chunks.empty()) throw Error(Error::Kind::Internal, "slurm backend: job " + std::to_string(job.id) + " has no chunks");
  const fs::path script = options_.work_dir / ("job-" + std::to_string(job.id) + ".sh");
  write_file_atomically(script, array_script(job, chunks));
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  const std::string array_id = run_sbatch(array_sbatch_argv(job, chunks.size(), script));
  store.set_backend_id(job.id, array_id);
  for (auto& c : chunks) {
    c.state = State::Queued;
    c.backend_id = array_id + "_" + std::to_string(c.index);
  }
  store.update_chunks(job.id, chunks);

  if (options_.verify_command.empty() && !options_.verifier) {
    store.set_state(job.id, store.get(job.id).state, "no verification job: no verifier command configured");
    return;
  }
  queue_verification(store, job, array_id, 0, job.request.frames);
}

void SlurmBackend::queue_verification(JobStore& store, const JobRecord& job, const std::string& array_id,
                                      std::uint32_t round, const std::string& frames) {
  const std::string suffix = round == 0 ? "verify" : "verify-r" + std::to_string(round);
  const fs::path vscript = options_.work_dir / ("job-" + std::to_string(job.id) + "-" + suffix + ".sh");
  std::string v = "#!/bin/bash\n# rfarm job " + std::to_string(job.id) + ": verification of round " + std::to_string(round) +
                  " (after every chunk rendered)\n";
  auto line = [](const std::vector<std::string>& argv) {
    std::string l;
    for (const auto& w : argv) l += (l.empty() ? "" : " ") + shell_quote(w);
    return l;
  };
  if (!options_.verify_command.empty()) {
    v += "exec " + line(options_.verify_command) + "\n";
  } else {
    // Evidence and commits first (the frames as they are on disk now are what the provider is
    // paid for), then the verdicts, recorded in the ledger.
    v += "set -e\n";
    if (!options_.commit_command.empty()) {
      auto commit = options_.commit_command;
      commit.push_back(std::to_string(job.id));
      v += line(commit) + "\n";
    }
    v += "exec " + line(verify_argv(*options_.verifier, job, round, frames)) + "\n";
  }
  write_file_atomically(vscript, v);
  fs::permissions(vscript, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  std::vector<std::string> a = {options_.sbatch, "--parsable", "--dependency=afterok:" + array_id,
                                "--nice=" + std::to_string(options_.verify_nice), "--job-name=" + job.request.job_name + "-verify",
                                "--output=" + log_path(job.id, suffix).string(), "--chdir=" + options_.work_dir.string(),
                                "--ntasks=1", "--export=ALL"};
  if (!job.request.account.empty()) a.push_back("--account=" + job.request.account);
  const std::string partition = options_.verify_partition.empty() ? job.request.partition : options_.verify_partition;
  if (!partition.empty()) a.push_back("--partition=" + partition);
  if (!options_.verify_qos.empty()) a.push_back("--qos=" + options_.verify_qos);
  // Metered like the render, under its own ledger job: the quote's verification share pays for it,
  // so ingestion must not charge it to the account as a plain job.
  if (metering() && !job.request.account.empty())
    a.insert(a.end(), {"--rfarm-account=" + job.request.account, "--rfarm-job=" + ledger_job_id(job, round) + "-verify"});
  a.push_back(vscript.string());
  try {
    store.set_verification(job.id, run_sbatch(a), State::Queued);
  } catch (const Error& e) {
    // The render array is queued and paid for by the hold; say why verification is missing.
    store.set_verification(job.id, "", State::Failed);
    store.set_state(job.id, store.get(job.id).state, std::string("verification job not queued: ") + e.what());
  }
}

void SlurmBackend::refresh(JobStore& store, std::int64_t job_id) {
  const JobRecord job = store.get(job_id);
  if (job.backend_id.empty()) return;
  // Every element of the job's arrays (the first render and any re-render rounds), one line each
  // (-r), including finished ones still in memory (-t all): "ARRAY_TASK|STATE".
  const std::vector<ChunkRecord> chunks = store.chunks(job_id);
  std::string arrays;
  for (const ChunkRecord& c : chunks) {
    if (is_final_for_chunk(c.state)) continue;
    const std::string array = c.backend_id.substr(0, c.backend_id.find('_'));
    if (array.empty() || array.find_first_not_of("0123456789") != std::string::npos) continue;
    if (("," + arrays + ",").find("," + array + ",") == std::string::npos) arrays += (arrays.empty() ? "" : ",") + array;
  }
  if (arrays.empty()) arrays = job.backend_id;
  const auto q = detail::run_command({options_.squeue, "-h", "-r", "-t", "all", "-j", arrays, "-o", "%i|%T"}, options_.env);
  std::map<std::string, std::string> slurm_state;  // "ARRAY_TASK" -> Slurm state
  if (q.exit_code == 0) {
    std::istringstream lines(q.out);
    std::string line;
    while (std::getline(lines, line)) {
      const auto bar = line.find('|');
      if (bar == std::string::npos || line.find('_') > bar) continue;
      slurm_state[line.substr(0, bar)] = line.substr(bar + 1);
    }
  }
  std::vector<ChunkRecord> changed;
  for (ChunkRecord c : chunks) {
    if (is_final_for_chunk(c.state)) continue;
    const ElementLog log = read_element_log(chunk_log(job_id, c.index), c.index);
    std::optional<State> next;
    const auto it = slurm_state.find(c.backend_id);
    if (it != slurm_state.end()) next = chunk_state_from_slurm(it->second);
    if (!next || *next == State::Rendered || *next == State::Failed) {
      // Finished (or forgotten by slurmctld): the element's own log has the last word.
      if (log.rendered) next = State::Rendered;
      else if (log.gave_up) next = State::Failed;
      else if (!next && log.exists && q.exit_code == 0 && it == slurm_state.end()) next = State::Failed;
    }
    if (!next) continue;
    ChunkRecord updated = c;
    updated.state = *next;
    updated.attempts = std::max(c.attempts, log.attempts);
    updated.exit_code = log.last_exit;
    if (*next == State::Rendered || *next == State::Failed) {
      // The element is over. Rendered needs evidence for every frame, whatever Slurm or the log say.
      const ChunkEvidence ev = record_chunk_evidence(store, job, c.index, options_.inspect);
      if (*next == State::Rendered && !ev.missing.empty()) {
        updated.state = State::Failed;
        updated.note = "element ended " + (log.rendered ? std::string("with 'rendered'") : std::string("COMPLETED")) +
                       " but frames are not in evidence: " + ev.note;
      }
    }
    if (updated.state != c.state || updated.attempts != c.attempts || updated.exit_code != c.exit_code ||
        updated.note != c.note)
      changed.push_back(updated);
  }
  if (!changed.empty()) store.update_chunks(job_id, changed);

  if (!job.verify_backend_id.empty() && job.verify_state != State::Verified && job.verify_state != State::Failed &&
      job.verify_state != State::Cancelled) {
    const auto v = detail::run_command({options_.squeue, "-h", "-t", "all", "-j", job.verify_backend_id, "-o", "%T"},
                                       options_.env);
    std::string s = v.out.substr(0, v.out.find('\n'));
    std::optional<State> vs;
    if (s == "COMPLETED") vs = State::Verified;
    else if (s == "RUNNING" || s == "COMPLETING") vs = State::Running;
    else if (s == "PENDING") vs = State::Queued;
    else if (s == "CANCELLED") vs = State::Cancelled;
    else if (auto c = chunk_state_from_slurm(s); c == State::Failed) vs = State::Failed;
    if (vs && *vs != job.verify_state) store.set_verification(job_id, job.verify_backend_id, *vs);
  }
}

void SlurmBackend::cancel(JobStore& store, std::int64_t job_id) {
  const JobRecord job = store.get(job_id);
  std::string problems;
  for (const std::string& id : {job.backend_id, job.verify_backend_id}) {
    if (id.empty()) continue;
    const auto r = detail::run_command({options_.scancel, id}, options_.env);
    if (r.exit_code != 0) problems += " scancel " + id + ": " + r.err;
  }
  store.set_state(job_id, State::Cancelled, "cancelled by the user" + problems);
  if (!job.verify_backend_id.empty()) store.set_verification(job_id, job.verify_backend_id, State::Cancelled);
}

}  // namespace rfarm::scheduler
