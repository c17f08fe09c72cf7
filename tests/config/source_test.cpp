// The search order: --config > $RFARM_CONFIG > ./rfarm.yaml > built-in defaults.
#include <cstdlib>

#include <gtest/gtest.h>

#include "config/source.h"
#include "core/error.h"
#include "support/process.h"

namespace rfarm::config {
namespace {

using rfarm::testing::TempDir;
using rfarm::testing::write_file;

TEST(Source, FlagWinsOverEverything) {
  TempDir dir;
  write_file(dir / "rfarm.yaml", "");
  const auto s = resolve_config_path("/x/flag.yaml", std::string("/x/env.yaml"), dir.path());
  EXPECT_EQ(s.origin, ConfigOrigin::Flag);
  EXPECT_EQ(s.path, "/x/flag.yaml");
}

TEST(Source, EnvironmentBeforeWorkingDirectory) {
  TempDir dir;
  write_file(dir / "rfarm.yaml", "");
  const auto s = resolve_config_path("", std::string("/x/env.yaml"), dir.path());
  EXPECT_EQ(s.origin, ConfigOrigin::Environment);
  EXPECT_EQ(s.path, "/x/env.yaml");
}

TEST(Source, WorkingDirectoryFileWhenPresent) {
  TempDir dir;
  write_file(dir / "rfarm.yaml", "");
  // An empty $RFARM_CONFIG counts as unset.
  const auto s = resolve_config_path("", std::string(""), dir.path());
  EXPECT_EQ(s.origin, ConfigOrigin::WorkingDirectory);
  EXPECT_EQ(s.path, dir / "rfarm.yaml");
}

TEST(Source, DefaultsWhenNothingIsFound) {
  TempDir dir;
  const auto s = resolve_config_path("", std::nullopt, dir.path());
  EXPECT_EQ(s.origin, ConfigOrigin::Defaults);
  EXPECT_TRUE(s.path.empty());
  EXPECT_EQ(load_resolved(s), default_config());
  // A directory named rfarm.yaml is not a configuration file.
  std::filesystem::create_directory(dir / "rfarm.yaml");
  EXPECT_EQ(resolve_config_path("", std::nullopt, dir.path()).origin, ConfigOrigin::Defaults);
}

TEST(Source, ProcessEnvironmentIsRead) {
  const char* old = std::getenv(kConfigEnvVar);
  const std::string saved = old ? old : "";
  setenv(kConfigEnvVar, "/from/env.yaml", 1);
  const auto s = resolve_config_path("");
  EXPECT_EQ(s.origin, ConfigOrigin::Environment);
  EXPECT_EQ(s.path, "/from/env.yaml");
  EXPECT_EQ(resolve_config_path("/from/flag.yaml").origin, ConfigOrigin::Flag);
  if (old) setenv(kConfigEnvVar, saved.c_str(), 1);
  else unsetenv(kConfigEnvVar);
}

TEST(Source, NamedFileMustExist) {
  TempDir dir;
  // A typo in --config or $RFARM_CONFIG is an error, not a silent fall back to defaults.
  EXPECT_THROW(load_resolved({ConfigOrigin::Environment, dir / "nope.yaml"}), Error);
  write_file(dir / "ok.yaml", "token: {symbol: XYZ}\n");
  EXPECT_EQ(load_resolved({ConfigOrigin::Flag, dir / "ok.yaml"}).token.symbol, "XYZ");
}

}  // namespace
}  // namespace rfarm::config
