// load_config(): rfarm.yaml -> Config. Sections are read in dependency order, not file order:
// the token's decimals before any amount, the cluster's GPU models before their prices, the
// accounts before the users that point at them.
#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/config.h"
#include "config/detail/accounts.h"
#include "config/detail/decimal.h"
#include "config/detail/federation.h"
#include "config/detail/keys.h"
#include "config/detail/names.h"
#include "config/detail/yaml_reader.h"
#include "core/error.h"

namespace rfarm::config {

using namespace detail;

// Amounts are parsed by core/money.h, which takes at most its own kMaxDecimals.
static_assert(kMaxTokenDecimals <= rfarm::kMaxDecimals);

namespace {

// A list of names with no repeats; `nodes` receives each name's node for later messages.
std::vector<std::string> read_unique_names(const Reader& r, const Entry& e, NameRule rule,
                                           std::vector<YAML::Node>* nodes = nullptr) {
  std::vector<std::string> names;
  const auto items = read_sequence(r, e.value, e.path);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = index_path(e.path, i);
    std::string name = read_name(r, items[i], path, rule);
    if (std::find(names.begin(), names.end(), name) != names.end())
      r.fail(items[i], path, "'" + name + "' is listed twice", "list each name once");
    names.push_back(std::move(name));
    if (nodes) nodes->push_back(items[i]);
  }
  return names;
}

void read_token(const Reader& r, const Entry* e, TokenConfig& t) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kTokenKeys);
  if (const Entry* s = m.get("symbol")) t.symbol = read_name(r, s->value, s->path, NameRule::Symbol);
  if (const Entry* d = m.get("decimals"))
    t.decimals = static_cast<int>(read_int(r, d->value, d->path, 0, kMaxTokenDecimals));
}

void read_cluster(const Reader& r, const Entry* e, ClusterConfig& c, std::vector<YAML::Node>& gpu_nodes) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kClusterKeys);
  if (const Entry* x = m.get("name")) c.name = read_name(r, x->value, x->path, NameRule::Cluster);
  if (const Entry* x = m.get("backend"))
    c.backend = static_cast<ClusterBackend>(read_choice(r, x->value, x->path, kClusterBackends));
  if (const Entry* x = m.get("slurm_conf")) c.slurm_conf = read_path(r, x->value, x->path);
  if (const Entry* x = m.get("partitions")) c.partitions = read_unique_names(r, *x, NameRule::Slurm);
  if (const Entry* x = m.get("gpu_models")) c.gpu_models = read_unique_names(r, *x, NameRule::Lowercase, &gpu_nodes);
  if (const Entry* x = m.get("verification_qos")) c.verification_qos = read_name(r, x->value, x->path, NameRule::Slurm);
  if (const Entry* x = m.get("usage_grace")) c.usage_grace_seconds = read_duration(r, x->value, x->path, kMaxUsageGraceSeconds);
  for (const char* key : {"default_partition", "verification_partition"}) {
    const Entry* x = m.get(key);
    if (!x) continue;
    std::string name = read_name(r, x->value, x->path, NameRule::Slurm);
    require_known(r, x->value, x->path, name, c.partitions, "cluster.partitions");
    (x->name == "default_partition" ? c.default_partition : c.verification_partition) = std::move(name);
  }
  // Without an explicit choice the first partition is the default, and verification runs there.
  if (c.default_partition.empty() && !c.partitions.empty()) c.default_partition = c.partitions.front();
  if (c.verification_partition.empty()) c.verification_partition = c.default_partition;
}

