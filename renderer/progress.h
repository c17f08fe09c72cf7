#pragma once
// Render progress: on a terminal a one-line bar (frames done, samples/s, ETA) redrawn in place;
// otherwise (logs, Slurm output files) one plain line per frame.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "renderer/render.h"

namespace rfarm::render {

class Progress {
 public:
  Progress(std::ostream& out, ProgressMode mode, std::size_t total_frames, int rank, int ranks);
  void frame_done(const FrameResult& r);
  // Redraws the bar mid-frame: `samples` of `total` samples of the current frame are done.
  // Called from one monitoring thread while the frame renders (nothing else writes meanwhile).
  void frame_partial(std::uint64_t samples, std::uint64_t total);
  void finish();
  bool bar() const { return bar_; }

 private:
  void draw(std::uint64_t partial_samples, std::uint64_t partial_total);
  std::ostream& out_;
  bool bar_ = false, quiet_ = false;
  std::size_t total_, done_ = 0;
  int rank_, ranks_;
  std::uint64_t samples_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace rfarm::render
