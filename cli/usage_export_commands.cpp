// rfarm ledger export-usage: the ledger's metered usage as APEL messages or OGF Usage Record XML
// (federation/usage_export.h). Thin: resolve the ledger, parse the window, call, print or write.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/ledger_open.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "federation/usage_export.h"

namespace rfarm::cli {
namespace {

struct ExportOptions {
  std::string format;
  std::string from, to, account, site, submit_host, service_level_type, service_level, output;
};

}  // namespace

void add_usage_export_commands(CLI::App& app, Context& ctx) {
  CLI::App* ledger = app.get_subcommand("ledger");
  auto o = std::make_shared<ExportOptions>();
  CLI::App* cmd = ledger->add_subcommand(
      "export-usage", "Export metered usage for national accounting: APEL job or summary messages, or OGF Usage Records");
  cmd->add_option("--format", o->format,
                  "apel (individual job message v0.3), apel-summary (monthly summary message v0.2) or ur (OGF GFD.98 XML)")
      ->required()
      ->check(CLI::IsMember({"apel", "apel-summary", "ur"}));
  cmd->add_option("--from", o->from, "Only jobs that ended at or after this UTC time (YYYY-MM, YYYY-MM-DD or ...THH:MM:SSZ)");
  cmd->add_option("--to", o->to, "Only jobs that ended before this UTC time (same forms)");
  cmd->add_option("-A,--account", o->account, "Only this rfarm account");
  cmd->add_option("--site", o->site, "APEL Site name (default: the ledger's cluster name)");
  cmd->add_option("--submit-host", o->submit_host, "SubmitHost (default: the ledger's cluster name)");
  cmd->add_option("--service-level-type", o->service_level_type, "APEL ServiceLevelType, e.g. HEPSPEC (with --service-level)");
  cmd->add_option("--service-level", o->service_level, "APEL ServiceLevel, e.g. 10.5 (with --service-level-type)");
  cmd->add_option("-o,--output", o->output, "Write to this file (atomically) instead of standard output");
  cmd->callback([ledger, o, &ctx] {
    const ResolvedLedger resolved = resolve_ledger(parent_ledger_options(*ledger), ctx);
    ledger::Ledger l = open_ledger(resolved, ledger::Access::read);
    federation::UsageExportOptions opt;
    if (!o->from.empty()) opt.from_ms = federation::parse_export_time(o->from, "--from");
    if (!o->to.empty()) opt.to_ms = federation::parse_export_time(o->to, "--to");
    opt.account = o->account;
    opt.site = o->site;
    opt.submit_host = o->submit_host;
    opt.service_level_type = o->service_level_type;
    opt.service_level = o->service_level;
    opt.token_symbol = resolved.config.token.symbol;  // UR Charge unit
    opt.create_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    const auto jobs = federation::collect_usage(l, opt);
    const std::string text = o->format == "apel"           ? federation::format_apel_jobs(jobs, opt)
                             : o->format == "apel-summary" ? federation::format_apel_summaries(jobs, opt)
                                                           : federation::format_usage_records(jobs, opt, l.decimals());
    if (o->output.empty()) {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      write_file_atomically(o->output, text);
      std::fprintf(stderr, "wrote %zu job records to %s\n", jobs.size(), o->output.c_str());
    }
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
