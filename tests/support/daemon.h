#pragma once
// A program left running in the background for a test (a gateway, a server): its standard output
// through a pipe the test reads (to learn a port, to wait for a line), its standard error to a file.
// Stopped when the object dies: SIGTERM, then SIGKILL if it has not exited within 5 s.
#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace rfarm::testing {

class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, const std::filesystem::path& err_file);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Reads standard output until it contains `what` (or 10 s pass); true when it does.
  bool wait_for(const std::string& what);
  // Waits for the exit status (-1 when it is still running after 10 s; 128 + signal if killed).
  int wait_exit();

  pid_t pid = -1;
  std::string out;  // standard output read so far

 private:
  int out_fd_ = -1;
};

}  // namespace rfarm::testing
