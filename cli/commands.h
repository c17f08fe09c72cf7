#pragma once
// Each file cli/<area>_commands.cpp adds its subcommands to the app. A command's callback does its
// work and stores the process exit status in Context::exit_code; errors are rfarm::Error exceptions
// that main() turns into one line on stderr and Error::exit_code().
#include <CLI/CLI.hpp>

namespace rfarm::cli {

struct Context {
  int exit_code = 0;
  std::string config_path;  // --config, before $RFARM_CONFIG and ./rfarm.yaml
};

// One line per area: void add_<area>_commands(CLI::App& app, Context& ctx);
void add_config_commands(CLI::App& app, Context& ctx);
void add_render_commands(CLI::App& app, Context& ctx);
void add_ledger_commands(CLI::App& app, Context& ctx);
void add_ledger_admin_commands(CLI::App& app, Context& ctx);  // after add_ledger_commands: init, migrate, copy
void add_usage_commands(CLI::App& app, Context& ctx);  // after add_ledger_commands: extends `rfarm ledger`
void add_stake_commands(CLI::App& app, Context& ctx);  // after add_ledger_commands: extends `rfarm ledger`
void add_usage_export_commands(CLI::App& app, Context& ctx);  // after add_ledger_commands: `rfarm ledger export-usage`
void add_scheduler_commands(CLI::App& app, Context& ctx);
void add_verify_commands(CLI::App& app, Context& ctx);
void add_federation_commands(CLI::App& app, Context& ctx);  // serve, peers
void add_federation_sync_commands(CLI::App& app, Context& ctx);  // federation sync, alarms, clear-stop
void add_federation_settle_command(CLI::App& app, Context& ctx);  // federation settle

}  // namespace rfarm::cli
