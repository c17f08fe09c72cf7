#include "scheduler/local/local_backend.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>

#include "core/error.h"
#include "scheduler/detail/process.h"
#include "scheduler/frame_evidence.h"

namespace rfarm::scheduler {

LocalBackend::LocalBackend(LocalOptions options) : options_(std::move(options)) {
  if (options_.program.empty()) throw Error(Error::Kind::Internal, "local backend: no render program");
  if (options_.max_parallel < 1 || options_.max_parallel > kMaxLocalParallel)
    throw Error(Error::Kind::BadInput, "local backend: max_parallel " + std::to_string(options_.max_parallel) +
                                           " is out of range (use 1 to " + std::to_string(kMaxLocalParallel) + ")");
  if (options_.max_attempts < 1 || options_.max_attempts > kMaxAttempts)
    throw Error(Error::Kind::BadInput, "local backend: max_attempts " + std::to_string(options_.max_attempts) +
                                           " is out of range (use 1 to " + std::to_string(kMaxAttempts) + ")");
  std::error_code ec;
  std::filesystem::create_directories(options_.log_dir, ec);
  if (ec) throw Error(Error::Kind::Io, "local backend: log directory " + options_.log_dir.string() + ": " + ec.message());
}

LocalBackend::~LocalBackend() {
  for (const auto& [pid, child] : children_) {
    kill(-pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
}

void LocalBackend::submit(JobStore& store, const JobRecord& job) {
  if (job.backend != name())
    throw Error(Error::Kind::Internal, "local backend: job " + std::to_string(job.id) + " belongs to " + job.backend);
  auto chunks = store.chunks(job.id);
  for (auto& c : chunks) c.state = State::Queued;
  store.update_chunks(job.id, chunks);
  refresh(store, job.id);
}

void LocalBackend::start(JobStore& store, const JobRecord& job, ChunkRecord chunk) {
  const auto log = options_.log_dir / ("job-" + std::to_string(job.id) + "-chunk-" + std::to_string(chunk.index) + ".log");
  const pid_t pid = detail::spawn(render_argv(options_.program, job.request, chunk.frame_spec), options_.env, log);
  children_[pid] = Child{job.id, chunk.index, std::chrono::steady_clock::now()};
  chunk.state = State::Running;
  chunk.attempts += 1;
  chunk.backend_id = std::to_string(pid);
  chunk.exit_code.reset();
  store.update_chunk(job.id, chunk);
}

void LocalBackend::refresh(JobStore& store, std::int64_t job_id) {
  // Reap every finished child of this job.
  for (auto it = children_.begin(); it != children_.end();) {
    if (it->second.job != job_id) {
      ++it;
      continue;
    }
    int status = 0;
    rusage usage{};
    const pid_t r = wait4(it->first, &status, WNOHANG, &usage);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++it;
      continue;
    }
    const Child child = it->second;
    it = children_.erase(it);
    const JobRecord job = store.get(job_id);
    auto chunks = store.chunks(job_id);
    ChunkRecord c = chunks.at(child.chunk);
    c.exit_code = r < 0 ? -1 : detail::decode_wait_status(status);
    c.backend_id.clear();
    // Metered usage of this attempt (wait4 counts the process and the children it waited for).
    if (r > 0) {
      const auto wall_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - child.started).count());
      const auto ms = [](const timeval& t) {
        return static_cast<std::uint64_t>(t.tv_sec) * 1000u + static_cast<std::uint64_t>(t.tv_usec) / 1000u;
      };
      const std::uint64_t gpus = std::uint64_t{job.request.gpus_per_task} * std::max(1u, job.request.ntasks);
      c.device_ms += gpus > 0 ? wall_ms * gpus : ms(usage.ru_utime) + ms(usage.ru_stime);
      c.usage_source = "measured";
    }
    if (c.state == State::Cancelled) {
      store.update_chunk(job_id, c);
      continue;
    }
    if (*c.exit_code == 0) {
      // Evidence, not the exit status: every frame's EXR must be there and match the job.
      const ChunkEvidence ev = record_chunk_evidence(store, job, c.index, options_.inspect);
      if (ev.missing.empty()) {
        c.state = State::Rendered;
        c.note.clear();
        store.update_chunk(job_id, c);
        continue;
      }
      c.note = "exited 0 without valid frames: " + ev.note;
    } else {
      record_chunk_evidence(store, job, c.index, options_.inspect);  // frames it did finish stay rendered
      c.note = "exit " + std::to_string(*c.exit_code);
    }
    c.state = c.attempts < options_.max_attempts ? State::Queued : State::Failed;  // a re-run resumes
    store.update_chunk(job_id, c);
  }
  // Start queued chunks up to the limit.
  const JobRecord job = store.get(job_id);
  if (job.state == State::Cancelled) return;
  for (const ChunkRecord& c : store.chunks(job_id)) {
    if (children_.size() >= options_.max_parallel) break;
    if (c.state == State::Queued) start(store, job, c);
  }
}

void LocalBackend::cancel(JobStore& store, std::int64_t job_id) {
  store.set_state(job_id, State::Cancelled, "cancelled by the user");
  for (auto it = children_.begin(); it != children_.end();) {
    if (it->second.job != job_id) {
      ++it;
      continue;
    }
    kill(-it->first, SIGTERM);
    int status = 0;
    waitpid(it->first, &status, 0);
    it = children_.erase(it);
  }
}

JobRecord LocalBackend::run(JobStore& store, std::int64_t job_id, std::chrono::milliseconds poll) {
  for (;;) {
    refresh(store, job_id);
    bool active = false;
    for (const auto& c : store.chunks(job_id))
      if (c.state == State::Queued || c.state == State::Running) active = true;
    if (!active) return store.get(job_id);
    std::this_thread::sleep_for(poll);
  }
}

}  // namespace rfarm::scheduler
