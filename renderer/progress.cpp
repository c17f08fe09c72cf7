#include "renderer/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace rfarm::render {
namespace {
std::string rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) std::snprintf(buf, sizeof buf, "%.2f M", per_second / 1e6);
  else if (per_second >= 1e3) std::snprintf(buf, sizeof buf, "%.1f k", per_second / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f ", per_second);
  return buf;
}
}  // namespace

Progress::Progress(std::ostream& out, ProgressMode mode, std::size_t total, int rank, int ranks)
    : out_(out), total_(total), rank_(rank), ranks_(ranks) {
  quiet_ = mode == ProgressMode::Quiet;
  bar_ = mode == ProgressMode::Bar || (mode == ProgressMode::Auto && ranks == 1 && ::isatty(STDERR_FILENO));
}

void Progress::frame_done(const FrameResult& r) {
  ++done_;
  samples_ += r.samples;
  if (quiet_) return;
  if (bar_) {
    draw(0, 0);
    return;
  }
  char buf[512];
  std::string who = ranks_ > 1 ? "[rank " + std::to_string(rank_) + "] " : "";
  if (r.skipped)
    std::snprintf(buf, sizeof buf, "rfarm render: %sframe %lld skipped: %s already complete (use --overwrite to re-render)\n",
                  who.c_str(), static_cast<long long>(r.frame), r.path.c_str());
  else
    std::snprintf(buf, sizeof buf, "rfarm render: %sframe %lld done in %.2f s on %s (%ssamples/s, %zu/%zu) -> %s\n",
                  who.c_str(), static_cast<long long>(r.frame), r.seconds, r.device.c_str(),
                  rate(r.seconds > 0 ? static_cast<double>(r.samples) / r.seconds : 0).c_str(), done_, total_,
                  r.path.c_str());
  out_ << buf << std::flush;
}

void Progress::frame_partial(std::uint64_t samples, std::uint64_t total) {
  if (bar_ && !quiet_) draw(samples, total);
}

// The bar counts finished frames plus the finished share of the current one; the rate and ETA
// come from all samples so far.
void Progress::draw(std::uint64_t partial_samples, std::uint64_t partial_total) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double fraction = partial_total ? static_cast<double>(partial_samples) / static_cast<double>(partial_total) : 0;
  double done = static_cast<double>(done_) + fraction;
  const int width = 30;
  int filled = total_ ? static_cast<int>(width * done / static_cast<double>(total_)) : width;
  double eta = done > 0 ? elapsed / done * (static_cast<double>(total_) - done) : 0;
  char buf[200];
  std::snprintf(buf, sizeof buf, "\r[%-*s] %zu/%zu frames  %ssamples/s  ETA %02d:%02d:%02d ", width,
                std::string(static_cast<std::size_t>(std::min(filled, width)), '#').c_str(), done_, total_,
                rate(elapsed > 0 ? static_cast<double>(samples_ + partial_samples) / elapsed : 0).c_str(),
                static_cast<int>(eta) / 3600, static_cast<int>(eta) / 60 % 60, static_cast<int>(eta) % 60);
  out_ << buf << std::flush;
}

void Progress::finish() {
  if (bar_ && !quiet_) out_ << "\n" << std::flush;
}

}  // namespace rfarm::render
