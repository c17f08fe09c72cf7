// config/rfarm.example.yaml is valid, shows every key the loader accepts, and the effective
// configuration printed by `rfarm config check` loads back to the same Config.
#include <sstream>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/config.h"
#include "config/detail/keys.h"
#include "config/emit.h"
#include "config/schema.h"
#include "support/process.h"

namespace rfarm::config {
namespace {

std::filesystem::path example_path() { return rfarm::testing::source_dir() / "config" / "rfarm.example.yaml"; }

// Whether some node at `parts[i..]` below `node` exists: "[]" is any list element, "<...>" any key.
bool has_path(const YAML::Node& node, const std::vector<std::string>& parts, std::size_t i) {
  if (i == parts.size()) return true;
  const std::string& part = parts[i];
  if (part == "[]") {
    if (!node.IsSequence()) return false;
    for (const auto& child : node)
      if (has_path(child, parts, i + 1)) return true;
    return false;
  }
  if (!node.IsMap()) return false;
  if (part.front() == '<') {
    for (const auto& kv : node)
      if (has_path(kv.second, parts, i + 1)) return true;
    return false;
  }
  for (const auto& kv : node)
    if (kv.first.Scalar() == part) return has_path(kv.second, parts, i + 1);
  return false;
}

std::vector<std::string> split_path(const std::string& path) {
  // "accounts[].name" -> accounts, [], name
  std::vector<std::string> parts;
  std::string cur;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.' || path.compare(i, 2, "[]") == 0) {
      if (!cur.empty()) parts.push_back(cur);
      cur.clear();
      if (path[i] == '[') {
        parts.push_back("[]");
        ++i;
      }
    } else {
      cur += path[i];
    }
  }
  if (!cur.empty()) parts.push_back(cur);
  return parts;
}

TEST(Example, IsValid) {
  const Config c = load_config(example_path());
  EXPECT_EQ(c.cluster.name, "studio");
  EXPECT_EQ(c.cluster.gpu_models.size(), c.prices.gpu_hour.size());
  EXPECT_FALSE(c.accounts.empty());
  EXPECT_FALSE(c.users.empty());
}

TEST(Example, ShowsEveryKeyTheLoaderAccepts) {
  const YAML::Node root = YAML::LoadFile(example_path().string());
  const auto paths = config_key_paths();
  EXPECT_GT(paths.size(), 30u);
  for (const std::string& path : paths) EXPECT_TRUE(has_path(root, split_path(path), 0)) << path << " is missing";
}

TEST(Example, SchemaCoversEveryTopLevelKey) {
  // The schema and the loader share their key lists (config/detail/keys.h); check the top level too.
  const auto paths = config_key_paths();
  for (std::string_view top : detail::kTopKeys) {
    bool found = false;
    for (const std::string& p : paths) found = found || split_path(p).front() == top;
    EXPECT_TRUE(found) << top;
  }
}

TEST(Emit, EffectiveYamlLoadsBackToTheSameConfig) {
  for (const Config& c : {default_config(), load_config(example_path())}) {
    const std::string yaml = to_yaml(c);
    EXPECT_EQ(load_config_text(yaml, "effective.yaml", "/"), c) << yaml;
  }
}

TEST(Emit, JsonHasExactAmounts) {
  const auto j = to_json(load_config(example_path()));
  EXPECT_EQ(j["prices"]["gpu_hour"]["h100"], "2.5");
  EXPECT_EQ(j["prices"]["cpu_core_hour"], "0.04");
  EXPECT_EQ(j["verification"]["detection_probability"], "99.9%");
  EXPECT_EQ(j["stake"]["unbonding_delay"], "7d");
  EXPECT_EQ(j["render"]["resolution"][0], 1920);
}

}  // namespace
}  // namespace rfarm::config

namespace rfarm::config {
namespace {

TEST(Emit, NamesThatLookLikeOtherTypesRoundTrip) {
  const Config c = load_config_text(R"(
accounts:
  - {name: "null", unix_users: ["true", "yes"]}
  - {name: "1.5"}
cluster: {partitions: ["null", "True"], verification_qos: "Null"}
users: {"true": "null"}
state_dir: "/tmp/a: b #c"
)",
                                    "t.yaml", "/");
  EXPECT_EQ(c.accounts[0].name, "null");
  EXPECT_EQ(load_config_text(to_yaml(c), "effective.yaml", "/"), c) << to_yaml(c);
}

}  // namespace
}  // namespace rfarm::config
