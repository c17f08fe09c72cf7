// rfarm federation settle --period YYYY-MM: a thin wrapper over federation/settle.h
// (docs/FEDERATION.md, "Settlement between clusters").
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/federation_config.h"
#include "cli/ledger_open.h"
#include "core/error.h"
#include "core/money.h"
#include "federation/head_sync.h"
#include "federation/settle.h"

namespace rfarm::cli {

namespace {

namespace F = rfarm::federation;

// Exit statuses beyond the usual error ones (docs/FEDERATION.md).
constexpr int kSettleExitDisagreement = 9;  // two sides' statements differ: nothing settled anywhere
constexpr int kSettleExitPostFailed = 10;   // signed by all, but a party could not post (run it again)

std::string report_text(const F::SettleReport& r, int decimals) {
  const auto amt = [decimals](Amount a) { return format_amount(a, decimals); };
  std::string out;
  if (!r.disagreements.empty()) {
    for (const F::PairDisagreement& d : r.disagreements) out += "DISAGREEMENT: " + d.message() + "\n";
    return out + "settle " + r.period + ": nothing was signed or posted on any ledger\n";
  }
  out += "settle " + r.period + ": " + (r.multilateral ? "multilateral" : "bilateral") + " netting" +
         (r.note.empty() ? "" : " (" + r.note + ")") + "\n";
  for (const F::NettingRecord& rec : r.records) {
    out += "record " + sha256(F::netting_message(rec)).hex() + ", signed by";
    for (const std::string& p : rec.parties) out += " " + p;
    out += "\n";
    for (const F::PairTotal& t : rec.pairs)
      out += "  pair " + t.a + "/" + t.b + ": " + std::to_string(t.entries) + " entries, " + t.a + " owes " + amt(t.a_owes_b) +
             ", " + t.b + " owes " + amt(t.b_owes_a) + "\n";
    for (const F::NetPosition& p : rec.positions)
      out += "  position " + p.cluster + " " + (p.amount.units == 0 ? "flat" : (p.owed ? "is owed " : "owes ") + amt(p.amount)) + "\n";
    for (const F::Payment& p : rec.payments) out += "  payment " + p.from + " -> " + p.to + " " + amt(p.amount) + "\n";
  }
  for (const F::PartyPost& p : r.posts)
    out += "posted on " + p.party + ": " +
           (!p.ok ? "FAILED: " + p.error
                  : p.already_posted ? "already posted (" + std::to_string(p.transfers) + " transfers, nothing changed)"
                                     : std::to_string(p.transfers) + " transfers") + "\n";
  return out;
}

}  // namespace

void add_federation_settle_command(CLI::App& app, Context& ctx) {
  CLI::App* fed = app.get_subcommand("federation");
  struct Opts {
    LedgerOptions ledger;
    std::string period;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* settle = fed->add_subcommand(
      "settle", "Net what this cluster and its peers owe each other for a month, have every party sign, post on "
                "every ledger. Exit 9: statements disagree (nothing settled), 10: a party could not post");
  settle->add_option("--period", o->period, "The month, YYYY-MM (UTC)")->required();
  settle->add_flag("--json", o->json, "Print JSON");
  add_ledger_options(*settle, o->ledger);
  settle->callback([o, &ctx] {
    const config::Config c = federation_config(ctx);
    ledger::Ledger l = open_ledger(resolve_ledger(o->ledger, ctx), ledger::Access::write);
    F::PeerHeadStore heads(F::peer_heads_dir(c));
    const F::SettleReport r = F::settle_period(c, l, SigningKey::load(c.federation.signing_key), heads, o->period);
    print_now(o->json ? F::to_json(r).dump(2) + "\n" : report_text(r, c.token.decimals));
    ctx.exit_code = !r.disagreements.empty() ? kSettleExitDisagreement : r.settled() ? 0 : kSettleExitPostFailed;
  });
}

}  // namespace rfarm::cli
