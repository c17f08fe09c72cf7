// rfarm federation sync | alarms | clear-stop: thin wrappers over federation/head_sync.h and
// federation/peer_heads.h (docs/FEDERATION.md, "Syncing peer heads").
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/federation_config.h"
#include "config/source.h"
#include "core/error.h"
#include "federation/head_sync.h"
#include "federation/peer_heads.h"

namespace rfarm::cli {

namespace {

using json = nlohmann::json;
namespace F = rfarm::federation;


std::string head_text(const std::optional<ledger::SignedHead>& h) {
  return h ? "size " + std::to_string(h->size) + " root " + h->root.hex() : std::string("none");
}

std::string sync_line(const F::PeerHeadSync& r) {
  const std::string who = "peer " + r.peer + ": " + std::string(F::to_string(r.outcome));
  switch (r.outcome) {
    case F::HeadSyncOutcome::first: return who + ": kept " + head_text(r.kept) + " (trust on first use)";
    case F::HeadSyncOutcome::advanced:
      return who + ": " + head_text(r.before) + " -> " + head_text(r.kept) + " (consistency proof verified)";
    case F::HeadSyncOutcome::unchanged: return who + ": " + head_text(r.kept);
    case F::HeadSyncOutcome::alarm:
    case F::HeadSyncOutcome::stopped:
      return who + ": " + (r.alarm ? r.alarm->message() : std::string("(no alarm recorded)")) +
             (r.reason.empty() ? "" : " [" + r.reason + "]") + "; see `rfarm federation alarms`";
    case F::HeadSyncOutcome::unreachable:
    case F::HeadSyncOutcome::failed: return who + ": " + r.reason + "; kept head unchanged: " + head_text(r.kept);
  }
  return who;
}

json sync_json(const F::PeerHeadSync& r) {
  auto head = [](const std::optional<ledger::SignedHead>& h) { return h ? ledger::head_to_json(*h) : json(nullptr); };
  return {{"peer", r.peer},
          {"outcome", std::string(F::to_string(r.outcome))},
          {"before", head(r.before)},
          {"kept", head(r.kept)},
          {"offered", head(r.offered)},
          {"alarm", r.alarm ? F::to_json(*r.alarm) : json(nullptr)},
          {"reason", r.reason}};
}

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

}  // namespace

void add_federation_sync_commands(CLI::App& app, Context& ctx) {
  CLI::App* fed = app.add_subcommand("federation", "Track peers' ledger heads; rewrite alarms (docs/FEDERATION.md)");
  fed->require_subcommand(1);

  struct SyncOpts {
    std::string peer;
    bool json = false;
  };
  auto so = std::make_shared<SyncOpts>();
  CLI::App* sync = fed->add_subcommand(
      "sync", "Fetch each peer's signed head with a consistency proof from the kept one; alarm on a rewrite. "
              "Exit 5: a peer unreachable, 6: a peer's answer unusable, 7: a peer stopped, 8: a new alarm");
  sync->add_option("--peer", so->peer, "Only this peer (default: every configured peer)");
  sync->add_flag("--json", so->json, "Print JSON");
  sync->callback([so, &ctx] {
    const config::Config c = federation_config(ctx);
    F::PeerHeadStore store(F::peer_heads_dir(c));
    const auto results = F::sync_peer_heads(c, SigningKey::load(c.federation.signing_key), store,
                                            so->peer.empty() ? std::nullopt : std::optional(so->peer));
    if (so->json) {
      json out = json::array();
      for (const auto& r : results) out.push_back(sync_json(r));
      print_now(out.dump(2) + "\n");
    } else {
      if (results.empty()) print_now("no peers\n");
      for (const auto& r : results) print_now(sync_line(r) + "\n");
    }
    ctx.exit_code = F::sync_exit_code(results);
  });

  auto alarms_json = std::make_shared<bool>(false);
  CLI::App* alarms = fed->add_subcommand("alarms", "List the peers stopped by a rewrite alarm");
  alarms->add_flag("--json", *alarms_json, "Print JSON (every kept peer state, with its cleared alarms)");
  alarms->callback([alarms_json, &ctx] {
    const config::Config c = federation_config(ctx);
    const auto states = F::PeerHeadStore(F::peer_heads_dir(c)).list();
    if (*alarms_json) {
      json out = json::array();
      for (const auto& s : states) out.push_back(F::to_json(s));
      print_now(out.dump(2) + "\n");
    } else {
      int stopped = 0;
      for (const auto& s : states) {
        if (!s.stopped) continue;
        ++stopped;
        print_now("peer " + s.peer + ": STOPPED: " + s.stopped->message() + "\n");
      }
      if (stopped == 0) print_now("no stopped peers (" + std::to_string(states.size()) + " peer head(s) kept)\n");
    }
    ctx.exit_code = 0;
  });

  struct ClearOpts {
    std::string peer, note;
    bool adopt = false;
  };
  auto co = std::make_shared<ClearOpts>();
  CLI::App* clear = fed->add_subcommand("clear-stop", "Lift a peer's stop after its alarm was resolved (recorded)");
  clear->add_option("PEER", co->peer, "The stopped peer")->required();
  clear->add_option("--note", co->note, "Why the stop is lifted (kept with the alarm)")->required();
  clear->add_flag("--adopt", co->adopt,
                  "Keep the head the alarm was raised on (the peer's rewritten history is accepted); "
                  "default: keep the old head, so the next sync must prove consistency from it");
  clear->callback([co, &ctx] {
    const config::Config c = federation_config(ctx);
    F::PeerHeadStore store(F::peer_heads_dir(c));
    store.clear_stop(co->peer, co->note, co->adopt, now_ns());
    const auto s = store.state(co->peer);
    print_now("cleared the stop on peer " + co->peer + "; kept head: " + head_text(s ? s->head : std::nullopt) +
          (co->adopt ? " (adopted the offered head)" : "") + "\n");
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
