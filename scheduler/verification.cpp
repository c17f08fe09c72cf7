#include "scheduler/verification.h"

#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "scheduler/detail/process.h"
#include "scheduler/local/local_backend.h"
#include "scheduler/settlement.h"

namespace rfarm::scheduler {

std::string verifier_account(const config::Config& config) {
  for (const auto& a : config.accounts)
    if (a.kind == config::AccountKind::Verifier) return a.name;
  return {};
}

std::vector<std::string> verify_argv(const VerifierSetup& s, const JobRecord& job, std::uint32_t round,
                                     const std::string& frames) {
  const JobRequest& r = job.request;
  std::vector<std::string> argv = s.program;
  argv.insert(argv.end(), {"verify", "--job", ledger_job_id(job, round), "--ledger", s.ledger, "--verifier", s.verifier,
                           "--record", "--scene", r.scene, "--frames", frames, "--renders", r.output, "--resolution",
                           std::to_string(r.width) + "x" + std::to_string(r.height), "--spp", std::to_string(r.spp),
                           "--max-depth", std::to_string(r.max_depth), "--tile-size", std::to_string(r.tile_size)});
  // The render's device choice (backend.cpp render_argv), so the re-render takes the same code
  // path: a CPU job is re-rendered on the CPU with its thread count; a GPU job's frames were
  // rendered with --device auto (CUDA), and `rfarm verify --device auto` re-renders them with CUDA
  // when the verification node has a usable GPU, else on the CPU: both bit for bit, since rfarm's
  // CPU and CUDA paths give the same bits (a non-zero verification.cross_device_tolerance relaxes
  // that across devices). No --camera: a job has none, so both use the scene's
  // first camera.
  if (r.gpus_per_task == 0) argv.insert(argv.end(), {"--device", "cpu", "--threads", std::to_string(r.cpus_per_task)});
  else argv.insert(argv.end(), {"--device", "auto"});
  return argv;
}

VerifyRunner command_verify_runner(VerifierSetup setup, std::filesystem::path log_dir) {
  return [setup = std::move(setup), log_dir = std::move(log_dir)](const JobRecord& job, std::uint32_t round,
                                                                  const std::string& frames) {
    const auto log = log_dir / ("job-" + std::to_string(job.id) + "-verify-r" + std::to_string(round) + ".log");
    const pid_t pid = detail::spawn(verify_argv(setup, job, round, frames), setup.env, log);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw Error(Error::Kind::Io, "waiting for rfarm verify: " + std::string(std::strerror(errno)));
    }
    return detail::decode_wait_status(status);
  };
}

namespace {
// The rendered frames of `round` that have no verdict yet.
std::vector<std::int64_t> unverified(const JobStore& store, std::int64_t id, std::uint32_t round) {
  std::vector<std::int64_t> out;
  for (const auto& f : store.frames(id))
    if (f.round == round && (f.state == State::Rendered || f.state == State::Verified) && f.verdict.empty())
      out.push_back(f.frame);
  return out;
}
}  // namespace

JobRecord run_local_job(JobStore& store, LocalBackend& backend, Escrow& escrow, const config::Config& config,
                        std::int64_t id, const VerifyRunner& verify) {
  for (std::uint32_t round = 0;; ++round) {
    JobRecord job = backend.run(store, id);
    commit_frames(store, escrow, config, id);
    if (!verify || job.state != State::Rendered) return store.get(id);
    const std::vector<std::int64_t> frames = unverified(store, id, round);
    if (frames.empty()) return store.get(id);
    store.set_verification(id, "", State::Running);
    const int status = verify(job, round, compact_frame_spec(frames));
    if (status != 0 && status != 5) {
      store.set_verification(id, "", State::Failed);
      store.set_state(id, State::Failed, "verification could not run (rfarm verify exited " + std::to_string(status) +
                                             "; see its log under the state directory)");
      return store.get(id);
    }
    const VerdictOutcome v = apply_verdicts(store, escrow, config, id);
    if (v.gave_up) return store.get(id);
    if (v.requeued.empty()) {
      if (v.pending > 0) {
        store.set_verification(id, "", State::Failed);
        store.set_state(id, State::Failed, std::to_string(v.pending) + " frame(s) have no verdict after rfarm verify");
      } else {
        store.set_verification(id, "", State::Verified);
      }
      return store.get(id);
    }
    // Failed frames are in a new queued chunk: loop to render, commit and verify them.
  }
}

}  // namespace rfarm::scheduler
