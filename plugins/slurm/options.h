#pragma once
// The rfarm options a user passes to srun/sbatch/salloc (--rfarm-account, --rfarm-job), checked
// and copied out of Slurm's buffers. Plain C++ with no Slurm types, so tests call it directly.
#include <string>
#include <string_view>

namespace rfarm::spank {

// Explicit limits: Slurm hands us arbitrary user strings; we accept only short, plain names.
inline constexpr std::size_t kMaxAccountLength = 64;
inline constexpr std::size_t kMaxJobIdLength = 64;

struct Options {
  std::string account;  // --rfarm-account: the rfarm token account the job charges
  std::string job;      // --rfarm-job: the rfarm job this Slurm job renders for
};

// Each returns an empty string when the value is acceptable, else a one-line reason for the user.
// Accounts: [a-z0-9][a-z0-9._-]*, at most kMaxAccountLength. Job ids: [A-Za-z0-9][A-Za-z0-9._-]*.
std::string check_account(std::string_view value);
std::string check_job_id(std::string_view value);

// The environment variables the plugin sets inside the job for what the user asked.
inline constexpr const char* kAccountEnv = "RFARM_ACCOUNT";
inline constexpr const char* kJobEnv = "RFARM_JOB_ID";

}  // namespace rfarm::spank
