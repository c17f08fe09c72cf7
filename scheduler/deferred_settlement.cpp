// Deferred settlement (submit.h settle_when_metered): a finished Slurm job waits for its chunks'
// usage records for up to cluster.usage_grace_seconds before the chunks still without one settle
// unmetered. Why a wait at all: the SPANK plugin writes a chunk's records when its steps end, on
// each node, into a spool that reaches the ledger only when ingested; settling the moment the
// render is verified would settle most chunks unmetered (the provider unpaid, the hold voided).
// Why one settlement, not one per chunk: the hold is a two-phase transfer, posted once (the post
// releases the rest), so the job settles when all its chunks are metered or the grace is over.
#include <chrono>
#include <ctime>

#include "scheduler/charges.h"
#include "scheduler/submit.h"

namespace rfarm::scheduler {

namespace {

// The note's own text has no "; ": messages are "; "-separated parts, and it replaces its own part.
constexpr std::string_view kAwaitingNote = "awaiting usage records";

// The job's message without an earlier "awaiting usage records ..." part.
std::string without_awaiting_note(const std::string& message) {
  std::string out;
  std::size_t from = 0;
  while (from <= message.size()) {
    std::size_t end = message.find("; ", from);
    if (end == std::string::npos) end = message.size();
    const std::string part = message.substr(from, end - from);
    if (!part.empty() && part.rfind(kAwaitingNote, 0) != 0) out += (out.empty() ? "" : "; ") + part;
    from = end + 2;
  }
  return out;
}

std::string utc_time(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return text;
}

// "1,3,7", or the first 20 and how many more (a 10,000-chunk job must not make a 50 KB message).
std::string chunk_list(const std::vector<std::uint32_t>& chunks) {
  constexpr std::size_t kShown = 20;
  std::string list;
  for (std::size_t k = 0; k < chunks.size() && k < kShown; ++k) list += (list.empty() ? "" : ",") + std::to_string(chunks[k]);
  if (chunks.size() > kShown) list += " and " + std::to_string(chunks.size() - kShown) + " more";
  return list;
}

}  // namespace

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool settle_when_metered(JobStore& store, Backend& backend, Escrow& escrow, const config::Config& config,
                         std::int64_t id, std::int64_t now) {
  const JobRecord job = store.get(id);
  if (!job.hold) return false;  // settled before (or never held): nothing to do, nothing twice
  backend.meter(store, escrow, id, MeterPass::waiting);
  std::vector<std::uint32_t> missing = job_charges(store, id).unmetered;
  const bool may_wait = backend.awaits_usage() && config.cluster.usage_grace_seconds > 0;
  std::string problem;
  if (!missing.empty() && may_wait) {
    // The records may be in the spool, not yet in the ledger: ingest, then look again.
    const UsageIngestResult in = escrow.ingest_usage();
    problem = in.problem;
    backend.meter(store, escrow, id, MeterPass::waiting);
    missing = job_charges(store, id).unmetered;
  }
  if (!missing.empty() && may_wait) {
    const std::int64_t since = job.usage_wait_since > 0 ? job.usage_wait_since : now;
    if (job.usage_wait_since == 0) store.set_usage_wait(id, since);
    const std::int64_t deadline = since + config.cluster.usage_grace_seconds;
    if (now < deadline) {
      const std::size_t chunks = store.chunks(id).size();
      std::string note = std::string(kAwaitingNote) + " of chunk(s) " + chunk_list(missing) + " (" +
                         std::to_string(missing.size()) + " of " + std::to_string(chunks) +
                         " chunks without usage), to settle unmetered (not charged) after " + utc_time(deadline);
      if (!problem.empty()) {
        for (auto at = problem.find("; "); at != std::string::npos; at = problem.find("; ", at)) problem[at] = ',';
        note += " (" + problem + ")";
      }
      const JobRecord now_job = store.get(id);
      const std::string rest = without_awaiting_note(now_job.message);
      const std::string message = rest.empty() ? note : rest + "; " + note;
      if (message != now_job.message) store.set_message(id, message);
      return false;
    }
  }
  // Everything is in, or the grace is over (or there is nothing to wait for): settle for good.
  backend.meter(store, escrow, id, MeterPass::final);
  const JobRecord before = store.get(id);
  const std::string rest = without_awaiting_note(before.message);
  if (rest != before.message) store.set_message(id, rest);
  settle_job(store, escrow, config, id);
  return true;
}

}  // namespace rfarm::scheduler
