// rfarm_spank.so: the C ABI surface Slurm calls. Kept tiny (NVIDIA pyxis shape): every hook copies
// what Slurm hands it, delegates to plain C++ in rfarm_spank_hooks, catches every exception (none
// may cross into slurmstepd) and reports errors through slurm_error. Nothing here is slow or
// networked.
//
// Contexts: options are registered with spank_option_register() from slurm_spank_init in every
// context. A static spank_options table is not enough: Slurm 22.05's sbatch rejects such options as
// unrecognised, while registered ones work for srun, salloc, sbatch and #SBATCH lines alike.
// spank.h declares the hooks without C++ linkage guards.
extern "C" {
#include <slurm/spank.h>
}

#include <pwd.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugins/slurm/admission.h"
#include "plugins/slurm/ledger_balance.h"
#include "plugins/slurm/metering.h"
#include "plugins/slurm/options.h"
#include "plugins/slurm/plugin_args.h"

// What SPANK_PLUGIN(rfarm, 1) declares, spelled out so the symbols stay visible in a library built
// with hidden visibility (Slurm's loader looks them up by name).
#define RFARM_SPANK_EXPORT extern "C" __attribute__((visibility("default")))
RFARM_SPANK_EXPORT const char plugin_name[] = "rfarm";
RFARM_SPANK_EXPORT const char plugin_type[] = "spank";
RFARM_SPANK_EXPORT const unsigned int plugin_version = SLURM_VERSION_NUMBER;
RFARM_SPANK_EXPORT const unsigned int spank_plugin_version = 1;

namespace {

using rfarm::spank::Options;

// One process loads the plugin once; Slurm calls hooks from a single thread.
Options g_options;
rfarm::spank::PluginArgs g_args;
rfarm::spank::StepMeter g_meter;

// Reads an environment variable of the job (remote context) into a copy; "" when unset.
std::string job_env(spank_t sp, const char* name) {
  char buf[256];
  if (spank_getenv(sp, name, buf, sizeof buf) != ESPANK_SUCCESS) return {};
  buf[sizeof buf - 1] = '\0';
  return std::string(buf);
}

std::string short_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  std::string host(buf);
  return host.substr(0, host.find('.'));
}

std::string user_name(uid_t uid) {
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) != 0 || found == nullptr) return std::to_string(uid);
  return std::string(pw.pw_name);
}

template <typename T>
T item_or(spank_t sp, spank_item_t item, T fallback) {
  T value{};
  return spank_get_item(sp, item, &value) == ESPANK_SUCCESS ? value : fallback;
}

int on_account(int /*val*/, const char* optarg, int /*remote*/) noexcept {
  try {
    // optarg belongs to Slurm and is gone by the time the job runs: copy it.
    std::string value = optarg ? std::string(optarg) : std::string();
    if (std::string why = rfarm::spank::check_account(value); !why.empty()) {
      slurm_error("rfarm: %s", why.c_str());
      return -1;
    }
    g_options.account = std::move(value);
    return 0;
  } catch (const std::exception& e) {
    slurm_error("rfarm: --rfarm-account: %s", e.what());
    return -1;
  } catch (...) {
    return -1;
  }
}

int on_job(int /*val*/, const char* optarg, int /*remote*/) noexcept {
  try {
    std::string value = optarg ? std::string(optarg) : std::string();
    if (std::string why = rfarm::spank::check_job_id(value); !why.empty()) {
      slurm_error("rfarm: %s", why.c_str());
      return -1;
    }
    g_options.job = std::move(value);
    return 0;
  } catch (const std::exception& e) {
    slurm_error("rfarm: --rfarm-job: %s", e.what());
    return -1;
  } catch (...) {
    return -1;
  }
}

// spank_option_register takes non-const char*: keep the strings in writable static storage.
char k_account_name[] = "rfarm-account";
char k_account_arginfo[] = "NAME";
char k_account_usage[] = "Charge this rfarm token account for the job (default: your default account)";
char k_job_name[] = "rfarm-job";
char k_job_arginfo[] = "ID";
char k_job_usage[] = "The rfarm render job this Slurm job works for (set by rfarm submit)";

struct spank_option g_account_option = {k_account_name, k_account_arginfo, k_account_usage, 1, 0, on_account};
struct spank_option g_job_option = {k_job_name, k_job_arginfo, k_job_usage, 1, 0, on_job};

}  // namespace

RFARM_SPANK_EXPORT int slurm_spank_init(spank_t sp, int ac, char** av) {
  try {
    std::vector<std::string> args;
    for (int i = 0; i < ac; ++i) args.emplace_back(av[i] ? av[i] : "");
    if (std::string why = rfarm::spank::parse_plugin_args(args, g_args); !why.empty()) {
      slurm_error("rfarm: %s", why.c_str());
      return -1;
    }
    if (spank_option_register(sp, &g_account_option) != ESPANK_SUCCESS ||
        spank_option_register(sp, &g_job_option) != ESPANK_SUCCESS) {
      slurm_error("rfarm: could not register the --rfarm-* options");
      return -1;
    }
    // In slurmstepd, start the step's meter: its clock starts now, and a node that cannot sign
    // usage refuses the step rather than run it unmetered (fail closed).
    if (spank_remote(sp) && g_args.metering()) {
      if (std::string why = g_meter.start(g_args, rfarm::spank::unix_now_ms()); !why.empty()) {
        slurm_error("rfarm: metering: %s", why.c_str());
        return -1;
      }
    }
    return 0;
  } catch (...) {
    slurm_error("rfarm: unexpected error in slurm_spank_init");
    return -1;
  }
}

