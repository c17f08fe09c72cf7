#include "config/detail/names.h"

#include "config/config.h"

namespace rfarm::config::detail {

namespace {
bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool digit(char c) { return c >= '0' && c <= '9'; }

struct Shape {
  std::size_t max_length;
  bool (*first)(char);
  bool (*rest)(char);
  const char* description;
};

Shape shape_of(NameRule rule) {
  switch (rule) {
    case NameRule::Cluster:
      return {kMaxClusterNameLength, [](char c) { return lower(c); },
              [](char c) { return lower(c) || digit(c) || c == '_' || c == '-'; },
              "a lowercase letter, then lowercase letters, digits, '_' or '-'"};
    case NameRule::Lowercase:
      return {kMaxNameLength, [](char c) { return lower(c) || digit(c); },
              [](char c) { return lower(c) || digit(c) || c == '_' || c == '.' || c == '-'; },
              "lowercase letters, digits, '_', '.' or '-', starting with a letter or digit"};
    case NameRule::Slurm:
      return {kMaxNameLength, [](char c) { return lower(c) || upper(c) || digit(c); },
              [](char c) { return lower(c) || upper(c) || digit(c) || c == '_' || c == '.' || c == '-'; },
              "letters, digits, '_', '.' or '-', starting with a letter or digit"};
    case NameRule::UnixUser:
      return {kMaxUnixUserLength, [](char c) { return lower(c) || upper(c) || c == '_'; },
              [](char c) { return lower(c) || upper(c) || digit(c) || c == '_' || c == '.' || c == '-'; },
              "a user name: letters, digits, '_', '.' or '-', starting with a letter or '_'"};
    case NameRule::Symbol:
      return {10, [](char c) { return upper(c); }, [](char c) { return upper(c) || digit(c); },
              "2 to 10 capital letters or digits, starting with a letter, e.g. RFT"};
  }
  return {0, nullptr, nullptr, ""};
}
}  // namespace

bool valid_name(std::string_view name, NameRule rule, std::string* fix) {
  const Shape s = shape_of(rule);
  if (fix) *fix = std::string(s.description) + ", at most " + std::to_string(s.max_length) + " characters";
  std::string_view body = name;
  // A trailing '$' is how Samba machine accounts are named; useradd allows it.
  if (rule == NameRule::UnixUser && body.size() > 1 && body.back() == '$') body.remove_suffix(1);
  if (name.empty() || name.size() > s.max_length || !s.first(body.front())) return false;
  if (rule == NameRule::Symbol && name.size() < 2) return false;
  for (char c : body.substr(1))
    if (!s.rest(c)) return false;
  return true;
}

std::string read_name(const Reader& r, const YAML::Node& node, std::string_view path, NameRule rule) {
  std::string name = read_string(r, node, path);
  std::string fix;
  if (!valid_name(name, rule, &fix)) {
    const std::string shown = name.size() > kMaxNameLength ? name.substr(0, kMaxNameLength) + "..." : name;
    r.fail(node, path, "'" + shown + "' is not a valid name", fix);
  }
  return name;
}

}  // namespace rfarm::config::detail