void read_prices(const Reader& r, const MapView& top, const ClusterConfig& cluster,
                 const std::vector<YAML::Node>& gpu_nodes, int decimals, PricesConfig& p) {
  const Entry* e = top.get("prices");
  const MapView m = e ? read_map(r, e->value, e->path, kPricesKeys) : MapView(YAML::Node(), "prices", {});
  if (const Entry* x = m.get("cpu_core_hour")) p.cpu_core_hour = read_amount(r, x->value, x->path, decimals);
  const Entry* g = m.get("gpu_hour");
  if (g) {
    const MapView gm = read_free_map(r, g->value, g->path);
    for (const Entry& model : gm.entries()) {
      require_known(r, model.key, model.path, model.name, cluster.gpu_models, "cluster.gpu_models");
      p.gpu_hour[model.name] = read_amount(r, model.value, model.path, decimals);
    }
  }
  // A GPU model with no price could be scheduled and never charged: refuse that.
  for (std::size_t i = 0; i < cluster.gpu_models.size(); ++i) {
    const std::string& model = cluster.gpu_models[i];
    if (p.gpu_hour.count(model)) continue;
    r.fail(g ? g->key : gpu_nodes[i], "prices.gpu_hour." + model,
           "no price for GPU model '" + model + "' listed in cluster.gpu_models",
           "add '" + model + ": \"2.5\"' (tokens per GPU-hour) under prices.gpu_hour");
  }
}

void read_fees(const Reader& r, const Entry* e, int decimals, FeesConfig& f) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kFeesKeys);
  const std::int64_t bps = kBasisPoints;
  if (const Entry* x = m.get("treasury_bps")) f.treasury_bps = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, bps));
  if (const Entry* x = m.get("burn_bps")) f.burn_bps = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, bps));
  if (const Entry* x = m.get("verifier_reward")) f.verifier_reward = read_amount(r, x->value, x->path, decimals);
  if (f.treasury_bps + f.burn_bps > kBasisPoints) {
    const Entry* x = m.get("burn_bps") ? m.get("burn_bps") : m.get("treasury_bps");
    r.fail(x->value, x->path,
           "treasury_bps + burn_bps is " + std::to_string(f.treasury_bps + f.burn_bps) + ", more than all of a charge",
           "make the sum at most 10000 (100%)");
  }
}

// A sample-size factor such as 0.5 or 4, as permille within [min, max] (exact: 3 decimals at most).
std::uint32_t read_factor_permille(const Reader& r, const Entry& x, std::uint32_t min, std::uint32_t max) {
  const std::string range = detail::format_decimal(min, 3) + " to " + detail::format_decimal(max, 3);
  const std::string text = read_string(r, x.value, x.path);
  std::string why;
  const auto value = detail::parse_decimal(text, 3, false, &why);
  if (!value) r.fail(x.value, x.path, "'" + text + "' " + why, "a factor like 0.5 or 4, from " + range);
  if (*value < min || *value > max) r.fail(x.value, x.path, "'" + text + "' is out of range", "use a factor from " + range);
  return static_cast<std::uint32_t>(*value);
}

void read_verification(const Reader& r, const Entry* e, VerificationConfig& v) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kVerificationKeys);
  if (const Entry* x = m.get("cheat_fraction")) {
    v.cheat_fraction_ppm = read_ppm(r, x->value, x->path);
    if (v.cheat_fraction_ppm == 0)
      r.fail(x->value, x->path, "must be more than 0 (a cheater fakes at least some tiles)", "e.g. \"5%\"; 0 < f <= 100%");
  }
  if (const Entry* x = m.get("detection_probability")) {
    v.detection_ppm = read_ppm(r, x->value, x->path);
    if (v.detection_ppm == 0 || v.detection_ppm == kPartsPerMillion)
      r.fail(x->value, x->path, "must be strictly between 0 and 100% (certainty needs every tile)",
             "e.g. \"99.9%\"");
  }
  const std::int64_t max_tiles = kMaxTilesPerFrame;
  if (const Entry* x = m.get("cross_device_tolerance")) v.cross_device_tolerance_ppm = read_ppm(r, x->value, x->path);
  if (const Entry* x = m.get("cross_device_outlier_pixels"))
    v.cross_device_outlier_pixels = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, kMaxTileSize));
  if (const Entry* x = m.get("cell_size"))
    v.cell_size = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 1, kMaxTileSize));
  if (const Entry* x = m.get("min_cells_per_frame"))
    v.min_cells_per_frame = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, max_tiles));
  if (const Entry* x = m.get("reputation_min_factor")) v.reputation_min_permille = read_factor_permille(r, *x, 1, 1'000);
  if (const Entry* x = m.get("reputation_max_factor"))
    v.reputation_max_permille = read_factor_permille(r, *x, 1'000, 1'000'000);
  if (const Entry* x = m.get("reputation_passes_for_min"))
    v.reputation_passes_for_min = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 1, 1'000'000));
}