// Remote context, in slurmstepd before the task runs: publish the user's choices to the job.
RFARM_SPANK_EXPORT int slurm_spank_user_init(spank_t sp, int /*ac*/, char** /*av*/) {
  try {
    if (!g_options.account.empty() &&
        spank_setenv(sp, rfarm::spank::kAccountEnv, g_options.account.c_str(), 1) != ESPANK_SUCCESS) {
      slurm_error("rfarm: could not set %s in the job environment", rfarm::spank::kAccountEnv);
      return -1;
    }
    if (!g_options.job.empty() &&
        spank_setenv(sp, rfarm::spank::kJobEnv, g_options.job.c_str(), 1) != ESPANK_SUCCESS) {
      slurm_error("rfarm: could not set %s in the job environment", rfarm::spank::kJobEnv);
      return -1;
    }
    return 0;
  } catch (...) {
    slurm_error("rfarm: unexpected error in slurm_spank_user_init");
    return -1;
  }
}

// After options are parsed, in every context: admission control when config= is given.
// srun/sbatch/salloc (local/allocator): the full check, before anything is queued. slurmstepd
// (remote): the same account rules again from the node's rfarm.yaml, without the ledger, so a
// user who skips the check on the submit host is still refused on the node; it also resolves the
// default account for metering.
RFARM_SPANK_EXPORT int slurm_spank_init_post_opt(spank_t sp, int /*ac*/, char** /*av*/) {
  try {
    if (g_args.config_path.empty()) return 0;
    const spank_context_t ctx = spank_context();
    const bool remote = spank_remote(sp);
    if (!remote && ctx != S_CTX_LOCAL && ctx != S_CTX_ALLOCATOR) return 0;

    rfarm::config::Config config;
    try {
      config = rfarm::config::load_config(g_args.config_path);
    } catch (const std::exception& e) {
      slurm_error("rfarm: cannot use %s: %s", g_args.config_path.c_str(), e.what());
      return -1;  // a broken site configuration refuses rfarm jobs rather than charge wrongly
    }
    const uid_t uid = remote ? item_or<uid_t>(sp, S_JOB_UID, getuid()) : getuid();
    rfarm::spank::AdmissionRequest request{g_options.account, user_name(uid)};
    // The funds check reads the ledger on the submit host only; slurmstepd never touches it.
    rfarm::spank::LedgerBalanceReader ledger(config.ledger);
    const rfarm::spank::AdmissionDecision d = rfarm::spank::decide_admission(
        config, request, remote ? nullptr : &ledger, g_args.on_ledger_error);
    if (!d.admit) {
      slurm_error("rfarm: %s", d.reason.c_str());
      return -1;
    }
    if (!d.reason.empty()) slurm_info("rfarm: %s", d.reason.c_str());
    g_options.account = d.account;
    return 0;
  } catch (const std::exception& e) {
    slurm_error("rfarm: admission check failed: %s", e.what());
    return -1;
  } catch (...) {
    slurm_error("rfarm: unexpected error in slurm_spank_init_post_opt");
    return -1;
  }
}

// Remote context, in slurmstepd, once per task that ends: remember its exit status.
RFARM_SPANK_EXPORT int slurm_spank_task_exit(spank_t sp, int /*ac*/, char** /*av*/) {
  try {
    if (!spank_remote(sp) || !g_meter.active()) return 0;
    int status = 0;
    if (spank_get_item(sp, S_TASK_EXIT_STATUS, &status) == ESPANK_SUCCESS) g_meter.task_exited(status);
    return 0;
  } catch (...) {
    slurm_error("rfarm: unexpected error in slurm_spank_task_exit");
    return 0;
  }
}

// Remote context, in slurmstepd at the end of the step: write the signed usage record. Only steps
// that charge an rfarm account are metered; a failure is logged and never fails the finished step.
RFARM_SPANK_EXPORT int slurm_spank_exit(spank_t sp, int /*ac*/, char** /*av*/) {
  try {
    if (!spank_remote(sp) || !g_meter.active() || g_options.account.empty()) return 0;
    rfarm::UsageRecord r;
    r.cluster = job_env(sp, "SLURM_CLUSTER_NAME");
    r.node = short_hostname();
    r.job_id = item_or<std::uint32_t>(sp, S_JOB_ID, 0);
    r.step_id = item_or<std::uint32_t>(sp, S_JOB_STEPID, 0);
    r.array_job_id = item_or<std::uint32_t>(sp, S_JOB_ARRAY_ID, 0);
    r.array_task_id = item_or<std::uint32_t>(sp, S_JOB_ARRAY_TASK_ID, 0);
    // Outside an array Slurm reports task NO_VAL (0xfffffffe), and the job id as the array id.
    if (r.array_task_id == 0xfffffffe) r.array_job_id = r.array_task_id = 0;
    r.uid = static_cast<std::uint32_t>(item_or<uid_t>(sp, S_JOB_UID, 0));
    r.account = g_options.account;
    r.rfarm_job = g_options.job;
    r.cpus = item_or<std::uint16_t>(sp, S_JOB_NCPUS, 0);
    r.batch_job = job_env(sp, "ENVIRONMENT") == "BATCH";  // sbatch sets it for the script and its steps
    const std::string gpus = job_env(sp, "SLURM_GPUS_ON_NODE");
    r.gpus = gpus.empty() ? 0 : static_cast<std::uint32_t>(std::strtoul(gpus.c_str(), nullptr, 10));
    if (std::string why = g_meter.finish(std::move(r), rfarm::spank::unix_now_ms()); !why.empty()) {
      slurm_error("rfarm: metering: %s", why.c_str());
    }
    return 0;
  } catch (...) {
    slurm_error("rfarm: unexpected error in slurm_spank_exit");
    return 0;
  }
}
