#pragma once
// The Slurm backend: every chunk of a job becomes one element of ONE Slurm job array (a single
// sbatch call whatever the frame count); element i runs `srun --mpi=pmix rfarm render` over chunk i,
// re-running it up to max_attempts times inside the element (rendering resumes: finished frames
// validate and are skipped). A separate low-priority verification job waits on the array with
// --dependency=afterok:<array> and a positive --nice, in the verification partition/QOS.
// Only Slurm's commands are used (sbatch, squeue, scancel), with argv, never a shell string.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "scheduler/backend.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/verification.h"

namespace rfarm::scheduler {

struct SlurmOptions {
  std::vector<std::string> program;        // argv prefix before "render" (the rfarm binary or a wrapper)
  std::filesystem::path work_dir;          // batch scripts and element logs (shared with the nodes)
  std::map<std::string, std::string> env;  // added to Slurm commands' environment (exported to jobs)
  FrameInspector inspect = inspect_frame;  // evidence that a frame rendered (frame_evidence.h)
  unsigned max_attempts = 2;               // runs per chunk inside its array element
  std::vector<std::string> verify_command; // run by the verification job; empty: no verification job
  // When set (and verify_command is empty), the verification job runs `<commit_command> JOB` (take
  // evidence and commit the frames to the ledger) then `rfarm verify ... --record` (verification.h).
  std::vector<std::string> commit_command;
  std::optional<VerifierSetup> verifier;
  int verify_nice = 10'000;                // > 0: lower priority than the render array
  std::string verify_partition;            // empty: the job's partition
  std::string verify_qos;                  // empty: none
  std::string sbatch = "sbatch", squeue = "squeue", scancel = "scancel";
};

// Options from the configuration: its slurm_conf (unless $SLURM_CONF is set), verification
// partition and QOS.
SlurmOptions slurm_options_from_config(const config::Config& config);

// Quotes one word for bash (single quotes; embedded quotes escaped).
std::string shell_quote(const std::string& word);

class SlurmBackend final : public Backend {
 public:
  explicit SlurmBackend(SlurmOptions options);
  std::string_view name() const override { return "slurm"; }
  void submit(JobStore& store, const JobRecord& job) override;
  void refresh(JobStore& store, std::int64_t job) override;
  void cancel(JobStore& store, std::int64_t job) override;

  // The batch script for a job's array (what submit() writes), for tests and --test-only.
  std::string array_script(const JobRecord& job, const std::vector<ChunkRecord>& chunks) const;
  // The sbatch argv for the array (script path last).
  std::vector<std::string> array_sbatch_argv(const JobRecord& job, std::size_t chunks,
                                             const std::filesystem::path& script) const;
  // How many sbatch calls this backend made (one per job array, one per verification job).
  unsigned sbatch_calls() const { return sbatch_calls_; }

 private:
  std::string run_sbatch(const std::vector<std::string>& argv);
  std::filesystem::path log_path(std::int64_t job, const std::string& what) const;
  SlurmOptions options_;
  unsigned sbatch_calls_ = 0;
};

}  // namespace rfarm::scheduler
