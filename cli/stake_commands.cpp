// rfarm ledger stake | unstake | slash | stake-info | verdicts: thin wrappers over ledger/stake.h
// and the ledger's verdict queries. Ledger, key and --json come from the parent `rfarm ledger`
// command (as in ledger_commands.cpp); the unbonding delay and slash shares default to rfarm.yaml's
// stake section.
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
#include "ledger/stake.h"
#include "ledger/statement.h"

namespace rfarm::cli {
namespace {

namespace L = rfarm::ledger;
using nlohmann::json;

std::string parent_option(CLI::App* ledger, const std::string& name) {
  CLI::Option* opt = ledger->get_option_no_throw(name);
  return opt != nullptr && opt->count() > 0 ? opt->as<std::string>() : std::string();
}

struct Opened {
  config::Config config;
  L::Ledger ledger;
  bool json = false;
};

// The ledger as `rfarm ledger` resolves it (cli/ledger_open.h): SQLite or PostgreSQL.
Opened open(CLI::App* parent, const Context& ctx, bool writable) {
  ResolvedLedger r = resolve_ledger(parent_ledger_options(*parent), ctx);
  L::Ledger l = open_ledger(r, writable ? L::Access::write : L::Access::read);
  return {std::move(r.config), std::move(l), parent_option(parent, "--json") == "true"};
}

void print_json(const json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// A refused stake movement: one line, exit 3 for refusals, 2 for bad input.
[[noreturn]] void refuse(std::string_view verb, const Id128& id, L::TransferResult r, const std::string& extra = {}) {
  using R = L::TransferResult;
  std::string hint;
  Error::Kind kind = Error::Kind::Refused;
  switch (r) {
    case R::exceeds_credits: hint = "not enough tokens (a stake needs the provider's balance, an unstake bonded stake)"; break;
    case R::exists_with_different_fields: hint = "this id was already used for a different transfer (choose a new --id)"; break;
    case R::pending_transfer_unbonding: hint = "still unbonding" + extra; break;
    case R::pending_transfer_already_posted: hint = "already completed"; break;
    case R::pending_transfer_already_voided: hint = "cancelled or taken by a slash (see `rfarm ledger stake-info`)"; break;
    case R::pending_transfer_not_found: hint = "no unstake has that id"; kind = Error::Kind::BadInput; break;
    case R::amount_must_not_be_zero: hint = "AMOUNT must be above zero"; kind = Error::Kind::BadInput; break;
    case R::unbond_too_large: hint = "stake.unbonding_delay is longer than 366 days"; kind = Error::Kind::BadInput; break;
    default: hint = "see docs/LEDGER.md"; kind = Error::Kind::BadInput; break;
  }
  throw Error(kind, std::string(verb) + " " + id.hex() + " refused: " + std::string(L::to_string(r)) + ": " + hint);
}

Id128 id_or(const std::string& text, const Id128& fallback) { return text.empty() ? fallback : parse_id(text, "--id"); }

void print_transfer(L::Ledger& l, std::string_view verb, const Id128& id, L::TransferResult r, bool as_json) {
  L::Transfer t = *l.find_transfer(id);
  if (as_json) {
    print_json({{"id", t.id.hex()},
                {"result", std::string(L::to_string(r))},
                {"code", std::string(L::to_string(t.code))},
                {"phase", std::string(L::phase_name(t.flags).value_or("?"))},
                {"amount", format_amount(t.amount, l.decimals())},
                {"unbond_at", t.unbond_at},
                {"event", t.event}});
    return;
  }
  std::printf("%s %s: %s (%s, event #%llu%s)\n", std::string(verb).c_str(), t.id.hex().c_str(),
              std::string(L::to_string(r)).c_str(), format_amount(t.amount, l.decimals()).c_str(),
              static_cast<unsigned long long>(t.event),
              t.unbond_at != 0 ? (", releasable from " + L::format_utc_time(t.unbond_at)).c_str() : "");
}

struct MoveOpts {
  std::string provider, amount, id, complete;
};

struct SlashOpts {
  std::string provider, harmed, job, frames, id;
  std::optional<std::uint32_t> bps, burn_bps;
};

}  // namespace

void add_stake_commands(CLI::App& app, Context& ctx) {
  CLI::App* ledger = app.get_subcommand("ledger");

  auto s = std::make_shared<MoveOpts>();
  CLI::App* stake = ledger->add_subcommand("stake", "Bond a provider's tokens as stake (slashable for fake work)");
  stake->add_option("PROVIDER", s->provider, "Provider account (name or id)")->required();
  stake->add_option("AMOUNT", s->amount, "Decimal amount, e.g. 100")->required();
  stake->add_option("--id", s->id, "Transfer id, 1-32 hex digits: the idempotency key (default: random)");
  stake->callback([ledger, s, &ctx] {
    Opened o = open(ledger, ctx, true);
    L::Account p = o.ledger.resolve_account(s->provider, "PROVIDER");
    Id128 id = id_or(s->id, Id128::random());
    L::TransferResult r = L::stake(o.ledger, id, p.id, parse_amount(s->amount, o.ledger.decimals(), "AMOUNT"));
    if (r != L::TransferResult::ok && r != L::TransferResult::exists) refuse("stake", id, r);
    print_transfer(o.ledger, "stake", id, r, o.json);
    ctx.exit_code = 0;
  });

  auto u = std::make_shared<MoveOpts>();
  CLI::App* unstake = ledger->add_subcommand(
      "unstake", "Begin unbonding stake (released after stake.unbonding_delay), or --complete a finished unbonding");
  unstake->add_option("PROVIDER", u->provider, "Provider account (name or id)");
  unstake->add_option("AMOUNT", u->amount, "Decimal amount to unbond");
  unstake->add_option("--complete", u->complete, "Complete the unbonding with this id (printed when it began)");
  unstake->add_option("--id", u->id, "Transfer id, 1-32 hex digits: the idempotency key");
  unstake->callback([ledger, u, &ctx] {
    Opened o = open(ledger, ctx, true);
    if (!u->complete.empty()) {
      if (!u->provider.empty() || !u->amount.empty()) {
        throw_input_error({}, "--complete", "takes no PROVIDER or AMOUNT", "run `rfarm ledger unstake --complete ID`");
      }
      Id128 pending = parse_id(u->complete, "--complete");
      Id128 id = id_or(u->id, Id128::derived("rfarm-unstake-complete-v1:" + pending.hex()));
      L::TransferResult r = L::complete_unstake(o.ledger, id, pending);
      if (r != L::TransferResult::ok && r != L::TransferResult::exists) {
        auto p = o.ledger.find_transfer(pending);
        refuse("unstake --complete", id, r,
               p && p->unbond_at != 0 ? " until " + L::format_utc_time(p->unbond_at) : std::string());
      }
      print_transfer(o.ledger, "unstake completed", id, r, o.json);
    } else {
      if (u->provider.empty() || u->amount.empty()) {
        throw_input_error({}, "PROVIDER AMOUNT", "missing", "run `rfarm ledger unstake PROVIDER AMOUNT` (or --complete ID)");
      }
      L::Account p = o.ledger.resolve_account(u->provider, "PROVIDER");
      Id128 id = id_or(u->id, Id128::random());
      if (o.config.stake.unbonding_delay_seconds < 0) {
        throw_input_error({}, "stake.unbonding_delay", "is negative", "set a duration such as 7d in rfarm.yaml");
      }
      L::TransferResult r = L::begin_unstake(o.ledger, id, p.id, parse_amount(u->amount, o.ledger.decimals(), "AMOUNT"),
                                             static_cast<std::uint64_t>(o.config.stake.unbonding_delay_seconds));
      if (r != L::TransferResult::ok && r != L::TransferResult::exists) refuse("unstake", id, r);
      print_transfer(o.ledger, "unstake", id, r, o.json);
    }
    ctx.exit_code = 0;
  });

  auto x = std::make_shared<SlashOpts>();
  CLI::App* slash = ledger->add_subcommand("slash", "Slash a provider's stake (bonded and unbonding) for proven fake work");
  slash->add_option("PROVIDER", x->provider, "Provider account (name or id)")->required();
  slash->add_option("--bps", x->bps, "Share of the stake to take, basis points (default: stake.slash_bps)");
  slash->add_option("--burn-bps", x->burn_bps, "Share of the slashed amount burned (default: stake.slash_burn_bps)");
  slash->add_option("--harmed", x->harmed, "Account compensated with the rest (the job's user)");
  slash->add_option("--job", x->job, "The job whose frames were faked")->required();
  slash->add_option("--frames", x->frames, "The faked frames, e.g. 12 or 10-20");
  slash->add_option("--id", x->id, "Idempotency key (default: derived from provider, job and frames)");
  slash->callback([ledger, x, &ctx] {
    Opened o = open(ledger, ctx, true);
    L::Account p = o.ledger.resolve_account(x->provider, "PROVIDER");
    L::SlashRequest req;
    req.provider = p.id;
    req.id = id_or(x->id, Id128::derived("rfarm-slash-cli-v1:" + p.id.hex() + ":" + x->job + ":" + x->frames));
    req.slash_bps = x->bps.value_or(o.config.stake.slash_bps);
    req.burn_bps = x->burn_bps.value_or(o.config.stake.slash_burn_bps);
    if (!x->harmed.empty()) req.harmed = o.ledger.resolve_account(x->harmed, "--harmed").id;
    if (x->harmed.empty() && req.burn_bps < 10'000) {
      throw_input_error({}, "--harmed", "is required unless everything is burned",
                        "name the job's user account, or pass --burn-bps 10000");
    }
    req.data = {x->job, x->frames, ""};
    L::SlashResult r = L::slash(o.ledger, req);
    const int d = o.ledger.decimals();
    if (o.json) {
      print_json({{"id", req.id.hex()}, {"provider", p.name}, {"slashed", format_amount(r.slashed, d)},
                  {"burned", format_amount(r.burned, d)}, {"compensated", format_amount(r.compensated, d)},
                  {"existed", r.existed}, {"staked_after", format_amount(L::staked(o.ledger, p.id), d)}});
    } else {
      std::printf("slash %s of %s%s: %s taken (%s burned, %s to %s); %s still staked\n", req.id.hex().c_str(),
                  p.name.c_str(), r.existed ? " (already applied)" : "", format_amount(r.slashed, d).c_str(),
                  format_amount(r.burned, d).c_str(), format_amount(r.compensated, d).c_str(),
                  x->harmed.empty() ? "nobody" : x->harmed.c_str(), format_amount(L::staked(o.ledger, p.id), d).c_str());
    }
    ctx.exit_code = 0;
  });

  auto who = std::make_shared<std::string>();
  CLI::App* info = ledger->add_subcommand("stake-info", "A provider's bonded and unbonding stake and its reputation");
  info->add_option("PROVIDER", *who, "Provider account (name or id)")->required();
  info->callback([ledger, who, &ctx] {
    Opened o = open(ledger, ctx, false);
    L::Account p = o.ledger.resolve_account(*who, "PROVIDER");
    L::StakeInfo si = L::stake_info(o.ledger, p.id);
    const int d = o.ledger.decimals();
    if (o.json) {
      json unb = json::array();
      for (const auto& b : si.unbondings) {
        unb.push_back({{"id", b.id.hex()}, {"amount", format_amount(b.amount, d)}, {"release_at", b.release_at},
                       {"release_time", L::format_utc_time(b.release_at)}});
      }
      print_json({{"provider", p.name}, {"stake_account", si.stake_account.hex()}, {"bonded", format_amount(si.bonded, d)},
                  {"unbonding", format_amount(si.unbonding, d)}, {"unbondings", unb},
                  {"reputation", {{"passes", si.reputation.passes}, {"fails", si.reputation.fails}}}});
    } else {
      std::printf("provider %s: bonded %s, unbonding %s; verdicts: %llu passed, %llu failed\n", p.name.c_str(),
                  format_amount(si.bonded, d).c_str(), format_amount(si.unbonding, d).c_str(),
                  static_cast<unsigned long long>(si.reputation.passes),
                  static_cast<unsigned long long>(si.reputation.fails));
      for (const auto& b : si.unbondings) {
        std::printf("  unbonding %s: %s, releasable from %s\n", b.id.hex().c_str(), format_amount(b.amount, d).c_str(),
                    L::format_utc_time(b.release_at).c_str());
      }
    }
    ctx.exit_code = 0;
  });

  auto job = std::make_shared<std::string>();
  CLI::App* verdicts = ledger->add_subcommand("verdicts", "A job's committed frames and the verifiers' verdicts on them");
  verdicts->add_option("JOB", *job, "Job id")->required();
  verdicts->callback([ledger, job, &ctx] {
    Opened o = open(ledger, ctx, false);
    auto commits = o.ledger.frame_commits(*job);
    auto recorded = o.ledger.verdicts(*job);
    auto name = [&](const Id128& id) {
      auto a = o.ledger.find_account(id);
      return a ? a->name : id.hex();
    };
    if (o.json) {
      json fs = json::array();
      for (const auto& c : commits) {
        fs.push_back({{"frame", c.commit.frame}, {"provider", name(c.commit.provider)}, {"event", c.event},
                      {"exr_hash", c.commit.exr_hash.hex()}, {"tile_root", c.commit.tile_root.hex()}});
      }
      json vs = json::array();
      for (const auto& r : recorded) {
        const L::Verdict& v = r.verdict;
        vs.push_back({{"frame", v.frame}, {"provider", name(v.provider)}, {"verifier", name(v.verifier)},
                      {"outcome", std::string(L::to_string(v.outcome))}, {"reason", v.reason},
                      {"sample_tree_size", v.sample_tree_size}, {"sample_root", v.sample_root.hex()},
                      {"cells_checked", v.cells_checked}, {"evidence_hash", v.evidence_hash.hex()}, {"event", r.event}});
      }
      print_json({{"job", *job}, {"frames", fs}, {"verdicts", vs}});
    } else {
      std::printf("job %s: %zu frames committed, %zu verdicts\n", job->c_str(), commits.size(), recorded.size());
      for (const auto& r : recorded) {
        const L::Verdict& v = r.verdict;
        std::printf("  frame %llu by %s: %s (verifier %s, %u cells, head %llu, event #%llu)%s\n",
                    static_cast<unsigned long long>(v.frame), name(v.provider).c_str(),
                    std::string(L::to_string(v.outcome)).c_str(), name(v.verifier).c_str(), v.cells_checked,
                    static_cast<unsigned long long>(v.sample_tree_size), static_cast<unsigned long long>(r.event),
                    v.reason.empty() ? "" : (": " + v.reason).c_str());
      }
    }
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
