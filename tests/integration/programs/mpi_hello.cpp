// A minimal MPI program for the Slurm integration test: every rank reports its rank, the world
// size, the Slurm cluster it ran on, and the sum of all ranks computed with MPI_Allreduce (proof
// that the ranks really talk to each other, not just that they started).
#include <mpi.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  const char* cluster = std::getenv("SLURM_CLUSTER_NAME");
  std::printf("rank %d of %d on cluster %s: rank sum %d\n", rank, size, cluster ? cluster : "(none)", sum);
  MPI_Finalize();
  return 0;
}
