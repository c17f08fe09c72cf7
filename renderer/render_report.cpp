#include "renderer/render_report.h"

#include <hdf5.h>
#include <sys/types.h>
#include <unistd.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"
#include "renderer/provenance.h"

namespace rfarm::render {
namespace {

struct Row {
  std::int64_t frame;
  std::int32_t rank;
  char host[64];
  char device[8];
  double seconds;
  std::uint64_t samples, rays, peak_memory;
  std::int32_t skipped;
};

void check(herr_t status, const std::filesystem::path& path, const char* what) {
  if (status < 0) throw Error(Error::Kind::Io, path.string() + ": HDF5 " + what + " failed (check the directory is writable)");
}

}  // namespace

std::uint64_t peak_memory_bytes() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<std::uint64_t>(ru.ru_maxrss) * 1024u;
}

void write_report(const std::filesystem::path& path, const std::vector<FrameResult>& results, int rank,
                  const std::map<std::string, std::string>& attributes, MPI_Comm comm) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  // Every rank must agree on the temporary name: rank 0 picks it and broadcasts it.
  std::string temp = path.string() + ".tmp." + std::to_string(::getpid());
  int len = static_cast<int>(temp.size());
  MPI_Bcast(&len, 1, MPI_INT, 0, comm);
  temp.resize(static_cast<std::size_t>(len));
  MPI_Bcast(temp.data(), len, MPI_CHAR, 0, comm);
  if (rank == 0 && path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  MPI_Barrier(comm);

  std::vector<Row> rows(results.size());
  const std::string host = host_name();
  const std::uint64_t peak = peak_memory_bytes();
  for (std::size_t i = 0; i < results.size(); ++i) {
    Row& r = rows[i];
    std::memset(&r, 0, sizeof r);
    r.frame = results[i].frame;
    r.rank = rank;
    std::strncpy(r.host, host.c_str(), sizeof r.host - 1);
    std::strncpy(r.device, results[i].device.c_str(), sizeof r.device - 1);
    r.seconds = results[i].seconds;
    r.samples = results[i].samples;
    r.rays = results[i].rays;
    r.peak_memory = peak;
    r.skipped = results[i].skipped ? 1 : 0;
  }
  // Row offsets: an exclusive prefix sum of the per-rank counts.
  long long mine = static_cast<long long>(rows.size()), offset = 0, total = 0;
  MPI_Exscan(&mine, &offset, 1, MPI_LONG_LONG, MPI_SUM, comm);
  if (rank == 0) offset = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_LONG_LONG, MPI_SUM, comm);

  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  hid_t file = H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file < 0) throw Error(Error::Kind::Io, path.string() + ": cannot create the HDF5 report (check the directory is writable)");

  hid_t host_t = H5Tcopy(H5T_C_S1);
  H5Tset_size(host_t, sizeof(Row::host));
  hid_t dev_t = H5Tcopy(H5T_C_S1);
  H5Tset_size(dev_t, sizeof(Row::device));
  hid_t row_t = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(row_t, "frame", HOFFSET(Row, frame), H5T_NATIVE_INT64);
  H5Tinsert(row_t, "rank", HOFFSET(Row, rank), H5T_NATIVE_INT32);
  H5Tinsert(row_t, "host", HOFFSET(Row, host), host_t);
  H5Tinsert(row_t, "device", HOFFSET(Row, device), dev_t);
  H5Tinsert(row_t, "seconds", HOFFSET(Row, seconds), H5T_NATIVE_DOUBLE);
  H5Tinsert(row_t, "samples", HOFFSET(Row, samples), H5T_NATIVE_UINT64);
  H5Tinsert(row_t, "rays", HOFFSET(Row, rays), H5T_NATIVE_UINT64);
  H5Tinsert(row_t, "peak_memory_bytes", HOFFSET(Row, peak_memory), H5T_NATIVE_UINT64);
  H5Tinsert(row_t, "skipped", HOFFSET(Row, skipped), H5T_NATIVE_INT32);

  hsize_t dims[1] = {static_cast<hsize_t>(total)};
  hid_t space = H5Screate_simple(1, dims, nullptr);
  hid_t dset = H5Dcreate2(file, "frames", row_t, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t mem = H5Screate_simple(1, std::array<hsize_t, 1>{static_cast<hsize_t>(mine)}.data(), nullptr);
  if (mine > 0) {
    hsize_t start[1] = {static_cast<hsize_t>(offset)}, count[1] = {static_cast<hsize_t>(mine)};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
  } else {
    H5Sselect_none(space);
    H5Sselect_none(mem);
  }
  hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  Row dummy{};
  check(H5Dwrite(dset, row_t, mem, space, dxpl, rows.empty() ? &dummy : rows.data()), path, "write");
  H5Pclose(dxpl);

  // Attributes are metadata: written by all ranks with identical values (HDF5's collective rule).
  hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
  for (const auto& [name, value] : attributes) {
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, std::max<std::size_t>(1, value.size()));
    hid_t as = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(root, name.c_str(), st, as, H5P_DEFAULT, H5P_DEFAULT);
    check(H5Awrite(attr, st, value.empty() ? "" : value.c_str()), path, "attribute write");
    H5Aclose(attr);
    H5Sclose(as);
    H5Tclose(st);
  }
  H5Gclose(root);
  H5Sclose(mem);
  H5Dclose(dset);
  H5Sclose(space);
  H5Tclose(row_t);
  H5Tclose(host_t);
  H5Tclose(dev_t);
  check(H5Fclose(file), path, "close");
  MPI_Barrier(comm);
  if (rank == 0) {
    fsync_path(temp);
    if (std::rename(temp.c_str(), path.c_str()) != 0)
      throw Error(Error::Kind::Io, path.string() + ": cannot rename the finished report into place");
  }
  MPI_Barrier(comm);
}

}  // namespace rfarm::render
