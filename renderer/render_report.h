#pragma once
// The --report FILE.h5 table: one row per frame a rank handled,
//   (frame, rank, host, device, seconds, samples, rays, peak_memory_bytes, skipped)
// in dataset /frames (a compound type), plus the render settings as string attributes on /.
// Under MPI every rank writes its own rows collectively through parallel HDF5 (MPI-IO); the file
// is written to a temporary name and renamed by rank 0, so a reader never sees half a report.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <mpi.h>

#include "renderer/render.h"

namespace rfarm::render {

// Collective over `comm`.
void write_report(const std::filesystem::path& path, const std::vector<FrameResult>& rows, int rank,
                  const std::map<std::string, std::string>& attributes, MPI_Comm comm);

// Peak resident memory of this process in bytes (getrusage).
std::uint64_t peak_memory_bytes();

}  // namespace rfarm::render
