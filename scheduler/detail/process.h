#pragma once
// Running programs without a shell: argv is passed as is (no word splitting, no injection).
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace rfarm::scheduler::detail {

struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal
  std::string out, err;
};

// Runs argv[0] (PATH-searched when it has no '/') with `env` added to this process's environment,
// waits for it and captures its output. Error(Io) when it cannot be started at all.
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {});

// Starts argv in its own process group with stdout and stderr appended to `log`; returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
            const std::filesystem::path& log);

// Exit status of a waitpid() status word: the code, or 128 + signal.
int decode_wait_status(int status);

}  // namespace rfarm::scheduler::detail
