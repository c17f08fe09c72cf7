#pragma once
// Helpers for the config tests: load YAML text and check the one-line error it gives.
#include <string>

#include <gtest/gtest.h>

#include "config/config.h"
#include "core/error.h"

namespace rfarm::config::testing {

inline Config load_text(const std::string& yaml) { return load_config_text(yaml, "t.yaml", "/etc/rfarm"); }

// The message of the BadInput error loading `yaml` gives ("" and a test failure when none).
inline std::string load_error(const std::string& yaml) {
  try {
    load_text(yaml);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::BadInput) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "not one line: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "loaded without error:\n" << yaml;
  return {};
}

}  // namespace rfarm::config::testing

// Expects the error for YAML to start with "t.yaml:LINE:COL: KEY: " and contain FRAGMENT.
#define EXPECT_CONFIG_ERROR(yaml, line_col, key, fragment)                                       \
  do {                                                                                           \
    const std::string msg_ = ::rfarm::config::testing::load_error(yaml);                         \
    const std::string prefix_ = std::string("t.yaml:") + (line_col) + ": " + (key) + ": ";       \
    EXPECT_EQ(msg_.rfind(prefix_, 0), 0u) << "message: " << msg_ << "\nexpected prefix: " << prefix_; \
    EXPECT_NE(msg_.find(fragment), std::string::npos) << "message: " << msg_ << "\nmissing: " << (fragment); \
  } while (0)
