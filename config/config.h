#pragma once
// rfarm.yaml as typed, validated structs. load_config() reads one file; every problem in it is an
// rfarm::Error(BadInput) whose message is one line "FILE:LINE:COL: key.path: problem (fix)".
// Money is rfarm::Amount (core/money.h): integer base units, 10^-decimals of a token; fractions are parts per million
// or basis points. No floating point anywhere: two machines reading one file agree to the unit.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.h"
#include "core/signing.h"

namespace rfarm::config {

// ---- limits (checked by the loader; a file beyond them is rejected, not truncated) ----------
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;     // rfarm.yaml is hand-written
inline constexpr std::size_t kMaxClusterNameLength = 40;    // Slurm ClusterName
inline constexpr std::size_t kMaxNameLength = 64;           // partitions, accounts, GPU models, QOS
inline constexpr std::size_t kMaxUnixUserLength = 32;       // useradd's limit
inline constexpr std::size_t kMaxListEntries = 10'000;      // accounts, users, partitions, ...
inline constexpr int kMaxTokenDecimals = 18;                // 10^18 still fits in int64
inline constexpr std::uint32_t kBasisPoints = 10'000;       // 100%
inline constexpr std::uint32_t kPartsPerMillion = 1'000'000;  // 100%
inline constexpr std::uint32_t kMaxTilesPerFrame = 65'536;
inline constexpr std::uint32_t kMaxSamplesPerPixel = 1 << 20;
inline constexpr std::uint32_t kMaxTileSize = 4096;
inline constexpr std::uint32_t kMaxRayDepth = 1024;
inline constexpr std::uint32_t kMaxResolution = 65'536;     // per axis
inline constexpr std::int64_t kMaxUnbondingDelaySeconds = 10LL * 365 * 86'400;
inline constexpr std::size_t kMaxPeers = 1'000;                // federation.peers plus the peers file
inline constexpr std::int64_t kMaxClockSkewSeconds = 3'600;     // federation.clock_skew
inline constexpr std::int64_t kMaxQuoteValiditySeconds = 7 * 86'400;
inline constexpr std::int64_t kMaxSilenceTimeoutSeconds = 30 * 86'400;  // federation.silence_timeout
inline constexpr std::size_t kMaxUrlLength = 2'048;
inline constexpr std::int64_t kMaxUsageGraceSeconds = 86'400;  // 1 day (escrow holds last 7 days)
inline constexpr int kCapacitySpeedDecimals = 6;                 // federation.capacity.speed: exact to 10^-6
inline constexpr std::int64_t kMaxCapacitySpeedMicros = 1'000LL * 1'000'000;  // speed at most 1000x the reference
inline constexpr std::uint32_t kMaxCapacitySlots = 1'000'000;   // federation.capacity.slots / gpu_slots

enum class ClusterBackend { Local, Slurm };

struct ClusterConfig {
  std::string name = "rfarm";                 // lowercase, Slurm-compatible
  ClusterBackend backend = ClusterBackend::Local;
  std::filesystem::path slurm_conf;           // empty: Slurm's own default (or $SLURM_CONF)
  std::vector<std::string> partitions;        // Slurm partitions rfarm may submit to
  std::string default_partition;              // one of partitions; empty when there are none
  std::string verification_partition;         // one of partitions; defaults to default_partition
  std::string verification_qos;               // Slurm QOS for verification jobs; empty: none
  std::vector<std::string> gpu_models;        // e.g. "h100"; each needs a price
  // Slurm: how long a job whose render and verification are done waits for its chunks' usage
  // records (SPANK spools ingested into the ledger) before the chunks still without one settle
  // unmetered (not charged). 0: settle at once. At most kMaxUsageGraceSeconds, well inside the
  // escrow hold's timeout, so the hold is settled before it could expire.
  std::int64_t usage_grace_seconds = 15 * 60;
  bool operator==(const ClusterConfig&) const = default;
};

struct TokenConfig {
  std::string symbol = "RFT";
  int decimals = 6;  // 1 token = 10^decimals base units
  bool operator==(const TokenConfig&) const = default;
};

struct PricesConfig {
  std::map<std::string, Amount> gpu_hour;  // GPU model -> base units per GPU-hour
  Amount cpu_core_hour;                    // base units per CPU-core-hour
  bool operator==(const PricesConfig&) const = default;
};

struct FeesConfig {
  std::uint32_t treasury_bps = 100;  // share of each charge paid to the treasury
  std::uint32_t burn_bps = 0;        // share of each charge destroyed; treasury + burn <= 10000
  Amount verifier_reward;            // base units paid for each verification verdict
  bool operator==(const FeesConfig&) const = default;
};

struct VerificationConfig {
  std::uint32_t cheat_fraction_ppm = 50'000;   // f: fraction of tiles a cheater fakes, 0 < f <= 1
  std::uint32_t detection_ppm = 999'000;       // P: wanted chance to catch them, 0 < P < 1
  // 0 (default): frames compare bit for bit whatever device rendered them (rfarm's CPU and CUDA
  // paths give the same bits). Else the relative difference allowed between devices, and the
  // pixels per cell allowed beyond it (0..4096).
  std::uint32_t cross_device_tolerance_ppm = 0;
  std::uint32_t cross_device_outlier_pixels = 2;
  // The verifier's sampling unit and coverage (verifier/policy.h): cells of C x C pixels (C is the
  // largest divisor of the tile size <= cell_size), at least min_cells_per_frame in every frame.
  std::uint32_t cell_size = 8;                 // 1..kMaxTileSize
  std::uint32_t min_cells_per_frame = 1;       // 0..kMaxTilesPerFrame
  // Reputation: the sample is scaled by x(2^fails) up to the max factor after a failed verdict, or
  // falls with passes to the min factor, reached after reputation_passes_for_min passes.
  std::uint32_t reputation_min_permille = 500;    // 1..1000 (x0.5)
  std::uint32_t reputation_max_permille = 4'000;  // 1000..1000000 (x4)
  std::uint32_t reputation_passes_for_min = 100;  // 1..1000000
  bool operator==(const VerificationConfig&) const = default;
};

enum class AccountKind { User, Provider, Treasury, Verifier };

struct AccountConfig {
  std::string name;
  AccountKind kind = AccountKind::User;
  std::vector<std::string> unix_users;  // who may charge jobs to this account
  Amount min_balance;                   // base units the balance is never taken below
  bool operator==(const AccountConfig&) const = default;
};

enum class LedgerBackend { Sqlite, Postgres };

struct LedgerConfig {
  LedgerBackend backend = LedgerBackend::Sqlite;
  std::filesystem::path path;  // sqlite: the database file; default: <state_dir>/ledger.sqlite3
  // postgres: postgresql://USER@HOST:PORT/DATABASE (never a password: the loader refuses one) and a
  // file (mode 0600) holding the role's password; empty: PGPASSWORD / PGPASSFILE / ~/.pgpass.
  std::string url;
  std::filesystem::path password_file;
  // postgres, optional: the read-only role (rfarm_reader) on the same server and database, and its
  // password file. When set, `rfarm submit` reads the account's balance for its funds check through
  // it (a READ ONLY session) and only the hold goes through url's writer (docs/LEDGER.md "Roles").
  std::string reader_url;
  std::filesystem::path reader_password_file;
  bool operator==(const LedgerConfig&) const = default;
};

struct KeysConfig {
  std::filesystem::path cluster_signing_key;  // default: <state_dir>/keys/cluster.key
  std::filesystem::path node_key;             // default: <state_dir>/keys/node.key
  bool operator==(const KeysConfig&) const = default;
};

struct RenderDefaults {
  std::uint32_t spp = 64;  // samples per pixel
  std::uint32_t tile_size = 64;
  std::uint32_t max_depth = 8;
  std::uint32_t width = 1920;
  std::uint32_t height = 1080;
  bool operator==(const RenderDefaults&) const = default;
};

struct StakeConfig {
  std::int64_t unbonding_delay_seconds = 7 * 86'400;
  std::uint32_t slash_bps = 1'000;  // share of a provider's stake taken for a proven fake tile
  std::uint32_t slash_burn_bps = 5'000;  // share of the slashed amount burned; the rest compensates the job's user
  bool operator==(const StakeConfig&) const = default;
};

// One peer cluster of the federation (docs/FEDERATION.md). Its Ed25519 public key verifies both the
// requests it signs and the heads of its ledger, so it is the peer's cluster signing key.
struct PeerConfig {
  std::string name;                 // the peer's federation name: its TLS certificate's CN and signer name
  std::string url;                  // https://HOST[:PORT] of its gateway
  PublicKey public_key;             // 64 hex characters
  std::filesystem::path ca_file;    // PEM: the CA that issues its certificates, or its certificate itself
  Amount credit_limit;              // base units it may owe this cluster at most
  bool may_send = false;            // it may send work here (we render for it)
  bool may_receive = false;         // we may send work to it
  std::string account;              // ledger account this cluster keeps for it; default "peer-<name>"
  TokenConfig token;                // must equal this cluster's token (checked by the loader)
  bool from_peers_file = false;     // listed in federation.peers_file, not in rfarm.yaml (for emit)
  bool operator==(const PeerConfig&) const = default;
};

// What this cluster tells its peers of its capacity in each quote (docs/FEDERATION.md, "Routing").
struct CapacityConfig {
  // Its benchmark score relative to rfarm's reference frame, in millionths (1'000'000: as fast as
  // the reference; the quote's device-seconds are at the reference speed).
  std::int64_t speed_micros = 1'000'000;
  std::uint32_t slots = 0;                         // CPU chunks it runs at once; 0: this host's hardware threads
  std::map<std::string, std::uint32_t> gpu_slots;  // GPU chunks at once per model; a model not listed: 1
  bool operator==(const CapacityConfig&) const = default;
};

struct FederationConfig {
  bool enabled = false;                    // the file has a federation section
  std::string name;                        // this cluster's federation name; default cluster.name
  std::filesystem::path signing_key;       // Ed25519; default keys.cluster_signing_key
  std::filesystem::path tls_certificate;   // PEM, CN = name
  std::filesystem::path tls_key;           // PEM private key of tls_certificate
  std::filesystem::path ca_file;           // PEM: CAs trusted for every peer (may be empty)
  std::filesystem::path peers_file;        // peers added by `rfarm peers add`; may be absent on disk
  std::string listen = "0.0.0.0:8443";     // HOST:PORT the gateway binds
  std::int64_t clock_skew_seconds = 300;   // requests further from our clock are refused
  std::int64_t quote_validity_seconds = 600;
  // A job routed to a peer that has not answered about it for this long is re-routed to another
  // peer (federation/reroute.h). 0: never re-route (the job waits for the peer).
  std::int64_t silence_timeout_seconds = 600;
  CapacityConfig capacity;                 // what its quotes say of its speed and slots
  std::vector<PeerConfig> peers;           // rfarm.yaml's, then the peers file's; names unique
  bool operator==(const FederationConfig&) const = default;
};

struct Config {
  ClusterConfig cluster;
  TokenConfig token;
  PricesConfig prices;
  FeesConfig fees;
  VerificationConfig verification;
  std::vector<AccountConfig> accounts;       // names unique
  std::map<std::string, std::string> users;  // unix user -> default account (listed on it)
  LedgerConfig ledger;
  KeysConfig keys;
  std::filesystem::path state_dir = "/var/lib/rfarm";
  std::filesystem::path spool_dir = "/var/spool/rfarm";
  RenderDefaults render;
  StakeConfig stake;
  FederationConfig federation;
  bool operator==(const Config&) const = default;
};

// The built-in configuration (what an empty rfarm.yaml gives).
Config default_config();

// Reads and validates one rfarm.yaml. Relative paths in it resolve against its directory.
// Throws rfarm::Error(BadInput) naming file:line:col, the key path, the problem and a fix.
Config load_config(const std::filesystem::path& path);

// Same for text already in memory: `file` names it in errors, `base_dir` anchors relative paths.
Config load_config_text(std::string_view text, const std::string& file,
                        const std::filesystem::path& base_dir);

// The account with this name, or nullptr.
const AccountConfig* find_account(const Config& config, std::string_view name);

// The peer with this name, or nullptr.
const PeerConfig* find_peer(const FederationConfig& federation, std::string_view name);

// Names used in the file for the enums ("slurm", "provider", ...).
std::string_view to_string(ClusterBackend backend);
std::string_view to_string(AccountKind kind);
std::string_view to_string(LedgerBackend backend);

}  // namespace rfarm::config
