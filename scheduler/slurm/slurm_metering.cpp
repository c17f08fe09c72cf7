// Settlement input on Slurm: each chunk's device-milliseconds from the SPANK plugin's signed usage
// records, as ingested into the ledger (`rfarm ledger ingest`), never from the quote. The element's
// log names the Slurm job that ran it; the ledger's usage events of that Slurm job under the
// round's ledger job (--rfarm-job) are its usage (ledger/job_usage.h: the batch step spans the
// allocation on its node).
#include <map>

#include "scheduler/settlement.h"
#include "scheduler/slurm/element_log.h"
#include "scheduler/slurm/slurm_backend.h"

namespace rfarm::scheduler {

void SlurmBackend::meter(JobStore& store, Escrow& escrow, std::int64_t job_id) {
  const JobRecord job = store.get(job_id);
  std::map<std::uint32_t, std::uint32_t> round_of;  // chunk -> the round its frames are in
  for (const FrameRecord& f : store.frames(job_id)) round_of.emplace(f.chunk, f.round);
  std::vector<ChunkRecord> changed;
  for (ChunkRecord c : store.chunks(job_id)) {
    if (c.usage_source == "metered") continue;  // settled inputs do not move
    const ElementLog log = read_element_log(chunk_log(job_id, c.index), c.index);
    if (!log.exists && c.attempts == 0) continue;  // never ran: nothing to charge
    const std::string ledger_job = ledger_job_id(job, round_of[c.index]);
    std::string why;
    if (!log.slurm_job) {
      why = "the element's log names no Slurm job, so its usage records cannot be found";
    } else {
      const MeteredJobUsage u = escrow.job_usage(ledger_job, *log.slurm_job, job.quote.gpu);
      if (u.records > 0 && u.device_ms > 0) {
        c.device_ms = u.device_ms;
        c.usage_source = "metered";
        // Usage ingested since an earlier look: the chunk is no longer unmetered.
        if (const auto at = c.note.find("unmetered: "); at != std::string::npos)
          c.note.erase(at >= 2 && c.note.compare(at - 2, 2, "; ") == 0 ? at - 2 : at);
        changed.push_back(c);
        continue;
      }
      why = "no usage record for Slurm job " + std::to_string(*log.slurm_job) + " (--rfarm-job=" + ledger_job +
            ") in the ledger: ingest the nodes' spools (rfarm ledger ingest) before the job settles";
    }
    const std::string note = "unmetered: " + why + "; not charged";
    if (c.usage_source == "unmetered" && c.note.find(note) != std::string::npos) continue;
    c.usage_source = "unmetered";
    c.device_ms = 0;
    c.note = c.note.empty() ? note : c.note + "; " + note;
    changed.push_back(c);
  }
  if (!changed.empty()) store.update_chunks(job_id, changed);
}

}  // namespace rfarm::scheduler
