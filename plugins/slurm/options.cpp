#include "plugins/slurm/options.h"

namespace rfarm::spank {
namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }
bool is_punct_ok(char c) { return c == '.' || c == '_' || c == '-'; }

std::string check_name(std::string_view value, std::string_view what, std::size_t max_len,
                       bool (*first_ok)(char), std::string_view allowed) {
  if (value.empty()) return std::string(what) + " is empty: give a name, e.g. " + std::string(allowed);
  if (value.size() > max_len) {
    return std::string(what) + " is " + std::to_string(value.size()) + " characters long: at most " +
           std::to_string(max_len) + " are allowed";
  }
  if (!first_ok(value[0])) {
    return std::string(what) + " '" + std::string(value) + "' must start with a letter or digit";
  }
  for (char c : value) {
    if (!(first_ok(c) || is_punct_ok(c))) {
      return std::string(what) + " '" + std::string(value) + "' has the character '" + std::string(1, c) +
             "': use only " + std::string(allowed);
    }
  }
  return {};
}

}  // namespace

std::string check_account(std::string_view value) {
  return check_name(value, "--rfarm-account", kMaxAccountLength, is_lower_alnum,
                    "lowercase letters, digits, '.', '_' and '-'");
}

std::string check_job_id(std::string_view value) {
  return check_name(value, "--rfarm-job", kMaxJobIdLength, is_alnum, "letters, digits, '.', '_' and '-'");
}

}  // namespace rfarm::spank
