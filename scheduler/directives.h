#pragma once
// #RFARM lines: submit options written at the top of a job YAML, like #SBATCH in a batch script.
//   #RFARM --frames 1-240 --chunk 10
//   #RFARM -A studio-a --spp 64
// Lines are read from the top of the file while they are comments or blank; the first other line
// ends them (as sbatch does). Words split on blanks; '...' and "..." quote a word with blanks.
// Options on the command line override the file's.
#include <filesystem>
#include <string>
#include <vector>

namespace rfarm::scheduler {

inline constexpr std::size_t kMaxDirectiveBytes = 64 * 1024;
inline constexpr std::size_t kMaxDirectiveWords = 512;

// Whether `scene` names a YAML job file (.yaml/.yml) rather than a glTF scene.
bool is_job_file(const std::filesystem::path& scene);

// The words of every #RFARM line, in order. Error(BadInput) naming file:line for an unterminated
// quote or beyond the limits; Error(Io) when the file cannot be read.
std::vector<std::string> read_rfarm_directives(const std::filesystem::path& file);

}  // namespace rfarm::scheduler
