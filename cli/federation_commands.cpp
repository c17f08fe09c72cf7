// rfarm serve and rfarm peers list | add | remove | ping: thin wrappers over federation/ and
// config/peers_file.h (docs/FEDERATION.md). `federation sync` etc.: cli/federation_sync_commands.cpp.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/federation_config.h"
#include "cli/route_commands.h"
#include "cli/ledger_open.h"
#include "config/gateway_address.h"
#include "config/peers_file.h"
#include "config/source.h"
#include "core/error.h"
#include "core/money.h"
#include "federation/gateway.h"
#include "federation/head_sync.h"
#include "federation/ping.h"

namespace rfarm::cli {

namespace {

using json = nlohmann::json;


void add_serve_command(CLI::App& app, Context& ctx) {
  struct ServeOpts {
    LedgerOptions ledger;
    std::string listen;
  };
  auto o = std::make_shared<ServeOpts>();
  CLI::App* serve = app.add_subcommand("serve", "Run this cluster's federation gateway (mutual TLS, signed requests)");
  serve->add_option("--listen", o->listen, "HOST:PORT to listen on (default: federation.listen; port 0: any free port)");
  add_ledger_options(*serve, o->ledger);
  serve->callback([o, &ctx] {
    config::Config c = federation_config(ctx);
    std::string why;
    const std::string listen = o->listen.empty() ? c.federation.listen : o->listen;
    const auto address = config::parse_listen_address(listen, &why);
    if (!address) throw_input_error({}, "--listen", why, "write HOST:PORT, e.g. 0.0.0.0:8443");
    const ResolvedLedger resolved = resolve_ledger(o->ledger, ctx);
    ledger::Ledger l = open_ledger(resolved, ledger::Access::read);
    const std::string name = c.federation.name;
    const std::size_t peers = c.federation.peers.size();
    SigningKey key = SigningKey::load(c.federation.signing_key);
    federation::GatewayOptions gateway_options;
    gateway_options.work = serve_work_service(c, ctx);  // POST /v1/submit runs jobs here (route_commands.h)
    // POST /v1/settlement/post writes a netting record's transfers: a writer, opened per record.
    gateway_options.open_writer = [resolved] { return open_ledger(resolved, ledger::Access::write); };
    federation::Gateway gateway(std::move(c), std::move(l), std::move(key), std::move(gateway_options));
    const int port = gateway.bind(address->host, address->port);
    print_now("rfarm serve: gateway " + name + " listening on " + address->host + ":" + std::to_string(port) + " for " +
          std::to_string(peers) + " peer(s)\n");
    federation::run_until_signal(gateway);
    print_now("rfarm serve: stopped\n");
    ctx.exit_code = 0;
  });
}

void add_peers_commands(CLI::App& app, Context& ctx) {
  CLI::App* peers = app.add_subcommand("peers", "The federation's peer clusters (federation.peers, peers file)");
  peers->require_subcommand(1);

  auto list_json = std::make_shared<bool>(false);
  CLI::App* list = peers->add_subcommand("list", "List the configured peers");
  list->add_flag("--json", *list_json, "Print JSON");
  list->callback([list_json, &ctx] {
    const config::Config c = federation_config(ctx);
    json out = json::array();
    for (const config::PeerConfig& p : c.federation.peers) {
      out.push_back({{"name", p.name}, {"url", p.url}, {"public_key", p.public_key.hex()},
                     {"ca_file", p.ca_file.string()}, {"credit_limit", format_amount(p.credit_limit, c.token.decimals)},
                     {"may_send", p.may_send}, {"may_receive", p.may_receive}, {"account", p.account},
                     {"source", p.from_peers_file ? c.federation.peers_file.string() : std::string("rfarm.yaml")}});
    }
    if (*list_json) return print_now(out.dump(2) + "\n");
    if (out.empty()) print_now("no peers\n");
    for (const json& p : out)
      print_now(p["name"].get<std::string>() + "  " + p["url"].get<std::string>() + "  send:" + (p["may_send"] ? "yes" : "no") +
            " receive:" + (p["may_receive"] ? "yes" : "no") + "  credit " + p["credit_limit"].get<std::string>() + " " +
            c.token.symbol + "  account " + p["account"].get<std::string>() + "  (" + p["source"].get<std::string>() + ")\n");
    ctx.exit_code = 0;
  });

  auto spec = std::make_shared<config::PeerSpec>();
  CLI::App* add = peers->add_subcommand("add", "Add a peer to federation.peers_file (validated, written atomically)");
  add->add_option("NAME", spec->name, "The peer's federation name (its certificate's CN)")->required();
  add->add_option("--url", spec->url, "Its gateway: https://HOST[:PORT]")->required();
  add->add_option("--public-key", spec->public_key, "Its Ed25519 public key: 64 hex characters, or its .pub file")->required();
  add->add_option("--ca-file", spec->ca_file, "PEM of the CA that issues its certificates (or its certificate)")->required();
  add->add_option("--credit-limit", spec->credit_limit, "Tokens it may owe this cluster at most (default 0)");
  add->add_flag("--may-send", spec->may_send, "It may send work here");
  add->add_flag("--may-receive", spec->may_receive, "This cluster may send work to it");
  add->add_option("--account", spec->account, "Ledger account kept for it (default peer-NAME)");
  add->add_option("--token-symbol", spec->token_symbol, "Its token's symbol (default: ours; another is refused)");
  add->add_option("--token-decimals", spec->token_decimals, "Its token's decimals (default: ours; others are refused)");
  add->callback([spec, &ctx] {
    const config::Config c = federation_config(ctx);
    config::PeerSpec s = *spec;
    std::error_code ec;
    if (std::filesystem::is_regular_file(s.public_key, ec)) s.public_key = load_public_key(s.public_key).hex();
    if (!s.ca_file.empty()) s.ca_file = std::filesystem::absolute(s.ca_file).lexically_normal().string();
    const config::PeerConfig p = config::add_peer(c, s);
    print_now("added peer " + p.name + " (" + p.url + ") to " + c.federation.peers_file.string() + "\n");
    ctx.exit_code = 0;
  });

  auto remove_name = std::make_shared<std::string>();
  CLI::App* remove = peers->add_subcommand("remove", "Remove a peer from federation.peers_file");
  remove->add_option("NAME", *remove_name, "The peer's name")->required();
  remove->callback([remove_name, &ctx] {
    const config::Config c = federation_config(ctx);
    config::remove_peer(c, *remove_name);
    print_now("removed peer " + *remove_name + " from " + c.federation.peers_file.string() + "\n");
    ctx.exit_code = 0;
  });

  auto ping = std::make_shared<std::pair<std::string, bool>>("", false);
  CLI::App* ping_cmd = peers->add_subcommand("ping", "Call a peer's gateway: mutual TLS, signed request and response");
  ping_cmd->add_option("NAME", ping->first, "The peer's name")->required();
  ping_cmd->add_flag("--json", ping->second, "Print JSON");
  ping_cmd->callback([ping, &ctx] {
    const config::Config c = federation_config(ctx);
    // A peer stopped by a rewrite alarm still answers pings (the channel works), but no work may go
    // to it; there is no work routing yet, so this is where the stop is visible today.
    const auto alarm = federation::standing_alarm(c, ping->first);
    if (alarm && !ping->second)
      print_now("peer " + ping->first + " is STOPPED: no work goes to it until `rfarm federation clear-stop " + ping->first +
            " --note ...`: " + alarm->message() + "\n");
    const federation::PingResult r = federation::ping_peer(c, ping->first, SigningKey::load(c.federation.signing_key));
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", r.round_trip_ms);
    if (ping->second) print_now(json{{"peer", r.peer}, {"round_trip_ms", r.round_trip_ms}, {"reply", r.reply},
                                 {"stopped", alarm ? federation::to_json(*alarm) : json(nullptr)}}.dump(2) + "\n");
    else print_now("peer " + r.peer + " answered in " + ms + " ms: token " + r.reply["token"].dump() + ", you may send: " +
               (r.reply.value("you_may_send", false) ? "yes" : "no") + ", you may receive: " +
               (r.reply.value("you_may_receive", false) ? "yes" : "no") + "\n");
    ctx.exit_code = alarm ? federation::kSyncExitStopped : 0;
  });
}

}  // namespace

void add_federation_commands(CLI::App& app, Context& ctx) {
  add_serve_command(app, ctx);
  add_peers_commands(app, ctx);
}

}  // namespace rfarm::cli