void read_render(const Reader& r, const Entry* e, RenderDefaults& d) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kRenderKeys);
  auto u32 = [&](const Entry* x, std::int64_t max) {
    return static_cast<std::uint32_t>(read_int(r, x->value, x->path, 1, max));
  };
  if (const Entry* x = m.get("spp")) d.spp = u32(x, kMaxSamplesPerPixel);
  if (const Entry* x = m.get("tile_size")) d.tile_size = u32(x, kMaxTileSize);
  if (const Entry* x = m.get("max_depth")) d.max_depth = u32(x, kMaxRayDepth);
  if (const Entry* x = m.get("resolution")) {
    const auto wh = read_sequence(r, x->value, x->path);
    if (wh.size() != 2)
      r.fail(x->value, x->path, "expected [width, height], got " + std::to_string(wh.size()) + " values",
             "e.g. [1920, 1080]");
    d.width = static_cast<std::uint32_t>(read_int(r, wh[0], index_path(x->path, 0), 1, kMaxResolution));
    d.height = static_cast<std::uint32_t>(read_int(r, wh[1], index_path(x->path, 1), 1, kMaxResolution));
  }
}

void read_stake(const Reader& r, const Entry* e, StakeConfig& s) {
  if (!e) return;
  const MapView m = read_map(r, e->value, e->path, kStakeKeys);
  if (const Entry* x = m.get("unbonding_delay"))
    s.unbonding_delay_seconds = read_duration(r, x->value, x->path, kMaxUnbondingDelaySeconds);
  if (const Entry* x = m.get("slash_bps")) s.slash_bps = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, kBasisPoints));
  if (const Entry* x = m.get("slash_burn_bps"))
    s.slash_burn_bps = static_cast<std::uint32_t>(read_int(r, x->value, x->path, 0, kBasisPoints));
}

void read_storage(const Reader& r, const MapView& top, Config& c) {
  if (const Entry* x = top.get("state_dir")) c.state_dir = read_path(r, x->value, x->path);
  if (const Entry* x = top.get("spool_dir")) c.spool_dir = read_path(r, x->value, x->path);
  // Files under the state directory follow it unless named on their own.
  c.ledger.path = c.state_dir / "ledger.sqlite3";
  c.keys.cluster_signing_key = c.state_dir / "keys" / "cluster.key";
  c.keys.node_key = c.state_dir / "keys" / "node.key";
  if (const Entry* e = top.get("ledger")) {
    const MapView m = read_map(r, e->value, e->path, kLedgerKeys);
    if (const Entry* x = m.get("backend"))
      c.ledger.backend = static_cast<LedgerBackend>(read_choice(r, x->value, x->path, kLedgerBackends));
    if (const Entry* x = m.get("path")) c.ledger.path = read_path(r, x->value, x->path);
    // A PostgreSQL URL without a password; returns what follows USER@ (host, port, database and
    // options), which the reader's URL must share with the writer's.
    auto read_url = [&](const Entry* x, std::string& out, const char* password_key) -> std::string {
      out = read_string(r, x->value, x->path);
      const std::string& u = out;  // "" (as emitted for sqlite) means unset
      if (!u.empty() && u.rfind("postgresql://", 0) != 0 && u.rfind("postgres://", 0) != 0) {
        r.fail(x->value, x->path, "is not a PostgreSQL URL", "write postgresql://USER@HOST:PORT/DATABASE");
      }
      std::string_view rest = u.empty() ? std::string_view() : std::string_view(u).substr(u.find("://") + 3);
      std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
      auto at = authority.rfind('@');
      if ((at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos) ||
          u.find("password=") != std::string::npos) {
        r.fail(x->value, x->path, "holds a password (never put one in the config)",
               std::string("remove it; put it in ledger.") + password_key + " (mode 0600) or PGPASSWORD / PGPASSFILE");
      }
      return std::string(at == std::string_view::npos ? rest : rest.substr(at + 1));
    };
    std::string writer_server;
    if (const Entry* x = m.get("url")) writer_server = read_url(x, c.ledger.url, "password_file");
    if (const Entry* x = m.get("password_file")) c.ledger.password_file = read_path(r, x->value, x->path);
    if (c.ledger.backend == LedgerBackend::Postgres && c.ledger.url.empty()) {
      r.fail(e->value, e->path, "backend postgres needs a url", "add ledger.url: postgresql://USER@HOST:PORT/DATABASE");
    }
    if (const Entry* x = m.get("reader_url")) {
      const std::string reader_server = read_url(x, c.ledger.reader_url, "reader_password_file");
      // Like url, ignored with backend sqlite; with postgres it must name the writer's database.
      if (!c.ledger.reader_url.empty() && !c.ledger.url.empty() && reader_server != writer_server)
        r.fail(x->value, x->path, "names another server or database than ledger.url (" + writer_server + ")",
               "give the reader role on the same HOST:PORT/DATABASE, e.g. postgresql://rfarm_reader@" + writer_server);
    }
    if (const Entry* x = m.get("reader_password_file")) c.ledger.reader_password_file = read_path(r, x->value, x->path);
  }
  if (const Entry* e = top.get("keys")) {
    const MapView m = read_map(r, e->value, e->path, kKeysKeys);
    if (const Entry* x = m.get("cluster_signing_key")) c.keys.cluster_signing_key = read_path(r, x->value, x->path);
    if (const Entry* x = m.get("node_key")) c.keys.node_key = read_path(r, x->value, x->path);
  }
}

