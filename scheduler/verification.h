#pragma once
// Verification of a job's frames by `rfarm verify` in ledger mode, and the local backend's whole
// flow: render -> commit -> verify -> apply verdicts (slash, exclude, re-render failed frames as a
// new round) -> ... until every frame passed or rounds ran out. The Slurm backend runs the same
// verify command in its low-priority verification job (afterok on the render array).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "scheduler/escrow.h"
#include "scheduler/job_store.h"

namespace rfarm::scheduler {

class LocalBackend;

// Where verdicts go: the ledger database and the verifier account recording them.
struct VerifierSetup {
  std::vector<std::string> program;       // the rfarm binary (argv prefix before "verify")
  std::string ledger;                     // ledger database path
  std::string verifier;                   // verifier account name
  std::map<std::string, std::string> env; // added to the command's environment
};

// The verifier account: the first account of kind verifier in rfarm.yaml, or "" (no verification).
std::string verifier_account(const config::Config& config);

// `PROGRAM verify --job <ledger job> --ledger L --verifier V --record --scene S --frames SPEC
//  --renders PATTERN --resolution WxH --spp N --max-depth N --tile-size N
//  (--device cpu --threads C | --device auto)`: the render's device path (see verification.cpp).
std::vector<std::string> verify_argv(const VerifierSetup& setup, const JobRecord& job, std::uint32_t round,
                                     const std::string& frames);

// Runs the verify command for round `round` of `frames`; returns its exit status (0: all passed,
// 5: some failed, both with verdicts recorded; anything else: verification could not run). Output
// goes to `log`.
using VerifyRunner = std::function<int(const JobRecord& job, std::uint32_t round, const std::string& frames)>;
VerifyRunner command_verify_runner(VerifierSetup setup, std::filesystem::path log_dir);

// Drives a local job to its end: run its chunks, commit the rendered frames, verify each round
// (when `verify` is set), apply the verdicts, and re-render failed frames until they pass or
// kMaxVerificationRounds is reached. Returns the final record (not yet settled).
JobRecord run_local_job(JobStore& store, LocalBackend& backend, Escrow& escrow, const config::Config& config,
                        std::int64_t job, const VerifyRunner& verify);

}  // namespace rfarm::scheduler
