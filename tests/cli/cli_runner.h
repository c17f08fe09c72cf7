#pragma once
// Drives <build>/bin/rfarm as a user would, for the ledger, stake and PostgreSQL CLI tests: a fixed
// environment and leading arguments (e.g. --config FILE), JSON output parsed, and the shape of a
// refusal checked (its exit code, exactly one line on stderr, nothing on stdout).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "support/process.h"

namespace rfarm::testing {

struct CliRunner {
  std::vector<std::string> leading;          // arguments before the subcommand
  std::map<std::string, std::string> env;    // e.g. RFARM_LEDGER, RFARM_CONFIG

  RunResult operator()(std::vector<std::string> args) const {
    args.insert(args.begin(), leading.begin(), leading.end());
    args.insert(args.begin(), rfarm_binary());
    return run(args, env);
  }
  // Appends --json, expects success, returns the parsed output (null on failure).
  nlohmann::json json(std::vector<std::string> args) const {
    args.push_back("--json");
    RunResult r = (*this)(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  // A refusal: the expected exit code and exactly one line on stderr, nothing on stdout. Returns stderr.
  std::string refused(std::vector<std::string> args, int code) const {
    RunResult r = (*this)(args);
    EXPECT_EQ(r.exit_code, code) << r.out << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r.err;
  }
};

}  // namespace rfarm::testing
