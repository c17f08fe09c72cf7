#include "scheduler/backlog.h"

#include <system_error>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "scheduler/detail/sqlite.h"
#include "scheduler/job_store.h"

namespace rfarm::scheduler {

Backlog read_backlog(const std::filesystem::path& state_dir) {
  Backlog out;
  const std::filesystem::path file = state_dir / kJobStoreFile;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return out;  // nothing was ever queued here
  detail::Database db(file, /*read_only=*/true);
  sqlite3_busy_timeout(db.handle(), 2'000);
  // Render work only: a job rendered (or being verified) has none left here.
  detail::Statement st = db.prepare(
      "SELECT id, quote, frame_count, "
      "(SELECT COUNT(*) FROM frames f WHERE f.job_id = jobs.id AND f.state IN ('rendered', 'verified')) "
      "FROM jobs WHERE state IN ('pending', 'queued', 'running')");
  while (st.step()) {
    std::uint64_t seconds = 0;
    std::string key;
    try {
      const nlohmann::json q = nlohmann::json::parse(st.text(1));
      seconds = q.at("render_device_seconds").get<std::uint64_t>();
      key = q.at("price_key").get<std::string>();
    } catch (const nlohmann::json::exception& e) {
      throw Error(Error::Kind::Integrity, "job store " + file.string() + ": job " + std::to_string(st.int64(0)) +
                                              "'s quote does not parse: " + e.what());
    }
    const std::uint64_t frames = static_cast<std::uint64_t>(st.int64(2));
    const std::uint64_t done = static_cast<std::uint64_t>(st.int64(3));
    if (frames == 0 || done >= frames) continue;
    // The job's device-seconds shared evenly over its frames, rounded up (128-bit: no overflow).
    __extension__ typedef unsigned __int128 U128;
    const U128 left = (static_cast<U128>(seconds) * (frames - done) + frames - 1) / frames;
    std::uint64_t& sum = out.device_seconds[key];
    const U128 total = static_cast<U128>(sum) + left;
    sum = total > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(total);
    ++out.jobs;
  }
  return out;
}

}  // namespace rfarm::scheduler
