// rfarm ledger ingest: turns the SPANK plugin's signed usage records into charges (ledger/usage_ingest.h).
// Thin: resolve the config, the ledger, the keyring and the provider; call; print.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_open.h"
#include "config/config.h"
#include "core/error.h"
#include "ledger/ledger.h"
#include "ledger/usage_ingest.h"

namespace rfarm::cli {
namespace {

namespace L = rfarm::ledger;
using nlohmann::json;

struct IngestOptions {
  std::string spool;
  std::string node_keys;
  std::string provider;
};

// The value the user gave an option of the parent `rfarm ledger` command, or "".
std::string parent_option(CLI::App* ledger, const std::string& name) {
  CLI::Option* opt = ledger->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0 ? opt->as<std::string>() : std::string();
}

}  // namespace

void add_usage_commands(CLI::App& app, Context& ctx) {
  CLI::App* ledger = app.get_subcommand("ledger");
  auto o = std::make_shared<IngestOptions>();
  CLI::App* ingest = ledger->add_subcommand(
      "ingest", "Verify the SPANK plugin's signed usage records and charge them (re-ingesting is harmless)");
  ingest->add_option("SPOOL", o->spool, "Spool directory of usage-*.jsonl files (default: spool_dir in rfarm.yaml)");
  ingest->add_option("--node-keys", o->node_keys,
                     "Directory of registered node public keys, one <node>.pub each (default: <state_dir>/node-keys)");
  ingest->add_option("--provider", o->provider,
                     "Account credited with the charges (default: the first provider account in rfarm.yaml)");
  ingest->callback([ledger, o, &ctx] {
    const ResolvedLedger resolved = resolve_ledger(parent_ledger_options(*ledger), ctx);
    const config::Config& cfg = resolved.config;
    const std::string db = L::describe(resolved.where);
    const bool as_json = parent_option(ledger, "--json") == "true";
    L::Ledger l = open_ledger(resolved, L::Access::write);
    if (l.decimals() != cfg.token.decimals) {
      throw Error(Error::Kind::BadInput, "rfarm.yaml token.decimals is " + std::to_string(cfg.token.decimals) +
                                             " but the ledger " + db + " uses " + std::to_string(l.decimals()) +
                                             " (prices would be off by a power of ten: fix token.decimals)");
    }

    std::string provider = o->provider;
    if (provider.empty()) {
      for (const auto& a : cfg.accounts) {
        if (a.kind == config::AccountKind::Provider) {
          provider = a.name;
          break;
        }
      }
    }
    if (provider.empty()) {
      throw_input_error({}, "--provider", "no provider account to credit",
                        "pass --provider NAME or add an account of kind provider to rfarm.yaml");
    }
    const L::Account provider_account = l.resolve_account(provider, "--provider");

    L::UsagePrices prices;
    for (const auto& [model, price] : cfg.prices.gpu_hour) prices.gpu_hour[model] = price;
    prices.cpu_core_hour = cfg.prices.cpu_core_hour;

    const std::filesystem::path keys_dir = o->node_keys.empty() ? cfg.state_dir / "node-keys" : std::filesystem::path(o->node_keys);
    const L::NodeKeyring ring = L::NodeKeyring::load_dir(keys_dir);
    const std::filesystem::path spool = o->spool.empty() ? cfg.spool_dir : std::filesystem::path(o->spool);
    const L::IngestSummary s = L::ingest_spool(l, spool, ring, prices, provider_account.id);

    using S = L::IngestOutcome::Status;
    if (as_json) {
      json lines = json::array();
      for (const auto& x : s.outcomes) {
        lines.push_back({{"source", x.source}, {"status", std::string(L::to_string(x.status))}, {"record", x.key},
                         {"job", x.job},
                         {"amount", format_amount(x.amount, l.decimals())}, {"reason", x.reason}});
      }
      std::printf("%s\n", json{{"spool", spool.string()}, {"records", lines}}.dump(2).c_str());
    } else {
      for (const auto& x : s.outcomes) {
        if (x.status == S::duplicate || x.status == S::evidence_only || x.status == S::job_usage) continue;
        std::printf("%-13s %s %s%s%s\n", std::string(L::to_string(x.status)).c_str(), x.source.c_str(), x.key.c_str(),
                    x.status == S::charged ? (" " + format_amount(x.amount, l.decimals()) + " " + cfg.token.symbol).c_str() : "",
                    x.reason.empty() ? "" : (": " + x.reason).c_str());
      }
      std::printf("ingested %zu records from %s: %zu charged, %zu already charged, %zu evidence only, "
                  "%zu for rfarm jobs (paid from their escrow), %zu free, %zu rejected, %zu conflicting, %zu refused\n",
                  s.outcomes.size(), spool.c_str(), s.count(S::charged), s.count(S::duplicate), s.count(S::evidence_only),
                  s.count(S::job_usage), s.count(S::free), s.count(S::rejected), s.count(S::conflict), s.count(S::refused));
    }
    // Forged or conflicting records are integrity failures; refusals (funds, prices) need an operator.
    if (s.count(S::rejected) + s.count(S::conflict) > 0) ctx.exit_code = 4;
    else if (s.count(S::refused) > 0) ctx.exit_code = 3;
    else ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
