#pragma once
// Test helpers: run a program and capture its output; make and remove a scratch directory.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rfarm::testing {

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal when it was killed
  std::string out;     // standard output
  std::string err;     // standard error
};

// Runs argv[0] (searched in PATH when it has no '/') with the extra environment variables set,
// waits for it and returns its status and output. Fails the calling test on fork/exec errors.
RunResult run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
              const std::string& stdin_data = {});

// <build>/bin/rfarm: the binary the CLI and integration tests drive.
std::string rfarm_binary();
// The repository root (for scripts/ and examples/).
std::filesystem::path source_dir();

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when the object dies,
// unless RFARM_KEEP_TEST_DIRS is set (then its path is printed for a post-mortem).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rfarm-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes text to a file (creating parent directories); returns the path.
std::filesystem::path write_file(const std::filesystem::path& path, const std::string& text);
std::string read_file(const std::filesystem::path& path);

}  // namespace rfarm::testing
