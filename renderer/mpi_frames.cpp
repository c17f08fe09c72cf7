#include "renderer/mpi_frames.h"

#include "core/error.h"

namespace rfarm::render {

MpiSession::MpiSession() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error(Error::Kind::Io, "MPI_Init failed (under Slurm use srun --mpi=pmix; as root mpirun needs --allow-run-as-root)");
    owns_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiSession::~MpiSession() {
  if (owns_) {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised) MPI_Finalize();
  }
}

FrameCounter::FrameCounter(MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  MPI_Aint bytes = rank == 0 ? static_cast<MPI_Aint>(sizeof(std::int64_t)) : 0;
  MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &counter_, &win_);
  if (rank == 0) {
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win_);
    *counter_ = 0;
    MPI_Win_unlock(0, win_);
  }
  MPI_Barrier(comm);
}

FrameCounter::~FrameCounter() {
  if (win_ != MPI_WIN_NULL) MPI_Win_free(&win_);
}

std::int64_t FrameCounter::next() {
  const std::int64_t one = 1;
  std::int64_t got = 0;
  MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win_);
  MPI_Fetch_and_op(&one, &got, MPI_INT64_T, 0, 0, MPI_SUM, win_);
  MPI_Win_unlock(0, win_);
  return got;
}

}  // namespace rfarm::render
