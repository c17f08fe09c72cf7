#include "scheduler/local/local_backend.h"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <thread>

#include "core/error.h"
#include "scheduler/detail/process.h"

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
  children_[pid] = Child{job.id, chunk.index};
  chunk.state = State::Running;
  chunk.attempts += 1;
  chunk.backend_id = std::to_string(pid);
  chunk.exit_code.reset();
  store.update_chunk(job.id, chunk);
}

void LocalBackend::refresh(JobStore& store, std::int64_t job_id) {
  // Reap every finished child of this job.
  for (auto it = children_.begin(); it != children_.end();) {
    int status = 0;
    const pid_t r = waitpid(it->first, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR) || it->second.job != job_id) {
      ++it;
      continue;
    }
    const Child child = it->second;
    it = children_.erase(it);
    auto chunks = store.chunks(job_id);
    ChunkRecord c = chunks.at(child.chunk);
    c.exit_code = r < 0 ? -1 : detail::decode_wait_status(status);
    c.backend_id.clear();
    if (c.state == State::Cancelled) {
      store.update_chunk(job_id, c);
    } else if (*c.exit_code == 0) {
      c.state = State::Rendered;
      store.update_chunk(job_id, c);
    } else if (c.attempts < options_.max_attempts) {
      c.state = State::Queued;  // run again: rendered frames are skipped, so it resumes
      store.update_chunk(job_id, c);
    } else {
      c.state = State::Failed;
      store.update_chunk(job_id, c);
    }
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
