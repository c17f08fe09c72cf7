// ledger.backend postgres: the URL and the password file land in LedgerConfig; a password in the
// URL, a non-PostgreSQL URL or a missing URL are one-line errors naming the key and the fix.
#include <gtest/gtest.h>

#include "config/config.h"
#include "config_test_util.h"

namespace rfarm::config {
namespace {

using testing::load_error;
using testing::load_text;

TEST(LedgerBackend, PostgresReadsUrlAndPasswordFile) {
  const Config c = load_text(
      "ledger:\n  backend: postgres\n  url: postgresql://rfarm_writer@db:5432/rfarm\n"
      "  password_file: /etc/rfarm/ledger.password\n");
  EXPECT_EQ(c.ledger.backend, LedgerBackend::Postgres);
  EXPECT_EQ(c.ledger.url, "postgresql://rfarm_writer@db:5432/rfarm");
  EXPECT_EQ(c.ledger.password_file, "/etc/rfarm/ledger.password");
  EXPECT_EQ(to_string(c.ledger.backend), "postgres");
  EXPECT_EQ(load_text("").ledger.backend, LedgerBackend::Sqlite);
}

TEST(LedgerBackend, RefusesPasswordsAndNonPostgresUrls) {
  EXPECT_CONFIG_ERROR("ledger:\n  backend: postgres\n  url: postgresql://w:secret@db/rfarm\n", "3:8", "ledger.url",
                      "holds a password");
  EXPECT_CONFIG_ERROR("ledger:\n  url: postgresql://w@db/rfarm?password=x\n", "2:8", "ledger.url", "password_file");
  EXPECT_CONFIG_ERROR("ledger:\n  url: mysql://w@db/rfarm\n", "2:8", "ledger.url", "postgresql://USER@HOST:PORT/DATABASE");
  EXPECT_CONFIG_ERROR("ledger:\n  backend: postgres\n", "2:3", "ledger", "needs a url");
}

}  // namespace
}  // namespace rfarm::config
