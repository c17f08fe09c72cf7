// load_config(): values land in the structs, and each validation rule gives one line naming
// file:line:col, the key path, the problem and a fix.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"
#include "support/process.h"

namespace rfarm::config {
namespace {

using testing::load_error;
using testing::load_text;

TEST(Load, EmptyFileIsTheDefaults) {
  EXPECT_EQ(load_text(""), default_config());
  EXPECT_EQ(load_text("# only a comment\n"), default_config());
  EXPECT_EQ(load_text("cluster:\n"), default_config());
}

TEST(Load, ReadsEverySection) {
  const Config c = load_text(R"(
token: {symbol: ABC, decimals: 2}
cluster:
  name: studio-1
  backend: slurm
  partitions: [render, verify]
  verification_partition: verify
  gpu_models: [h100]
  usage_grace: 90m
prices:
  gpu_hour: {h100: "2.5"}
  cpu_core_hour: 0.04
fees: {treasury_bps: 250, burn_bps: 50, verifier_reward: "0.1"}
verification: {cheat_fraction: "5%", detection_probability: 0.999, cell_size: 16, min_cells_per_frame: 2}
accounts:
  - {name: studio, unix_users: [alice], min_balance: 10}
  - {name: owners, kind: provider}
users: {alice: studio}
render: {spp: 16, resolution: [640, 480]}
stake: {unbonding_delay: 36h, slash_bps: 500, slash_burn_bps: 2500}
)");
  EXPECT_EQ(c.token.symbol, "ABC");
  EXPECT_EQ(c.cluster.name, "studio-1");
  EXPECT_EQ(c.cluster.backend, ClusterBackend::Slurm);
  EXPECT_EQ(c.cluster.default_partition, "render");  // the first one
  EXPECT_EQ(c.cluster.verification_partition, "verify");
  EXPECT_EQ(c.cluster.usage_grace_seconds, 90 * 60);
  EXPECT_EQ(c.prices.gpu_hour.at("h100"), Amount(250));
  EXPECT_EQ(c.prices.cpu_core_hour, Amount(4));
  EXPECT_EQ(c.fees.treasury_bps, 250u);
  EXPECT_EQ(c.fees.verifier_reward, Amount(10));
  EXPECT_EQ(c.verification.cheat_fraction_ppm, 50'000u);
  EXPECT_EQ(c.verification.detection_ppm, 999'000u);
  ASSERT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.accounts[0].min_balance, Amount(1000));
  EXPECT_EQ(c.accounts[1].kind, AccountKind::Provider);
  EXPECT_EQ(find_account(c, "owners"), &c.accounts[1]);
  EXPECT_EQ(find_account(c, "nobody"), nullptr);
  EXPECT_EQ(c.users.at("alice"), "studio");
  EXPECT_EQ(c.render.spp, 16u);
  EXPECT_EQ(c.render.width, 640u);
  EXPECT_EQ(c.render.height, 480u);
  EXPECT_EQ(c.stake.unbonding_delay_seconds, 36 * 3600);
  EXPECT_EQ(c.stake.slash_bps, 500u);
  EXPECT_EQ(c.stake.slash_burn_bps, 2500u);
}

TEST(Load, AmountDefaultsAreWholeTokensAtAnyDecimals) {
  EXPECT_EQ(load_text("token: {decimals: 0}").prices.cpu_core_hour, Amount(1));
  EXPECT_EQ(load_text("token: {decimals: 18}").fees.verifier_reward, Amount(1'000'000'000'000'000'000ULL));
}

TEST(Load, RelativePathsResolveAgainstTheFilesDirectory) {
  const Config c = load_text("state_dir: data\nspool_dir: /var/spool/x\nkeys: {node_key: ../k/node.key}\n");
  EXPECT_EQ(c.state_dir, "/etc/rfarm/data");
  EXPECT_EQ(c.spool_dir, "/var/spool/x");
  EXPECT_EQ(c.ledger.path, "/etc/rfarm/data/ledger.sqlite3");  // follows state_dir
  EXPECT_EQ(c.keys.cluster_signing_key, "/etc/rfarm/data/keys/cluster.key");
  EXPECT_EQ(c.keys.node_key, "/etc/k/node.key");
}

TEST(Load, FromFileUsesItsDirectory) {
  rfarm::testing::TempDir dir;
  const auto file = rfarm::testing::write_file(dir / "sub/rfarm.yaml", "ledger:\n  path: ledger.db\n");
  EXPECT_EQ(load_config(file).ledger.path, dir.path() / "sub/ledger.db");
  try {
    load_config(dir / "missing.yaml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find("missing.yaml: cannot open"), std::string::npos) << e.what();
  }
}

TEST(Rules, UnknownKeySuggestsTheNearOne) {
  EXPECT_CONFIG_ERROR("clustr:\n  name: a\n", "1:1", "clustr", "unknown key (did you mean 'cluster'?)");
  EXPECT_CONFIG_ERROR("cluster:\n  nmae: a\n", "2:3", "cluster.nmae", "did you mean 'name'?");
  EXPECT_CONFIG_ERROR("cluster:\n  colour: red\n", "2:3", "cluster.colour", "valid keys here: name, backend");
  EXPECT_CONFIG_ERROR("accounts:\n  - name: a\n    kinds: user\n", "3:5", "accounts[0].kinds", "did you mean 'kind'?");
}

TEST(Rules, DuplicateKey) {
  EXPECT_CONFIG_ERROR("token:\n  symbol: RFT\n  symbol: ABC\n", "3:3", "token.symbol",
                      "duplicate key (first given at line 2)");
}

TEST(Rules, WrongType) {
  EXPECT_CONFIG_ERROR("cluster:\n  partitions: render\n", "2:15", "cluster.partitions", "expected a list");
  EXPECT_CONFIG_ERROR("cluster:\n  name:\n    a: b\n", "3:5", "cluster.name", "expected a text value, got a mapping");
  EXPECT_CONFIG_ERROR("token: RFT\n", "1:8", "token", "expected a mapping");
  EXPECT_CONFIG_ERROR("fees:\n  burn_bps: [1]\n", "2:13", "fees.burn_bps", "expected an integer");
  EXPECT_CONFIG_ERROR("cluster:\n  name: \"\"\n", "2:9", "cluster.name", "is empty");
  const std::string msg = load_error("- a\n- b\n");
  EXPECT_EQ(msg.rfind("t.yaml:1:1: expected a mapping", 0), 0u) << msg;
}

TEST(Rules, OutOfRange) {
  EXPECT_CONFIG_ERROR("token:\n  decimals: 19\n", "2:13", "token.decimals", "19 is out of range (an integer from 0 to 18)");
  EXPECT_CONFIG_ERROR("render:\n  spp: 0\n", "2:8", "render.spp", "out of range");
  EXPECT_CONFIG_ERROR("render:\n  spp: 1.5\n", "2:8", "render.spp", "'1.5' is not an integer");
  EXPECT_CONFIG_ERROR("render:\n  resolution: [1920]\n", "2:15", "render.resolution", "expected [width, height]");
  EXPECT_CONFIG_ERROR("render:\n  resolution: [1920, 0]\n", "2:22", "render.resolution[1]", "out of range");
  EXPECT_CONFIG_ERROR("stake:\n  slash_bps: 10001\n", "2:14", "stake.slash_bps", "out of range");
  EXPECT_CONFIG_ERROR("stake:\n  slash_burn_bps: 10001\n", "2:19", "stake.slash_burn_bps", "out of range");
  EXPECT_CONFIG_ERROR("stake:\n  unbonding_delay: 7w\n", "2:20", "stake.unbonding_delay", "is not a duration");
  EXPECT_CONFIG_ERROR("stake:\n  unbonding_delay: 99999d\n", "2:20", "stake.unbonding_delay", "is too long");
  EXPECT_CONFIG_ERROR("cluster:\n  usage_grace: soon\n", "2:16", "cluster.usage_grace", "is not a duration");
  EXPECT_CONFIG_ERROR("cluster:\n  usage_grace: 2d\n", "2:16", "cluster.usage_grace", "is too long");
  EXPECT_CONFIG_ERROR("cluster:\n  usage_grace: -5m\n", "2:16", "cluster.usage_grace", "is not a duration");
  EXPECT_CONFIG_ERROR("cluster:\n  backend: slurmm\n", "2:12", "cluster.backend", "did you mean 'slurm'?");
  EXPECT_CONFIG_ERROR("ledger:\n  backend: mysql\n", "2:12", "ledger.backend", "one of: sqlite, postgres");
  EXPECT_CONFIG_ERROR("cluster:\n  name: Studio\n", "2:9", "cluster.name", "'Studio' is not a valid name");
  EXPECT_CONFIG_ERROR("token:\n  symbol: rft\n", "2:11", "token.symbol", "capital letters");
}

TEST(Rules, MoneyIsExactDecimal) {
  EXPECT_CONFIG_ERROR("prices:\n  cpu_core_hour: 0.0000001\n", "2:18", "prices.cpu_core_hour", "digits after the point");
  EXPECT_CONFIG_ERROR("prices:\n  cpu_core_hour: 1e3\n", "2:18", "prices.cpu_core_hour", "exponent");
  EXPECT_CONFIG_ERROR("prices:\n  cpu_core_hour: -1\n", "2:18", "prices.cpu_core_hour", "negative");
  EXPECT_CONFIG_ERROR("fees:\n  verifier_reward: 99999999999999999999\n", "2:20", "fees.verifier_reward", "too large");
  // The token's decimals apply wherever the token section is in the file.
  EXPECT_CONFIG_ERROR("prices:\n  cpu_core_hour: \"1.25\"\ntoken:\n  decimals: 1\n", "2:18", "prices.cpu_core_hour",
                      "only 1 are allowed");
}

TEST(Rules, GpuPricesMatchTheModels) {
  EXPECT_CONFIG_ERROR("cluster:\n  gpu_models: [h100]\nprices:\n  gpu_hour:\n    h100: 2\n    a100: 1\n", "6:5",
                      "prices.gpu_hour.a100", "'a100' is not in cluster.gpu_models");
  EXPECT_CONFIG_ERROR("cluster:\n  gpu_models: [h100, a100]\nprices:\n  gpu_hour:\n    h100: 2\n", "4:3",
                      "prices.gpu_hour.a100", "no price for GPU model 'a100'");
  EXPECT_CONFIG_ERROR("cluster:\n  gpu_models: [h100, h100]\n", "2:22", "cluster.gpu_models[1]", "listed twice");
}

TEST(Rules, FeesFitInACharge) {
  EXPECT_CONFIG_ERROR("fees:\n  treasury_bps: 6000\n  burn_bps: 5000\n", "3:13", "fees.burn_bps",
                      "treasury_bps + burn_bps is 11000");
  EXPECT_EQ(load_text("fees: {treasury_bps: 6000, burn_bps: 4000}").fees.burn_bps, 4000u);
}

TEST(Rules, VerificationPolicyBounds) {
  EXPECT_CONFIG_ERROR("verification:\n  cheat_fraction: 0%\n", "2:19", "verification.cheat_fraction", "more than 0");
  EXPECT_CONFIG_ERROR("verification:\n  cheat_fraction: 150%\n", "2:19", "verification.cheat_fraction",
                      "more than 100%");
  EXPECT_CONFIG_ERROR("verification:\n  detection_probability: 100%\n", "2:26", "verification.detection_probability",
                      "strictly between 0 and 100%");
  EXPECT_CONFIG_ERROR("verification:\n  detection_probability: lots\n", "2:26", "verification.detection_probability",
                      "'lots' is not a decimal number");
  EXPECT_CONFIG_ERROR("verification:\n  detection_probability: 99.99999%\n", "2:26",
                      "verification.detection_probability", "more decimal places");
  EXPECT_EQ(load_text("verification: {cheat_fraction: 1}").verification.cheat_fraction_ppm, kPartsPerMillion);
}

TEST(Rules, VerificationSamplingAndReputationKeys) {
  const VerificationConfig v = load_text(
      "verification: {cell_size: 4, min_cells_per_frame: 3, reputation_min_factor: 0.25, reputation_max_factor: 8,"
      " reputation_passes_for_min: 40}").verification;
  EXPECT_EQ(v.cell_size, 4u);
  EXPECT_EQ(v.min_cells_per_frame, 3u);
  EXPECT_EQ(v.reputation_min_permille, 250u);
  EXPECT_EQ(v.reputation_max_permille, 8000u);
  EXPECT_EQ(v.reputation_passes_for_min, 40u);
  EXPECT_CONFIG_ERROR("verification:\n  cell_size: 0\n", "2:14", "verification.cell_size", "");
  EXPECT_CONFIG_ERROR("verification:\n  reputation_min_factor: 2\n", "2:26", "verification.reputation_min_factor",
                      "'2' is out of range");
  EXPECT_CONFIG_ERROR("verification:\n  reputation_max_factor: 0.5\n", "2:26", "verification.reputation_max_factor",
                      "use a factor from 1 to 1000");
  EXPECT_CONFIG_ERROR("verification:\n  reputation_min_factor: half\n", "2:26", "verification.reputation_min_factor",
                      "'half'");
  EXPECT_CONFIG_ERROR("verification:\n  reputation_passes_for_min: 0\n", "2:30", "verification.reputation_passes_for_min", "");
}

TEST(Rules, AccountsAreUniqueAndWellFormed) {
  EXPECT_CONFIG_ERROR("accounts:\n  - name: a\n  - name: b\n  - name: a\n", "4:11", "accounts[2].name",
                      "duplicate account name 'a' (first given at line 2)");
  EXPECT_CONFIG_ERROR("accounts:\n  - name: a\n    kind: provder\n", "3:11", "accounts[0].kind",
                      "did you mean 'provider'?");
  EXPECT_CONFIG_ERROR("accounts:\n  - kind: user\n", "2:5", "accounts[0].name", "every account needs a name");
  EXPECT_CONFIG_ERROR("accounts:\n  - a\n", "2:5", "accounts[0]", "an account must be a mapping");
  EXPECT_CONFIG_ERROR("accounts:\n  - name: a\n    unix_users: [bob, bob]\n", "3:23", "accounts[0].unix_users[1]",
                      "listed twice");
  EXPECT_CONFIG_ERROR("accounts:\n  - name: a\n    unix_users: [\"bad user\"]\n", "3:18", "accounts[0].unix_users[0]",
                      "not a valid name");
}

TEST(Rules, UsersPointAtAccountsThatListThem) {
  const std::string accounts = "accounts:\n  - name: studio\n    unix_users: [alice]\n";
  EXPECT_CONFIG_ERROR(accounts + "users:\n  alice: studoi\n", "5:10", "users.alice",
                      "'studoi' is not in accounts[].name (did you mean 'studio'?)");
  EXPECT_CONFIG_ERROR(accounts + "users:\n  bob: studio\n", "5:8", "users.bob",
                      "account 'studio' does not list 'bob' in its unix_users");
  EXPECT_CONFIG_ERROR("users:\n  alice: nowhere\n", "2:10", "users.alice", "add it to accounts[].name");
}

TEST(Rules, PartitionsAreReferencedByName) {
  EXPECT_CONFIG_ERROR("cluster:\n  partitions: [render]\n  default_partition: rendr\n", "3:22",
                      "cluster.default_partition", "did you mean 'render'?");
  EXPECT_CONFIG_ERROR("cluster:\n  verification_partition: verify\n", "2:27", "cluster.verification_partition",
                      "not in cluster.partitions");
}

TEST(Rules, SyntaxErrorsKeepTheOneLineShape) {
  const std::string msg = load_error("cluster:\n  name: [a, b\n");
  EXPECT_EQ(msg.rfind("t.yaml:", 0), 0u) << msg;
  EXPECT_NE(msg.find("invalid YAML"), std::string::npos) << msg;
  const std::string tab = load_error("cluster:\n\tname: a\n");
  EXPECT_NE(tab.find("invalid YAML"), std::string::npos) << tab;
}

TEST(Rules, ControlCharactersNeverBreakTheLine) {
  EXPECT_CONFIG_ERROR("cluster:\n  \"na\\nme\": a\n", "2:3", "cluster", "a key must be a plain name");
  EXPECT_CONFIG_ERROR("render:\n  spp: \"1\\r2\"\n", "2:8", "render.spp", "'1?2' is not an integer");
  EXPECT_CONFIG_ERROR("prices:\n  cpu_core_hour: \"1\\n\"\n", "2:18", "prices.cpu_core_hour", "not a decimal amount");
  EXPECT_CONFIG_ERROR("cluster:\n  name: \"a\\tb\"\n", "2:9", "cluster.name", "control character");
}

TEST(Rules, LongKeysAreRefusedBriefly) {
  const std::string msg = load_error("users:\n  " + std::string(500, 'u') + ": a\n");
  EXPECT_EQ(msg, "t.yaml:2:3: users: a key is longer than 128 characters (shorten it)");
}

TEST(Rules, OversizedFileIsRefused) {
  const std::string msg = load_error("# " + std::string(kMaxConfigBytes, 'x') + "\n");
  EXPECT_NE(msg.find("larger than"), std::string::npos) << msg;
}

}  // namespace
}  // namespace rfarm::config
