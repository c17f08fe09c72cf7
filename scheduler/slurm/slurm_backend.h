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
  // Whether the cluster runs rfarm's SPANK plugin with metering, so the arrays carry
  // --rfarm-account/--rfarm-job and each element's usage records name the job; nullopt: detect
  // (`sbatch --help` lists --rfarm-job when the plugin is loaded).
  std::optional<bool> metering;
  std::string sbatch = "sbatch", squeue = "squeue", scancel = "scancel", sinfo = "sinfo";
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
  // A re-render round (slurm_rework.cpp): the chunk's frames, their rejected EXRs moved aside, as a
  // one-element array (task id = the chunk's index) excluding the job's excluded hosts when the
  // partition has another node, and a verification job for that round after it.
  void resubmit(JobStore& store, std::int64_t job, std::uint32_t chunk) override;
  // Each chunk that ran is charged from the usage records the ledger ingested for the Slurm job
  // that ran it (its element log names it): usage_source "metered" once they are complete (the
  // batch step's record and one from each of its nodes), or on the final pass whatever arrived;
  // none on the final pass: "unmetered", noted, not charged (slurm_metering.cpp).
  void meter(JobStore& store, Escrow& escrow, std::int64_t job, MeterPass pass) override;
  // With the SPANK plugin's metering (--rfarm-job on the arrays) records arrive after the chunks.
  bool awaits_usage() const override { return metering(); }

  // The batch script for a job's array (what submit() writes), for tests and --test-only.
  std::string array_script(const JobRecord& job, const std::vector<ChunkRecord>& chunks) const;
  // The sbatch argv for the array (script path last).
  std::vector<std::string> array_sbatch_argv(const JobRecord& job, std::size_t chunks,
                                             const std::filesystem::path& script) const;
  // The same for any array spec ("0-5", or "6" for a re-render round), round and excluded hosts.
  std::vector<std::string> array_sbatch_argv(const JobRecord& job, const std::string& array, std::uint32_t round,
                                             const std::vector<std::string>& exclude,
                                             const std::filesystem::path& script) const;
  // The nodes of the job's partition (all nodes when none is named), from sinfo; empty when unknown.
  std::vector<std::string> partition_nodes(const std::string& partition) const;
  // How many sbatch calls this backend made (one per job array, one per verification job).
  unsigned sbatch_calls() const { return sbatch_calls_; }

 private:
  std::string run_sbatch(const std::vector<std::string>& argv);
  std::filesystem::path log_path(std::int64_t job, const std::string& what) const;
  std::filesystem::path chunk_log(std::int64_t job, std::uint32_t chunk) const;
  void queue_verification(JobStore& store, const JobRecord& job, const std::string& array_id, std::uint32_t round,
                          const std::string& frames);
  bool metering() const;
  SlurmOptions options_;
  mutable std::optional<bool> metering_;
  unsigned sbatch_calls_ = 0;
};

}  // namespace rfarm::scheduler
