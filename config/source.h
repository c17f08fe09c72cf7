#pragma once
// Which rfarm.yaml a command uses: --config FILE, else $RFARM_CONFIG, else ./rfarm.yaml, else the
// built-in defaults. A file named by the flag or the variable must exist (a typo there should not
// silently fall back to defaults); ./rfarm.yaml is used only when it is there.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace rfarm::config {

enum class ConfigOrigin { Flag, Environment, WorkingDirectory, Defaults };

struct ConfigSource {
  ConfigOrigin origin = ConfigOrigin::Defaults;
  std::filesystem::path path;  // empty for Defaults
};

// The environment variable that names the file.
inline constexpr const char* kConfigEnvVar = "RFARM_CONFIG";
inline constexpr const char* kDefaultConfigFile = "rfarm.yaml";

// Resolution with the inputs spelled out (for tests): `env_value` is $RFARM_CONFIG (nullopt or
// empty when unset), `cwd` the directory searched for rfarm.yaml.
ConfigSource resolve_config_path(std::string_view explicit_flag, const std::optional<std::string>& env_value,
                                 const std::filesystem::path& cwd);
// Resolution from the process: getenv(RFARM_CONFIG) and the current directory.
ConfigSource resolve_config_path(std::string_view explicit_flag);

// "--config", "$RFARM_CONFIG", "./rfarm.yaml" or "built-in defaults".
std::string_view describe(ConfigOrigin origin);

// load_config(source.path), or default_config() for Defaults.
Config load_resolved(const ConfigSource& source);

}  // namespace rfarm::config
