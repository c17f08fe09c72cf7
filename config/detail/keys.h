#pragma once
// The keys rfarm.yaml accepts, one list per mapping. The loader rejects any other key with these
// lists, and config_key_paths() (config/schema.h) is built from the same lists, so the schema the
// tests walk is the schema the loader enforces.
#include <array>
#include <string_view>

namespace rfarm::config::detail {

inline constexpr std::array<std::string_view, 14> kTopKeys = {
    "cluster", "token", "prices", "fees", "verification", "accounts", "users",
    "ledger", "keys", "state_dir", "spool_dir", "render", "stake", "federation"};
inline constexpr std::array<std::string_view, 9> kClusterKeys = {
    "name", "backend", "slurm_conf", "partitions", "default_partition", "verification_partition",
    "verification_qos", "gpu_models", "usage_grace"};
inline constexpr std::array<std::string_view, 2> kTokenKeys = {"symbol", "decimals"};
inline constexpr std::array<std::string_view, 2> kPricesKeys = {"gpu_hour", "cpu_core_hour"};
inline constexpr std::array<std::string_view, 3> kFeesKeys = {"treasury_bps", "burn_bps", "verifier_reward"};
inline constexpr std::array<std::string_view, 9> kVerificationKeys = {
    "cheat_fraction", "detection_probability", "cross_device_tolerance", "cross_device_outlier_pixels", "cell_size", "min_cells_per_frame", "reputation_min_factor",
    "reputation_max_factor", "reputation_passes_for_min"};
inline constexpr std::array<std::string_view, 4> kAccountKeys = {"name", "kind", "unix_users", "min_balance"};
inline constexpr std::array<std::string_view, 6> kLedgerKeys = {"backend",    "path",       "url", "password_file",
                                                                 "reader_url", "reader_password_file"};
inline constexpr std::array<std::string_view, 2> kKeysKeys = {"cluster_signing_key", "node_key"};
inline constexpr std::array<std::string_view, 4> kRenderKeys = {"spp", "tile_size", "max_depth", "resolution"};
inline constexpr std::array<std::string_view, 3> kStakeKeys = {"unbonding_delay", "slash_bps", "slash_burn_bps"};
inline constexpr std::array<std::string_view, 12> kFederationKeys = {
    "name", "signing_key", "tls_certificate", "tls_key", "ca_file", "peers_file", "listen", "clock_skew",
    "quote_validity", "silence_timeout", "capacity", "peers"};
inline constexpr std::array<std::string_view, 3> kCapacityKeys = {"speed", "slots", "gpu_slots"};
inline constexpr std::array<std::string_view, 9> kPeerKeys = {
    "name", "url", "public_key", "ca_file", "credit_limit", "may_send", "may_receive", "account", "token"};
inline constexpr std::array<std::string_view, 1> kPeersFileKeys = {"peers"};

// Choices for enum-valued keys, in enum order.
inline constexpr std::array<std::string_view, 2> kClusterBackends = {"local", "slurm"};
inline constexpr std::array<std::string_view, 4> kAccountKinds = {"user", "provider", "treasury", "verifier"};
inline constexpr std::array<std::string_view, 2> kLedgerBackends = {"sqlite", "postgres"};

}  // namespace rfarm::config::detail
