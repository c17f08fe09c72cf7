// rfarm: the command-line entry point. Parses flags, dispatches to a subcommand, and turns errors
// into one clear line on stderr and a non-zero exit status.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"rfarm: a Slurm-native render farm with a verifiable token ledger"};
  app.set_version_flag("--version", std::string("rfarm ") + rfarm::kVersion + " (commit " +
                                        rfarm::kGitCommit + ")");
  app.require_subcommand(1);
  app.fallthrough();

  rfarm::cli::Context ctx;
  app.add_option("--config", ctx.config_path,
                 "rfarm.yaml to use (default: $RFARM_CONFIG, then ./rfarm.yaml, then built-in defaults)");

  // Each area adds its subcommands (declared in cli/commands.h).
  rfarm::cli::add_config_commands(app, ctx);
  rfarm::cli::add_render_commands(app, ctx);
  rfarm::cli::add_ledger_commands(app, ctx);
  rfarm::cli::add_ledger_admin_commands(app, ctx);
  rfarm::cli::add_usage_commands(app, ctx);
  rfarm::cli::add_stake_commands(app, ctx);
  rfarm::cli::add_usage_export_commands(app, ctx);
  rfarm::cli::add_scheduler_commands(app, ctx);
  rfarm::cli::add_verify_commands(app, ctx);
  rfarm::cli::add_federation_commands(app, ctx);
  rfarm::cli::add_federation_sync_commands(app, ctx);
  rfarm::cli::add_federation_settle_command(app, ctx);  // after sync: adds to its `federation`

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const rfarm::Error& e) {
    std::fprintf(stderr, "rfarm: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfarm: internal error: %s\n", e.what());
    return 70;
  }
  return ctx.exit_code;
}
