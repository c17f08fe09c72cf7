// Re-render rounds on Slurm: the frames a verifier failed are rendered again as a new array after
// apply_verdicts (settlement.h) moved them into a rework chunk. Like the local backend's rounds, but
// the failing node is left out with --exclude when the partition has another node to render on.
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "scheduler/detail/process.h"
#include "scheduler/slurm/slurm_backend.h"

namespace rfarm::scheduler {
namespace fs = std::filesystem;

std::vector<std::string> SlurmBackend::partition_nodes(const std::string& partition) const {
  std::vector<std::string> argv = {options_.sinfo, "-h", "-N", "-o", "%N"};
  if (!partition.empty()) argv.insert(argv.end(), {"-p", partition});
  const auto r = detail::run_command(argv, options_.env);
  std::vector<std::string> nodes;
  if (r.exit_code != 0) return nodes;
  std::istringstream in(r.out);
  for (std::string n; std::getline(in, n);) {
    while (!n.empty() && (n.back() == ' ' || n.back() == '\r')) n.pop_back();
    if (!n.empty() && std::find(nodes.begin(), nodes.end(), n) == nodes.end()) nodes.push_back(n);
  }
  return nodes;
}

void SlurmBackend::resubmit(JobStore& store, std::int64_t job_id, std::uint32_t chunk_index) {
  const JobRecord job = store.get(job_id);
  const auto chunks = store.chunks(job_id);
  if (chunk_index >= chunks.size())
    throw Error(Error::Kind::Internal, "slurm backend: job " + std::to_string(job_id) + " has no chunk " + std::to_string(chunk_index));
  ChunkRecord chunk = chunks[chunk_index];
  std::uint32_t round = 0;
  std::string frames;
  for (const FrameRecord& f : store.frames(job_id)) {
    if (f.chunk != chunk_index) continue;
    round = f.round;
    // The rejected EXR must not be "resumed" (rfarm render skips a frame whose file validates):
    // keep it beside, for a dispute, under a name no render or verification reads.
    std::error_code ec;
    if (fs::exists(f.output, ec))
      fs::rename(f.output, f.output + ".rejected-r" + std::to_string(round == 0 ? 0 : round - 1), ec);
  }
  frames = chunk.frame_spec;

  // Leave the hosts whose frames failed out, unless that leaves no node to render on.
  std::vector<std::string> exclude;
  std::string placement;
  const std::vector<std::string> excluded = store.excluded_hosts(job_id);
  if (!excluded.empty()) {
    const std::vector<std::string> nodes = partition_nodes(job.request.partition);
    std::size_t others = 0;
    for (const auto& n : nodes) {
      if (std::find(excluded.begin(), excluded.end(), n) != excluded.end()) exclude.push_back(n);
      else ++others;
    }
    if (others == 0) {
      exclude.clear();
      placement = "; no other node in the partition, so on the same node(s) again";
    } else if (!exclude.empty()) {
      placement = "; excluding " + exclude.front() + (exclude.size() > 1 ? " and " + std::to_string(exclude.size() - 1) + " more" : "");
    }
  }

  const fs::path script = options_.work_dir / ("job-" + std::to_string(job_id) + "-chunk-" + std::to_string(chunk_index) + ".sh");
  try {
    write_file_atomically(script, array_script(job, {chunk}));
    fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
    // A stale log of this chunk index cannot exist (the index is new), but be explicit.
    std::error_code ec;
    fs::remove(chunk_log(job_id, chunk_index), ec);
    const std::string array_id = run_sbatch(array_sbatch_argv(job, std::to_string(chunk_index), round, exclude, script));
    chunk.state = State::Queued;
    chunk.backend_id = array_id + "_" + std::to_string(chunk_index);
    chunk.note = "round " + std::to_string(round) + " re-render of " + frames + placement;
    store.update_chunk(job_id, chunk);
    if (!options_.verify_command.empty() || options_.verifier) queue_verification(store, job, array_id, round, frames);
  } catch (const Error& e) {
    // Nothing will render these frames: fail the chunk (the job then fails and settles without them).
    chunk.state = State::Failed;
    chunk.note = std::string("re-render not queued: ") + e.what();
    store.update_chunk(job_id, chunk);
  }
}

}  // namespace rfarm::scheduler
