#pragma once
// The configuration every federation command needs: rfarm.yaml resolved as usual (--config,
// $RFARM_CONFIG, ./rfarm.yaml), refused with one line when it has no federation section.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "config/config.h"
#include "config/source.h"
#include "core/error.h"

namespace rfarm::cli {

inline config::Config federation_config(const Context& ctx) {
  const config::ConfigSource source = config::resolve_config_path(ctx.config_path);
  config::Config c = config::load_resolved(source);
  if (!c.federation.enabled)
    throw_input_error({source.path.string(), 0, 0}, "federation", "this configuration has no federation section",
                      "add one (config/rfarm.example.yaml, docs/FEDERATION.md), or pass --config");
  return c;
}

// Standard output, flushed at once (a daemon's lines reach a pipe or journal as they happen).
inline void print_now(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace rfarm::cli