Config read_root(const Reader& r, const YAML::Node& root) {
  Config c = default_config();
  const MapView top = read_map(r, root, "", kTopKeys);
  read_token(r, top.get("token"), c.token);
  const int decimals = c.token.decimals;
  // Amount defaults are whole tokens, so they mean the same at any number of decimals.
  c.prices.cpu_core_hour = Amount(static_cast<std::uint64_t>(pow10(decimals)));
  c.fees.verifier_reward = c.prices.cpu_core_hour;
  std::vector<YAML::Node> gpu_nodes;
  read_cluster(r, top.get("cluster"), c.cluster, gpu_nodes);
  read_prices(r, top, c.cluster, gpu_nodes, decimals, c.prices);
  read_fees(r, top.get("fees"), decimals, c.fees);
  read_verification(r, top.get("verification"), c.verification);
  c.accounts = read_accounts(r, top.get("accounts"), decimals);
  c.users = read_users(r, top.get("users"), c.accounts);
  read_storage(r, top, c);
  read_render(r, top.get("render"), c.render);
  read_stake(r, top.get("stake"), c.stake);
  c.federation = read_federation(r, top.get("federation"), c);  // after cluster, token and keys
  return c;
}

}  // namespace

Config load_config_text(std::string_view text, const std::string& file, const std::filesystem::path& base_dir) {
  if (text.size() > kMaxConfigBytes)
    throw_input_error({file, 1, 1}, "", "the file is larger than " + std::to_string(kMaxConfigBytes) + " bytes",
                      "rfarm.yaml is a short hand-written file; check that this is the right one");
  const Reader r(file, base_dir);
  try {
    return read_root(r, YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    // Syntax errors (and anything else yaml-cpp refuses) get the same one-line shape.
    const bool known = !e.mark.is_null() && e.mark.line >= 0 && e.mark.column >= 0;
    // yaml-cpp may quote a raw input character in its message: keep the error on one line.
    std::string msg = e.msg;
    for (char& ch : msg)
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    throw_input_error({file, known ? e.mark.line + 1 : 1, known ? e.mark.column + 1 : 1}, "",
                      "invalid YAML: " + (msg.empty() ? std::string("cannot parse") : msg),
                      "fix the YAML syntax here");
  }
}

Config load_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw_input_error({path.string(), 0, 0}, "", "is a directory", "give the path of an rfarm.yaml file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_input_error({path.string(), 0, 0}, "", "cannot open the configuration file", "check the path");
  std::string text;
  // Read at most one byte past the limit: enough to tell that the file is too large.
  text.resize(kMaxConfigBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw_input_error({path.string(), 0, 0}, "", "cannot read the configuration file", "check its permissions");
  const std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  return load_config_text(text, path.string(), (ec ? path : absolute).parent_path());
}

}  // namespace rfarm::config
