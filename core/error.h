#pragma once
// rfarm's error type: every error a user can see says where (file:line:col), which field, what is
// wrong and how to fix it. Errors are exceptions inside a module and are caught at the CLI edge
// (cli/main.cpp) or turned into status codes at a C ABI (the SPANK plugin); they never cross it.
#include <stdexcept>
#include <string>
#include <string_view>

namespace rfarm {

class Error : public std::runtime_error {
 public:
  enum class Kind {
    BadInput,   // the user's input (flag, YAML, scene, file) is wrong: exit 2
    Refused,    // a valid request the system declines (insufficient funds, not allowed): exit 3
    Integrity,  // stored or received data fails a check (tampered row, bad signature): exit 4
    Io,         // the environment failed (disk, network, a child process): exit 1
    Internal,   // a bug in rfarm (an invariant broke): exit 70
  };

  Error(Kind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}

  Kind kind() const noexcept { return kind_; }
  // The process exit status the CLI uses for this error.
  int exit_code() const noexcept;

 private:
  Kind kind_;
};

// Where in an input file something was found. line/column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
};

// Formats "file:line:col: field: problem (fix)" leaving out the parts that are empty/unknown.
std::string format_input_error(const SourceLocation& where, std::string_view field,
                               std::string_view problem, std::string_view fix);

// Throws Error(BadInput) with the formatted message.
[[noreturn]] void throw_input_error(const SourceLocation& where, std::string_view field,
                                    std::string_view problem, std::string_view fix = {});

}  // namespace rfarm
