#include "plugins/slurm/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rfarm::spank {

std::string spool_file_path(const std::string& spool_dir, const std::string& node) {
  return spool_dir + "/usage-" + node + ".jsonl";
}

std::string append_to_spool(const std::string& spool_dir, const std::string& node, const std::string& line) {
  struct stat st {};
  if (stat(spool_dir.c_str(), &st) != 0) {
    return "spool directory " + spool_dir + ": " + std::strerror(errno) + " (create it, owned by root, mode 0700)";
  }
  if (!S_ISDIR(st.st_mode)) return "spool " + spool_dir + " is not a directory";
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return "spool directory " + spool_dir + " is not owned by root (chown root " + spool_dir + ")";
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return "spool directory " + spool_dir + " is writable by group or others (chmod 0700 " + spool_dir + ")";
  }
  if (node.empty() || node.find('/') != std::string::npos) return "bad node name '" + node + "'";

  const std::string path = spool_file_path(spool_dir, node);
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  std::string buf = line;
  buf.push_back('\n');
  std::string err;
  // One write: with O_APPEND the kernel places the whole line at the end atomically with respect
  // to other appenders on a local filesystem. A short write is reported, never retried piecewise.
  const ssize_t n = write(fd, buf.data(), buf.size());
  if (n < 0) err = "write " + path + ": " + std::strerror(errno);
  else if (static_cast<std::size_t>(n) != buf.size()) err = "short write to " + path;
  if (err.empty() && fsync(fd) != 0) err = "fsync " + path + ": " + std::strerror(errno);
  if (close(fd) != 0 && err.empty()) err = "close " + path + ": " + std::strerror(errno);
  return err;
}

}  // namespace rfarm::spank
