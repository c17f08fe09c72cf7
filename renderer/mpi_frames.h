#pragma once
// MPI for `rfarm render`: initialise MPI when needed (a plain run is an MPI singleton, so the
// same binary works alone, under mpirun -n N and under srun --mpi=pmix), and hand out frames
// dynamically through a shared counter on rank 0 (MPI_Fetch_and_op on a one-sided window):
// each rank takes the next frame index when it is free, so fast nodes render more frames. Which
// rank renders a frame never changes its pixels (the random numbers do not depend on it).
#include <cstdint>

#include <mpi.h>

namespace rfarm::render {

class MpiSession {
 public:
  MpiSession();   // MPI_Init_thread unless MPI is already initialised
  ~MpiSession();  // MPI_Finalize if this object initialised it
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  MPI_Comm comm() const { return MPI_COMM_WORLD; }

 private:
  bool owns_ = false;
  int rank_ = 0, size_ = 1;
};

class FrameCounter {
 public:
  explicit FrameCounter(MPI_Comm comm);  // collective
  ~FrameCounter();                       // collective (MPI_Win_free)
  FrameCounter(const FrameCounter&) = delete;
  FrameCounter& operator=(const FrameCounter&) = delete;
  // The next unclaimed index (0, 1, 2, ... across all ranks, each returned exactly once).
  std::int64_t next();

 private:
  MPI_Win win_ = MPI_WIN_NULL;
  std::int64_t* counter_ = nullptr;  // lives on rank 0
};

}  // namespace rfarm::render
