// Settlement input on Slurm: each chunk's device-milliseconds from the SPANK plugin's signed usage
// records, as ingested into the ledger (`rfarm ledger ingest`, or deferred settlement's own
// ingest), never from the quote. The element's log names the Slurm job that ran it; the ledger's
// usage events of that Slurm job under the round's ledger job (--rfarm-job) are its usage
// (ledger/job_usage.h: the batch step spans the allocation on its node).
//
// When are a chunk's records complete? Each node writes a record when each step on it ends; the
// batch step ends last (after every srun step inside it), so its record is the last of its node.
// A chunk is complete when the batch step's record is in and every node of the allocation (the
// element's log says how many) sent a record. Until then a waiting pass leaves it unmetered-for-now.
#include <map>

#include "scheduler/settlement.h"
#include "scheduler/slurm/element_log.h"
#include "scheduler/slurm/slurm_backend.h"

namespace rfarm::scheduler {

namespace {

// Drops an earlier "unmetered: ..." part of a chunk note (usage arrived since).
void drop_unmetered_note(std::string& note) {
  if (const auto at = note.find("unmetered: "); at != std::string::npos)
    note.erase(at >= 2 && note.compare(at - 2, 2, "; ") == 0 ? at - 2 : at);
}

}  // namespace

void SlurmBackend::meter(JobStore& store, Escrow& escrow, std::int64_t job_id, MeterPass pass) {
  const JobRecord job = store.get(job_id);
  std::map<std::uint32_t, std::uint32_t> round_of;  // chunk -> the round its frames are in
  for (const FrameRecord& f : store.frames(job_id)) round_of.emplace(f.chunk, f.round);
  // One ledger query per round's ledger job, not one per chunk.
  std::map<std::string, std::map<std::uint32_t, MeteredJobUsage>> usage;
  std::vector<ChunkRecord> changed;
  for (ChunkRecord c : store.chunks(job_id)) {
    // Settled inputs do not move: metered, or unmetered by a final pass (a later record must not
    // change what a settlement that may already be posted charged).
    if (c.usage_source == "metered" || c.usage_source == "unmetered") continue;
    const ElementLog log = read_element_log(chunk_log(job_id, c.index), c.index);
    if (!log.exists && c.attempts == 0) continue;  // never ran: nothing to charge
    const std::string ledger_job = ledger_job_id(job, round_of[c.index]);
    std::string why;
    if (!log.slurm_job) {
      why = "the element's log names no Slurm job, so its usage records cannot be found";
    } else {
      auto at = usage.find(ledger_job);
      if (at == usage.end()) at = usage.emplace(ledger_job, escrow.usage_by_slurm_job(ledger_job, job.quote.gpu)).first;
      const auto it = at->second.find(*log.slurm_job);
      const MeteredJobUsage u = it == at->second.end() ? MeteredJobUsage{} : it->second;
      const std::size_t nodes = std::max<std::uint32_t>(1, log.nodes);
      const bool complete = u.allocation && u.nodes >= nodes;
      if (u.records > 0 && u.device_ms > 0 && (complete || pass == MeterPass::final)) {
        c.device_ms = u.device_ms;
        c.usage_source = "metered";
        drop_unmetered_note(c.note);
        if (!complete) {
          c.note += std::string(c.note.empty() ? "" : "; ") + "metered from the records that arrived in time (" +
                    std::to_string(u.nodes) + " of " + std::to_string(nodes) + " node(s)" +
                    (u.allocation ? "" : ", no batch-step record") + ")";
        }
        changed.push_back(c);
        continue;
      }
      if (pass == MeterPass::waiting) continue;  // still waiting for them
      why = "no usage record for Slurm job " + std::to_string(*log.slurm_job) + " (--rfarm-job=" + ledger_job +
            ") in the ledger by the end of the grace period: ingest the nodes' spools (rfarm ledger ingest)";
    }
    if (pass == MeterPass::waiting) continue;
    c.usage_source = "unmetered";
    c.device_ms = 0;
    drop_unmetered_note(c.note);
    const std::string note = "unmetered: " + why + "; not charged";
    c.note = c.note.empty() ? note : c.note + "; " + note;
    changed.push_back(c);
  }
  if (!changed.empty()) store.update_chunks(job_id, changed);
}

}  // namespace rfarm::scheduler
