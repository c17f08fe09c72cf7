// rfarm config check [FILE] [--json]: validate a configuration and print it with defaults filled in.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "config/emit.h"
#include "config/source.h"

namespace rfarm::cli {

namespace {
struct CheckOptions {
  std::string file;
  bool json = false;
};
}  // namespace

void add_config_commands(CLI::App& app, Context& ctx) {
  CLI::App* config = app.add_subcommand("config", "Inspect rfarm.yaml");
  config->require_subcommand(1);
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* check = config->add_subcommand(
      "check", "Validate a configuration and print the effective one (defaults filled in)");
  check->add_option("FILE", opts->file, "rfarm.yaml to check (default: --config, $RFARM_CONFIG, ./rfarm.yaml)");
  check->add_flag("--json", opts->json, "Print JSON instead of YAML");
  check->callback([&ctx, opts] {
    // FILE on the command line outranks --config; both outrank $RFARM_CONFIG and ./rfarm.yaml.
    const bool positional = !opts->file.empty();
    const auto source = rfarm::config::resolve_config_path(positional ? opts->file : ctx.config_path);
    const rfarm::config::Config cfg = rfarm::config::load_resolved(source);
    if (source.origin == rfarm::config::ConfigOrigin::Defaults)
      std::fprintf(stderr, "rfarm: no configuration file found (--config, $RFARM_CONFIG, ./rfarm.yaml): "
                           "showing the built-in defaults\n");
    else if (positional)
      std::fprintf(stderr, "rfarm: %s is valid\n", source.path.c_str());
    else
      std::fprintf(stderr, "rfarm: %s is valid (found through %s)\n", source.path.c_str(),
                   std::string(rfarm::config::describe(source.origin)).c_str());
    const std::string text =
        opts->json ? rfarm::config::to_json(cfg).dump(2) + "\n" : rfarm::config::to_yaml(cfg);
    std::fputs(text.c_str(), stdout);
    ctx.exit_code = 0;
  });
}

}  // namespace rfarm::cli
