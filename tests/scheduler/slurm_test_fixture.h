#pragma once
// The Slurm backend's unit-test fixture: stand-in sbatch (records each call, prints ids 4242,
// 4243, ...), squeue (prints array.state, or verify.state for job 4243), sinfo and scancel, and a
// job store.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "scheduler/job_store.h"
#include "scheduler/plan.h"
#include "scheduler/slurm/slurm_backend.h"
#include "scheduler/submit.h"
#include "scheduler_test_util.h"

namespace rfarm::scheduler::test {

using rfarm::testing::TempDir;
using rfarm::testing::write_file;

inline std::filesystem::path slurm_executable(const std::filesystem::path& p, const std::string& text) {
  write_file(p, text);
  std::filesystem::permissions(p, std::filesystem::perms::owner_all);
  return p;
}

struct SlurmFixture {
  TempDir dir;
  JobStore store{dir / "state"};
  std::filesystem::path calls = dir / "sbatch.calls";
  SlurmFixture() {
    // sbatch: one line per call with its arguments; job ids 4242, 4243, ...
    slurm_executable(dir / "sbatch", "#!/bin/bash\nn=$(cat '" + (dir / "n").string() + "' 2>/dev/null || echo 4242)\n"
               "echo \"$n\" > '" + (dir / "n").string() + ".tmp'; echo $((n + 1)) > '" + (dir / "n").string() + "'\n"
               "printf '%s\\n' \"$*\" >> '" + calls.string() + "'\n"
               "[ -n \"$SBATCH_FAIL\" ] && { echo 'sbatch: error: invalid partition' >&2; exit 1; }\n"
               "echo \"$n;testcluster\"\n");
    // squeue -j ID: state-ID when the test wrote one (re-render rounds), else by id as before.
    slurm_executable(dir / "squeue", "#!/bin/bash\nprintf '%s\\n' \"$*\" >> '" + (dir / "squeue.calls").string() + "'\n"
               "for a in \"$@\"; do [ \"$prev\" = -j ] && j=$a; prev=$a; done\n"
               "[ -e '" + dir.path().string() + "/state-'$j ] && { cat '" + dir.path().string() + "/state-'$j; exit 0; }\n"
               "case \"$*\" in *4243*) cat '" + (dir / "verify.state").string() + "' 2>/dev/null;; "
               "*) cat '" + (dir / "array.state").string() + "' 2>/dev/null;; esac\n");
    // sinfo -N: the nodes in $FAKE_NODES (one per line), else one node.
    slurm_executable(dir / "sinfo", "#!/bin/bash\nprintf '%s\\n' ${FAKE_NODES:-testhost}\n");
    slurm_executable(dir / "scancel", "#!/bin/bash\nprintf '%s\\n' \"$*\" >> '" + (dir / "scancel.calls").string() + "'\n");
  }
  SlurmOptions options(std::vector<std::string> verify = {"/usr/bin/true"}) {
    SlurmOptions o;
    o.program = {"/opt/rfarm/bin/rfarm"};
    o.work_dir = dir / "work";
    o.verify_command = std::move(verify);
    o.verify_partition = "verify";
    o.verify_qos = "low";
    o.sbatch = (dir / "sbatch").string();
    o.squeue = (dir / "squeue").string();
    o.scancel = (dir / "scancel").string();
    o.sinfo = (dir / "sinfo").string();
    o.inspect = test::fake_inspect;
    o.metering = false;  // no SPANK plugin (and no `sbatch --help` call to count)
    return o;
  }
  // Writes the fake renderer's frames a..b (what a real element would have left on disk).
  void frames(int a, int b) {
    std::filesystem::create_directories(dir / "out");
    for (int f = a; f <= b; ++f)
      write_file(output_for_frame((dir / "out" / "frame_####.exr").string(), f), "rfarm-fake-frame " + std::to_string(f) + "\n");
  }
  JobRecord create(const std::string& frames, std::uint32_t chunk) {
    auto r = test::small_request(dir / "out", frames, chunk);
    r.ntasks = 2;
    r.partition = "render";
    r.nice = 5;
    return store.create(plan_job(r, test::test_config()), "slurm");
  }
  std::vector<std::string> sbatch_calls() {
    std::ifstream in(calls);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }
};

// A submitted 8-frame job (chunks 1-4 and 5-8) on the stand-in Slurm with a MemoryEscrow, for the
// settlement tests: what a finished array leaves behind is written by rendered().
struct SlurmJob {
  SlurmFixture f;
  MemoryEscrow escrow;
  config::Config cfg = test_config();
  std::unique_ptr<SlurmBackend> backend;
  JobRecord job;

  explicit SlurmJob(bool metering, const std::map<std::string, std::string>& env = {}) {
    SlurmOptions o = f.options();
    o.metering = metering;
    for (const auto& [k, v] : env) o.env[k] = v;
    backend = std::make_unique<SlurmBackend>(o);
    escrow.deposit("studio", Amount(100'000));
    job = submit_job(plan_job(small_request(f.dir / "out", "1-8", 4), cfg), cfg, f.store, *backend, escrow);
  }
  std::filesystem::path log(std::uint32_t chunk) const {
    return f.dir / "work" / ("job-" + std::to_string(job.id) + "-chunk-" + std::to_string(chunk) + ".log");
  }
  // Element `chunk` ran as Slurm job `slurm_job` on `nodes` node(s) and rendered its frames.
  void element_rendered(std::uint32_t chunk, std::uint32_t slurm_job, const std::string& spec, unsigned nodes = 1) {
    const std::string c = "rfarm: chunk " + std::to_string(chunk) + " ";
    write_file(log(chunk), c + "slurm job " + std::to_string(slurm_job) + "\n" + c + "nodes " + std::to_string(nodes) +
                               "\n" + c + "attempt 1 frames " + spec + "\n" + c + "rendered\n");
  }
  // Both elements completed (as Slurm jobs 5000 and 5001) with frames 1-8 on disk, the
  // verification job in `verify_state` (squeue's word); the job store refreshed.
  void rendered(const std::string& verify_state = "COMPLETED") {
    write_file(f.dir / "array.state", "4242_0|COMPLETED\n4242_1|COMPLETED\n");
    write_file(f.dir / "verify.state", verify_state + "\n");
    f.frames(1, 8);
    element_rendered(0, 5000, "1-4");
    element_rendered(1, 5001, "5-8");
    backend->refresh(f.store, job.id);
  }
};

}  // namespace rfarm::scheduler::test
