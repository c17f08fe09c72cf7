// rfarm keygen and rfarm ledger ...: thin wrappers over ledger/ (parse flags, call, print).
// Where the ledger lives (SQLite file or PostgreSQL URL) and which signing key writes to it:
// cli/ledger_open.h, shared by every command. init, migrate and copy: ledger_admin_commands.cpp.
// Every command takes --json. A refusal prints one line on stderr and exits non-zero (2: bad
// input, 3: refused, 4: integrity), from rfarm::Error through main().
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_open.h"
#include "core/error.h"
#include "core/signing.h"
#include "ledger/audit.h"
#include "ledger/import.h"
#include "ledger/ledger.h"
#include "ledger/statement.h"

namespace rfarm::cli {

namespace {

using json = nlohmann::json;
namespace L = rfarm::ledger;

struct LedgerFlags {
  LedgerOptions opts;
  bool json = false;
  const Context* ctx = nullptr;  // for --config: the ledger falls back to rfarm.yaml's
};

void print(const std::string& text) { std::fputs(text.c_str(), stdout); }
void print_json(const json& j) { print(j.dump(2) + "\n"); }

L::Ledger open_ledger(const LedgerFlags& f, bool writable) {
  return cli::open_ledger(resolve_ledger(f.opts, *f.ctx), writable ? L::Access::write : L::Access::read);
}

std::string amount_text(Amount a, int decimals) { return format_amount(a, decimals); }

// credits - debits - extra, as a signed decimal (the issuer's balance is negative).
std::string net_text(Amount credits, Amount debits, Amount extra, int decimals) {
  if (debits.units > UINT64_MAX - extra.units) return "overflow";
  return L::format_net(credits, Amount(debits.units + extra.units), decimals);
}

json account_json(const L::Account& a, int d) {
  json flags = json::array();
  if (a.flags & L::account_flags::debits_must_not_exceed_credits) flags.push_back("debits_must_not_exceed_credits");
  if (a.flags & L::account_flags::credits_must_not_exceed_debits) flags.push_back("credits_must_not_exceed_debits");
  return {{"id", a.id.hex()},
          {"name", a.name},
          {"kind", std::string(L::to_string(a.kind))},
          {"owner", a.owner},
          {"cluster", a.cluster},
          {"flags", flags},
          {"debits_pending", amount_text(a.debits_pending, d)},
          {"debits_posted", amount_text(a.debits_posted, d)},
          {"credits_pending", amount_text(a.credits_pending, d)},
          {"credits_posted", amount_text(a.credits_posted, d)},
          {"balance", net_text(a.credits_posted, a.debits_posted, Amount(0), d)},
          {"available", net_text(a.credits_posted, a.debits_posted, a.debits_pending, d)},
          {"timestamp", a.timestamp}};
}

json transfer_json(const L::Transfer& t, int d) {
  return {{"id", t.id.hex()},
          {"phase", std::string(L::phase_name(t.flags).value_or("invalid"))},
          {"debit_account", t.debit_account.hex()},
          {"credit_account", t.credit_account.hex()},
          {"amount", amount_text(t.amount, d)},
          {"code", std::string(L::to_string(t.code))},
          {"pending_id", t.pending_id.is_zero() ? "" : t.pending_id.hex()},
          {"state", std::string(L::to_string(t.state))},
          {"timeout", t.timeout_seconds},
          {"expires_at", t.expires_at},
          {"timestamp", t.timestamp},
          {"job", t.user_data.job},
          {"frames", t.user_data.frames},
          {"usage", t.user_data.usage},
          {"event", t.event}};
}

// What to tell the user for each refusal, and whether it is their input (exit 2) or a refusal (3).
std::pair<Error::Kind, std::string> explain(L::TransferResult r) {
  using R = L::TransferResult;
  switch (r) {
    case R::exceeds_credits: return {Error::Kind::Refused, "insufficient funds (deposit more, or transfer less)"};
    case R::exceeds_debits: return {Error::Kind::Refused, "the credit account may not exceed its debits"};
    case R::exists_with_different_fields:
      return {Error::Kind::Refused, "this id was already used for a different transfer (choose a new --id)"};
    case R::pending_transfer_already_posted: return {Error::Kind::Refused, "the hold was already posted"};
    case R::pending_transfer_already_voided: return {Error::Kind::Refused, "the hold was already voided"};
    case R::pending_transfer_expired: return {Error::Kind::Refused, "the hold expired before it was settled"};
    case R::exceeds_pending_amount: return {Error::Kind::Refused, "posting more than the hold reserved (lower --amount)"};
    case R::overflow: return {Error::Kind::Refused, "a balance would exceed the largest storable amount"};
    case R::pending_transfer_not_found: return {Error::Kind::BadInput, "no transfer has that id (check the hold's id)"};
    case R::pending_transfer_not_pending: return {Error::Kind::BadInput, "that transfer is not a hold (--pending)"};
    case R::accounts_must_be_different: return {Error::Kind::BadInput, "--from and --to name the same account"};
    case R::amount_must_not_be_zero: return {Error::Kind::BadInput, "--amount must be above zero"};
    case R::amount_too_large: return {Error::Kind::BadInput, "--amount is above the largest storable amount"};
    case R::timeout_too_large: return {Error::Kind::BadInput, "--timeout is longer than 366 days"};
    case R::timeout_reserved_for_pending: return {Error::Kind::BadInput, "--timeout needs --pending"};
    case R::user_data_too_long: return {Error::Kind::BadInput, "--job/--frames/--usage: at most 128 printable characters"};
    case R::void_amount_must_match_pending: return {Error::Kind::BadInput, "a void releases the whole hold (drop --amount)"};
    default: return {Error::Kind::BadInput, "see docs/LEDGER.md"};
  }
}

// Submits one transfer and prints it; a refusal becomes an Error with one clear line.
void submit_one(L::Ledger& l, const L::TransferRequest& req, bool as_json, const char* verb) {
  std::vector<L::TransferRequest> batch{req};
  L::TransferResult r = l.submit(batch)[0];
  if (r != L::TransferResult::ok && r != L::TransferResult::exists) {
    auto [kind, hint] = explain(r);
    throw Error(kind, std::string(verb) + " " + req.id.hex() + " refused: " + std::string(L::to_string(r)) + ": " + hint);
  }
  L::Transfer t = *l.find_transfer(req.id);
  if (as_json) {
    json j = transfer_json(t, l.decimals());
    j["result"] = std::string(L::to_string(r));
    print_json(j);
    return;
  }
  print(std::string(verb) + " " + t.id.hex() + ": " + std::string(L::to_string(r)) + " (" +
        amount_text(t.amount, l.decimals()) + ", " + std::string(L::phase_name(t.flags).value_or("?")) + ", event #" +
        std::to_string(t.event) + ")\n");
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(Error::Kind::Io, path + ": cannot read (check the path)");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) throw_input_error({path}, "proof", "is not valid JSON", "use a file written by `rfarm ledger prove`");
  return j;
}

void add_account_commands(CLI::App& ledger, const std::shared_ptr<LedgerFlags>& f, Context& ctx) {
  CLI::App* account = ledger.add_subcommand("account", "Create and inspect accounts");
  account->require_subcommand(1);

  struct CreateOpts {
    std::string name, kind = "user", owner, id;
    bool allow_overdraft = false;
  };
  auto c = std::make_shared<CreateOpts>();
  CLI::App* create = account->add_subcommand("create", "Create an account (idempotent with --id)");
  create->add_option("NAME", c->name, "Unique account name ([A-Za-z0-9._:@-], at most 64)")->required();
  create->add_option("--kind", c->kind, "user, provider, escrow, stake, treasury, burn, issuer or verifier");
  create->add_option("--owner", c->owner, "Who owns it (a Unix user, a provider id)");
  create->add_option("--id", c->id, "Account id, 1-32 hex digits (default: random)");
  create->add_flag("--allow-overdraft", c->allow_overdraft, "Let debits exceed credits (default: refused)");
  create->callback([f, c, &ctx] {
    auto kind = L::account_kind_from_string(c->kind);
    if (!kind) throw_input_error({}, "--kind", "\"" + c->kind + "\" is not an account kind",
                                 "use user, provider, escrow, stake, treasury, burn, issuer or verifier");
    L::Ledger l = open_ledger(*f, true);
    L::NewAccount a{c->id.empty() ? Id128::random() : parse_id(c->id, "--id"), c->name, *kind, c->owner,
                    c->allow_overdraft ? 0u : L::account_flags::debits_must_not_exceed_credits};
    L::AccountResult r = l.create_accounts(std::span(&a, 1))[0];
    if (r != L::AccountResult::ok && r != L::AccountResult::exists) {
      Error::Kind k = r == L::AccountResult::name_taken || r == L::AccountResult::exists_with_different_fields
                          ? Error::Kind::Refused
                          : Error::Kind::BadInput;
      throw Error(k, "account " + c->name + " refused: " + std::string(L::to_string(r)) +
                         (r == L::AccountResult::name_invalid ? ": use 1-64 characters from A-Z a-z 0-9 . _ : @ -"
                          : r == L::AccountResult::name_taken ? ": choose another name"
                                                              : ""));
    }
    L::Account acc = *l.find_account(a.id);
    if (f->json) {
      json j = account_json(acc, l.decimals());
      j["result"] = std::string(L::to_string(r));
      print_json(j);
    } else {
      print("account " + acc.name + " " + acc.id.hex() + ": " + std::string(L::to_string(r)) + "\n");
    }
    ctx.exit_code = 0;
  });

  CLI::App* list = account->add_subcommand("list", "List accounts with their balances");
  list->callback([f, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    auto accounts = l.list_accounts();
    if (f->json) {
      json arr = json::array();
      for (const auto& a : accounts) arr.push_back(account_json(a, l.decimals()));
      print_json(arr);
    } else {
      for (const auto& a : accounts) {
        print(a.id.hex() + "  " + a.name + "  " + std::string(L::to_string(a.kind)) + "  balance " +
              net_text(a.credits_posted, a.debits_posted, Amount(0), l.decimals()) + "\n");
      }
    }
    ctx.exit_code = 0;
  });

  auto show_name = std::make_shared<std::string>();
  CLI::App* show = account->add_subcommand("show", "Show one account");
  show->add_option("ACCOUNT", *show_name, "Account name or id")->required();
  show->callback([f, show_name, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    L::Account a = l.resolve_account(*show_name, "ACCOUNT");
    json j = account_json(a, l.decimals());
    if (f->json) {
      print_json(j);
    } else {
      for (auto& [k, v] : j.items()) print(k + ": " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n");
    }
    ctx.exit_code = 0;
  });
}

void add_money_commands(CLI::App& ledger, const std::shared_ptr<LedgerFlags>& f, Context& ctx) {
  struct MoveOpts {
    std::string from, to, amount, code, id, pending_id, job, frames, usage;
    bool pending = false;
    std::uint64_t timeout = 0;
  };
  auto add_user_data = [](CLI::App* cmd, MoveOpts& o) {
    cmd->add_option("--id", o.id, "Transfer id, 1-32 hex digits: the idempotency key (default: random)");
    cmd->add_option("--job", o.job, "Job id recorded with the transfer");
    cmd->add_option("--frames", o.frames, "Frame range recorded with the transfer");
    cmd->add_option("--usage", o.usage, "Usage record id recorded with the transfer");
  };
  auto code_of = [](const std::string& text, L::TransferCode fallback) {
    if (text.empty()) return fallback;
    auto c = L::transfer_code_from_string(text);
    if (!c) throw_input_error({}, "--code", "\"" + text + "\" is not a transfer code",
                              "use deposit, hold, charge, fee, burn, reward, refund, slash, stake, unstake or settle");
    return *c;
  };
  auto tid = [](const std::string& id) { return id.empty() ? Id128::random() : parse_id(id, "--id"); };

  auto d = std::make_shared<MoveOpts>();
  CLI::App* deposit = ledger.add_subcommand("deposit", "Mint tokens into an account (debits the issuer)");
  deposit->add_option("ACCOUNT", d->to, "Account name or id")->required();
  deposit->add_option("AMOUNT", d->amount, "Decimal amount, e.g. 12.5")->required();
  add_user_data(deposit, *d);
  deposit->callback([f, d, tid, &ctx] {
    L::Ledger l = open_ledger(*f, true);
    L::Account to = l.resolve_account(d->to, "ACCOUNT");
    Amount amount = parse_amount(d->amount, l.decimals(), "AMOUNT");
    submit_one(l, L::single(tid(d->id), l.issuer(), to.id, amount, L::TransferCode::deposit, {d->job, d->frames, d->usage}),
               f->json, "deposit");
    ctx.exit_code = 0;
  });

  auto t = std::make_shared<MoveOpts>();
  CLI::App* transfer = ledger.add_subcommand("transfer", "Move tokens between accounts (or hold them with --pending)");
  transfer->add_option("--from", t->from, "Account debited (name or id)")->required();
  transfer->add_option("--to", t->to, "Account credited (name or id)")->required();
  transfer->add_option("--amount", t->amount, "Decimal amount, e.g. 12.5")->required();
  transfer->add_option("--code", t->code, "Why: charge (default), hold, fee, reward, refund, ...");
  transfer->add_flag("--pending", t->pending, "Reserve only (two-phase): settle later with post or void");
  transfer->add_option("--timeout", t->timeout, "With --pending: seconds until the hold expires (0: never)");
  add_user_data(transfer, *t);
  transfer->callback([f, t, tid, code_of, &ctx] {
    L::Ledger l = open_ledger(*f, true);
    L::Account from = l.resolve_account(t->from, "--from");
    L::Account to = l.resolve_account(t->to, "--to");
    Amount amount = parse_amount(t->amount, l.decimals(), "--amount");
    L::TransferRequest r = L::single(tid(t->id), from.id, to.id, amount,
                                     code_of(t->code, t->pending ? L::TransferCode::hold : L::TransferCode::charge),
                                     {t->job, t->frames, t->usage});
    if (t->pending) r.flags = L::transfer_flags::pending;
    r.timeout_seconds = t->timeout;
    submit_one(l, r, f->json, "transfer");
    ctx.exit_code = 0;
  });

  for (bool is_post : {true, false}) {
    auto o = std::make_shared<MoveOpts>();
    CLI::App* cmd = ledger.add_subcommand(is_post ? "post" : "void",
                                          is_post ? "Settle a hold: post all of it or --amount, releasing the rest"
                                                  : "Release a hold entirely");
    cmd->add_option("PENDING_ID", o->pending_id, "The hold's transfer id")->required();
    if (is_post) cmd->add_option("--amount", o->amount, "Amount to post (default: the whole hold)");
    cmd->add_option("--code", o->code, is_post ? "Why (default: charge)" : "Why (default: refund)");
    add_user_data(cmd, *o);
    cmd->callback([f, o, is_post, tid, code_of, &ctx] {
      L::Ledger l = open_ledger(*f, true);
      Id128 pending = parse_id(o->pending_id, "PENDING_ID");
      L::UserData data{o->job, o->frames, o->usage};
      L::TransferRequest r =
          is_post ? L::post(tid(o->id), pending,
                            o->amount.empty() ? Amount(0) : parse_amount(o->amount, l.decimals(), "--amount"),
                            code_of(o->code, L::TransferCode::charge), data)
                  : L::void_pending(tid(o->id), pending, code_of(o->code, L::TransferCode::refund), data);
      submit_one(l, r, f->json, is_post ? "post" : "void");
      ctx.exit_code = 0;
    });
  }

  auto file = std::make_shared<std::string>();
  CLI::App* import = ledger.add_subcommand("import", "Submit transfers from a JSON Lines file in batches");
  import->add_option("FILE", *file, "One transfer per line (format: docs/LEDGER.md)")->required();
  import->callback([f, file, &ctx] {
    std::ifstream in(*file);
    if (!in) throw Error(Error::Kind::Io, *file + ": cannot read (check the path)");
    L::Ledger l = open_ledger(*f, true);
    L::ImportReport r = L::import_transfers(l, in, *file);
    if (f->json) print_json({{"transfers", r.transfers}, {"applied", r.applied}, {"existed", r.existed}, {"batches", r.batches}});
    else print("imported " + std::to_string(r.transfers) + " transfers: " + std::to_string(r.applied) + " applied, " +
               std::to_string(r.existed) + " already present, " + std::to_string(r.batches) + " batch(es)\n");
    ctx.exit_code = 0;
  });

  CLI::App* sweep = ledger.add_subcommand("sweep", "Expire holds whose timeout has passed");
  sweep->callback([f, &ctx] {
    L::Ledger l = open_ledger(*f, true);
    std::size_t n = l.sweep();
    if (f->json) print_json({{"expired", n}});
    else print("expired " + std::to_string(n) + " hold(s)\n");
    ctx.exit_code = 0;
  });
}

void add_query_commands(CLI::App& ledger, const std::shared_ptr<LedgerFlags>& f, Context& ctx) {
  auto name = std::make_shared<std::string>();
  CLI::App* balance = ledger.add_subcommand("balance", "Print an account's balance");
  balance->add_option("ACCOUNT", *name, "Account name or id")->required();
  balance->callback([f, name, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    L::Account a = l.resolve_account(*name, "ACCOUNT");
    json j = account_json(a, l.decimals());
    if (f->json) {
      print_json({{"account", a.name}, {"id", a.id.hex()}, {"balance", j["balance"]}, {"available", j["available"]},
                  {"pending_debits", j["debits_pending"]}, {"pending_credits", j["credits_pending"]}});
    } else {
      print(a.name + ": balance " + j["balance"].get<std::string>() + ", available " + j["available"].get<std::string>() +
            ", held " + j["debits_pending"].get<std::string>() + "\n");
    }
    ctx.exit_code = 0;
  });

  auto hist = std::make_shared<std::pair<std::string, std::size_t>>("", 50);
  CLI::App* history = ledger.add_subcommand("history", "Transfers of an account, newest first");
  history->add_option("ACCOUNT", hist->first, "Account name or id")->required();
  history->add_option("--limit", hist->second, "At most this many (default 50)");
  history->callback([f, hist, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    L::Account a = l.resolve_account(hist->first, "ACCOUNT");
    json arr = json::array();
    for (const auto& t : l.history(a.id, hist->second)) {
      if (f->json) {
        arr.push_back(transfer_json(t, l.decimals()));
        continue;
      }
      bool out = t.debit_account == a.id;
      print(t.id.hex() + "  " + std::string(L::phase_name(t.flags).value_or("?")) + "  " +
            std::string(L::to_string(t.code)) + "  " + (out ? "-" : "+") + amount_text(t.amount, l.decimals()) +
            (t.state != L::PendingState::none ? "  [" + std::string(L::to_string(t.state)) + "]" : "") +
            (t.user_data.job.empty() ? "" : "  job " + t.user_data.job) + "\n");
    }
    if (f->json) print_json(arr);
    ctx.exit_code = 0;
  });

  auto all = std::make_shared<bool>(false);
  CLI::App* head = ledger.add_subcommand("head", "Print the latest signed tree head");
  head->add_flag("--all", *all, "Print every signed head");
  head->callback([f, all, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    std::vector<L::SignedHead> heads;
    if (*all) heads = l.storage().list_heads();
    else if (auto h = l.head()) heads.push_back(*h);
    if (f->json) {
      json arr = json::array();
      for (const auto& h : heads) arr.push_back(L::head_to_json(h));
      print_json(*all ? arr : (arr.empty() ? json::object() : arr[0]));
    } else {
      for (const auto& h : heads) {
        print("cluster " + h.cluster + " size " + std::to_string(h.size) + " root " + h.root.hex() + " timestamp " +
              std::to_string(h.timestamp) + "\n");
      }
    }
    ctx.exit_code = 0;
  });
}

void add_proof_commands(CLI::App& ledger, const std::shared_ptr<LedgerFlags>& f, Context& ctx) {
  struct ProveOpts {
    std::optional<std::uint64_t> event, size, from, to;
    std::string out;
  };
  auto p = std::make_shared<ProveOpts>();
  CLI::App* prove = ledger.add_subcommand("prove", "Write an inclusion (--event) or consistency (--from) proof as JSON");
  auto* ev = prove->add_option("--event", p->event, "Event index to prove included");
  prove->add_option("--size", p->size, "With --event: the signed head's size (default: latest)");
  auto* from = prove->add_option("--from", p->from, "Older head's size for a consistency proof");
  prove->add_option("--to", p->to, "With --from: newer head's size (default: latest)");
  prove->add_option("--out", p->out, "Write the proof to this file instead of stdout");
  ev->excludes(from);
  prove->callback([f, p, &ctx] {
    if (!p->event && !p->from) throw_input_error({}, "--event/--from", "nothing to prove", "give --event N or --from SIZE");
    L::Ledger l = open_ledger(*f, false);
    json doc = p->event ? L::to_json(l.prove_inclusion(*p->event, p->size)) : L::to_json(l.prove_consistency(*p->from, p->to));
    if (p->out.empty()) {
      print_json(doc);
    } else {
      std::ofstream out(p->out);
      out << doc.dump(2) << "\n";
      if (!out) throw Error(Error::Kind::Io, p->out + ": cannot write the proof (check the directory)");
      if (f->json) print_json({{"written", p->out}});
      else print("wrote " + p->out + "\n");
    }
    ctx.exit_code = 0;
  });

  auto v = std::make_shared<std::pair<std::string, std::string>>();
  CLI::App* verify = ledger.add_subcommand("verify-proof", "Check a proof offline with the cluster's public key");
  verify->add_option("PROOF", v->first, "Proof JSON file from `rfarm ledger prove`")->required();
  verify->add_option("--pubkey", v->second, "The cluster's public key file (.pub from keygen/init)")->required();
  verify->callback([f, v, &ctx] {
    PublicKey key = load_public_key(v->second);
    std::string what = L::verify_proof_document(read_json_file(v->first), key, v->first);
    if (f->json) print_json({{"verified", true}, {"statement", what}});
    else print("verified: " + what + "\n");
    ctx.exit_code = 0;
  });

  auto pub = std::make_shared<std::string>();
  CLI::App* audit = ledger.add_subcommand("audit", "Recompute balances and roots from the event log and compare");
  audit->add_option("--pubkey", *pub, "A trusted copy of the cluster's public key (default: the one in the database)");
  audit->callback([f, pub, &ctx] {
    L::Ledger l = open_ledger(*f, false);
    PublicKey key = pub->empty() ? l.public_key() : load_public_key(*pub);
    L::AuditReport r = L::audit(l.storage(), key, l.cluster());
    if (f->json) {
      print_json({{"ok", r.ok()}, {"events", r.events}, {"accounts", r.accounts}, {"transfers", r.transfers},
                  {"heads", r.heads}, {"problems", r.problems}});
    } else {
      for (const auto& problem : r.problems) print("problem: " + problem + "\n");
      print(std::string(r.ok() ? "audit clean: " : "audit FAILED: ") + std::to_string(r.events) + " events, " +
            std::to_string(r.accounts) + " accounts, " + std::to_string(r.transfers) + " transfers, " +
            std::to_string(r.heads) + " signed heads\n");
    }
    if (!r.ok()) {
      throw Error(Error::Kind::Integrity, "ledger audit found " + std::to_string(r.problems.size()) +
                                              " problem(s); first: " + r.problems.front());
    }
    ctx.exit_code = 0;
  });
}

std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void add_statement_command(CLI::App& app, Context& ctx) {
  struct StatementOpts {
    LedgerFlags flags;
    std::string account, from, to, format = "text";
  };
  auto o = std::make_shared<StatementOpts>();
  o->flags.ctx = &ctx;
  CLI::App* cmd = app.add_subcommand("statement", "An account's posted movements between two UTC dates");
  cmd->add_option("-A,--account", o->account, "Account name or id")->required();
  cmd->add_option("--from", o->from, "Start, inclusive: 2026-11-01 or 2026-11-01T00:00:00Z")->required();
  cmd->add_option("--to", o->to, "End, exclusive: 2026-12-01 or 2026-12-01T00:00:00Z")->required();
  cmd->add_option("--format", o->format, "text (default), json or csv");
  add_ledger_options(*cmd, o->flags.opts);
  cmd->add_flag("--json", o->flags.json, "Same as --format json");
  cmd->callback([o, &ctx] {
    std::string format = o->flags.json ? "json" : o->format;
    if (format != "text" && format != "json" && format != "csv") {
      throw_input_error({}, "--format", "\"" + format + "\" is not a statement format", "use text, json or csv");
    }
    std::uint64_t from = L::parse_utc_time(o->from, "--from");
    std::uint64_t to = L::parse_utc_time(o->to, "--to");
    L::Ledger l = open_ledger(o->flags, false);
    L::Account a = l.resolve_account(o->account, "--account");
    L::Statement st = L::make_statement(l.storage(), a, from, to);
    // The verdicts behind the charges (scheduler jobs that were verified), per frame.
    const std::vector<L::StatementVerdict> verdicts = L::statement_verdicts(l.storage(), st);
    int d = l.decimals();
    auto bal = [d](Amount c, Amount db) { return L::format_net(c, db, d); };
    if (format == "json") {
      json lines = json::array();
      for (const auto& line : st.lines) {
        json j = transfer_json(line.transfer, d);
        j["direction"] = line.credit ? "in" : "out";
        j["time"] = L::format_utc_time(line.transfer.timestamp);
        j["balance"] = bal(line.credits, line.debits);
        lines.push_back(j);
      }
      print_json({{"account", a.name}, {"id", a.id.hex()}, {"from", L::format_utc_time(from)},
                  {"to", L::format_utc_time(to)}, {"opening_balance", bal(st.opening_credits, st.opening_debits)},
                  {"total_in", amount_text(st.total_in, d)}, {"total_out", amount_text(st.total_out, d)},
                  {"closing_balance", bal(st.closing_credits, st.closing_debits)}, {"lines", lines},
                  {"verdicts", [&] {
                     json vs = json::array();
                     for (const auto& v : verdicts)
                       vs.push_back({{"job", v.job}, {"frame", v.frame}, {"verdict", std::string(L::to_string(v.outcome))},
                                     {"reason", v.reason}, {"provider", v.provider}, {"verifier", v.verifier},
                                     {"evidence_sha256", v.evidence_hash.hex()}, {"event", v.event}});
                     return vs;
                   }()}});
    } else if (format == "csv") {
      print("time,transfer_id,phase,code,direction,amount,balance,job,frames,usage\n");
      for (const auto& line : st.lines) {
        const L::Transfer& t = line.transfer;
        print(L::format_utc_time(t.timestamp) + "," + t.id.hex() + "," + std::string(L::phase_name(t.flags).value_or("")) +
              "," + std::string(L::to_string(t.code)) + "," + (line.credit ? "in" : "out") + "," +
              amount_text(t.amount, d) + "," + bal(line.credits, line.debits) + "," + csv_field(t.user_data.job) + "," +
              csv_field(t.user_data.frames) + "," + csv_field(t.user_data.usage) + "\n");
      }
      if (!verdicts.empty()) {
        // A second table after a blank line: the verdicts behind the charges.
        print("\njob,frame,verdict,provider,verifier,evidence_sha256,event,reason\n");
        for (const auto& v : verdicts)
          print(csv_field(v.job) + "," + std::to_string(v.frame) + "," + std::string(L::to_string(v.outcome)) + "," +
                csv_field(v.provider) + "," + csv_field(v.verifier) + "," + v.evidence_hash.hex() + "," + std::to_string(v.event) + "," +
                csv_field(v.reason) + "\n");
      }
    } else {
      print("statement for " + a.name + " (" + a.id.hex() + ") from " + L::format_utc_time(from) + " to " +
            L::format_utc_time(to) + "\n");
      print("opening balance " + bal(st.opening_credits, st.opening_debits) + "\n");
      for (const auto& line : st.lines) {
        const L::Transfer& t = line.transfer;
        print(L::format_utc_time(t.timestamp) + "  " + t.id.hex() + "  " + std::string(L::to_string(t.code)) + "  " +
              (line.credit ? "+" : "-") + amount_text(t.amount, d) + "  balance " + bal(line.credits, line.debits) +
              (t.user_data.job.empty() ? "" : "  job " + t.user_data.job) + "\n");
      }
      print("in " + amount_text(st.total_in, d) + ", out " + amount_text(st.total_out, d) + ", closing balance " +
            bal(st.closing_credits, st.closing_debits) + "\n");
      if (!verdicts.empty()) print("verdicts (job  frame  verdict  provider  verifier  evidence sha-256):\n");
      for (const auto& v : verdicts)
        print("  " + v.job + "  " + std::to_string(v.frame) + "  " + std::string(L::to_string(v.outcome)) + "  " +
              v.provider + "  " + v.verifier +
              "  " + v.evidence_hash.hex() + (v.reason.empty() ? "" : "  (" + v.reason + ")") + "\n");
    }
    ctx.exit_code = 0;
  });
}

}  // namespace

void add_ledger_commands(CLI::App& app, Context& ctx) {
  add_statement_command(app, ctx);

  // keygen: a fresh Ed25519 key pair (the cluster key, or a provider's).
  auto kg = std::make_shared<std::pair<std::string, bool>>("", false);
  CLI::App* keygen = app.add_subcommand("keygen", "Create an Ed25519 key pair: PATH (mode 0600) and PATH.pub");
  keygen->add_option("PATH", kg->first, "Private key file to create (refuses to overwrite)")->required();
  keygen->add_flag("--json", kg->second, "Print JSON");
  keygen->callback([kg, &ctx] {
    SigningKey key = SigningKey::generate();
    key.save(kg->first, kg->first + ".pub");
    if (kg->second) print_json({{"private_key", kg->first}, {"public_key_file", kg->first + ".pub"},
                                {"public_key", key.public_key().hex()}});
    else print("wrote " + kg->first + " and " + kg->first + ".pub (public key " + key.public_key().hex() + ")\n");
    ctx.exit_code = 0;
  });

  auto f = std::make_shared<LedgerFlags>();
  f->ctx = &ctx;
  CLI::App* ledger = app.add_subcommand("ledger", "The token ledger: accounts, transfers, holds, proofs, audit");
  ledger->require_subcommand(1);
  ledger->fallthrough();
  add_ledger_options(*ledger, f->opts);
  ledger->add_flag("--json", f->json, "Print JSON");

  add_account_commands(*ledger, f, ctx);
  add_money_commands(*ledger, f, ctx);
  add_query_commands(*ledger, f, ctx);
  add_proof_commands(*ledger, f, ctx);
}

}  // namespace rfarm::cli
