#include "config/source.h"

#include <cstdlib>

namespace rfarm::config {

ConfigSource resolve_config_path(std::string_view explicit_flag, const std::optional<std::string>& env_value,
                                 const std::filesystem::path& cwd) {
  if (!explicit_flag.empty()) return {ConfigOrigin::Flag, std::filesystem::path(explicit_flag)};
  if (env_value && !env_value->empty()) return {ConfigOrigin::Environment, std::filesystem::path(*env_value)};
  const std::filesystem::path local = cwd / kDefaultConfigFile;
  std::error_code ec;
  if (std::filesystem::is_regular_file(local, ec)) return {ConfigOrigin::WorkingDirectory, local};
  return {ConfigOrigin::Defaults, {}};
}

ConfigSource resolve_config_path(std::string_view explicit_flag) {
  const char* env = std::getenv(kConfigEnvVar);
  std::optional<std::string> env_value;
  if (env) env_value = env;
  // The current directory written as "." keeps the path as short as the user would write it.
  return resolve_config_path(explicit_flag, env_value, ".");
}

std::string_view describe(ConfigOrigin origin) {
  switch (origin) {
    case ConfigOrigin::Flag: return "--config";
    case ConfigOrigin::Environment: return "$RFARM_CONFIG";
    case ConfigOrigin::WorkingDirectory: return "./rfarm.yaml";
    case ConfigOrigin::Defaults: return "built-in defaults";
  }
  return "built-in defaults";
}

Config load_resolved(const ConfigSource& source) {
  if (source.origin == ConfigOrigin::Defaults) return default_config();
  return load_config(source.path);
}

}  // namespace rfarm::config
