#include "scheduler/local/local_backend.h"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>
#include <vector>

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
  for (auto& [pid, child] : children_) {
    kill(-pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    forget(child);
  }
}

namespace {
// glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage (a known header bug), so C++
// cannot link against it: call the system call (Linux 5.3+) directly. -1 where the kernel has none.
int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0u)); }
}  // namespace

void LocalBackend::forget(Child& child) {
  if (child.pidfd >= 0) close(child.pidfd);
  child.pidfd = -1;
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
  // A pidfd becomes readable when the process exits: run() sleeps on it instead of polling.
  children_[pid] = Child{job.id, chunk.index, std::chrono::steady_clock::now(), open_pidfd(pid)};
  chunk.state = State::Running;
  chunk.attempts += 1;
  chunk.backend_id = std::to_string(pid);
  chunk.exit_code.reset();
  store.update_chunk(job.id, chunk);
}

void LocalBackend::refresh(JobStore& store, std::int64_t job_id) {
  // A job cancelled by another process (`rfarm cancel`, a peer's DELETE through the gateway) is
  // only a state in the store: stop its chunks here, where they are our children. They are reaped
  // below (their chunks are already cancelled in the store, so they are not re-queued).
  if (store.get(job_id).state == State::Cancelled)
    for (const auto& [pid, child] : children_)
      if (child.job == job_id) kill(-pid, SIGTERM);
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
    Child child = it->second;
    forget(child);
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
    forget(it->second);
    it = children_.erase(it);
  }
}

void LocalBackend::wait_for_exit(std::int64_t job, std::chrono::milliseconds idle) const {
  std::vector<pollfd> fds;
  bool without_pidfd = false;
  for (const auto& [pid, child] : children_) {
    if (child.job != job) continue;
    if (child.pidfd < 0) without_pidfd = true;
    else fds.push_back(pollfd{child.pidfd, POLLIN, 0});
  }
  // A chunk we cannot watch (no pidfd) is reaped by polling, as before.
  const auto limit = without_pidfd || fds.empty() ? std::min(idle, std::chrono::milliseconds(50)) : idle;
  if (fds.empty()) {
    std::this_thread::sleep_for(limit);
    return;
  }
  // EINTR or an error: return, and the caller refreshes and comes back.
  (void)poll(fds.data(), fds.size(), static_cast<int>(limit.count()));
}

JobRecord LocalBackend::run(JobStore& store, std::int64_t job_id, std::chrono::milliseconds idle) {
  for (;;) {
    refresh(store, job_id);
    bool active = false;
    for (const auto& c : store.chunks(job_id))
      if (c.state == State::Queued || c.state == State::Running) active = true;
    if (!active) return store.get(job_id);
    wait_for_exit(job_id, idle);
  }
}

}  // namespace rfarm::scheduler
