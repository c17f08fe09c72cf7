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

// ledger.reader_url / reader_password_file: the read-only role for submit's funds check. It must
// name the writer's server and database (only the user may differ), and never hold a password.
TEST(LedgerBackend, ReaderUrlNamesTheWritersDatabaseWithoutAPassword) {
  const std::string base = "ledger:\n  backend: postgres\n  url: postgresql://rfarm_writer@db:5432/rfarm\n";
  const Config c = load_text(base + "  reader_url: postgresql://rfarm_reader@db:5432/rfarm\n"
                                    "  reader_password_file: /etc/rfarm/reader.password\n");
  EXPECT_EQ(c.ledger.reader_url, "postgresql://rfarm_reader@db:5432/rfarm");
  EXPECT_EQ(c.ledger.reader_password_file, "/etc/rfarm/reader.password");
  EXPECT_TRUE(load_text(base).ledger.reader_url.empty());
  EXPECT_CONFIG_ERROR(base + "  reader_url: postgresql://rfarm_reader@db:5432/other\n", "4:15", "ledger.reader_url",
                      "another server or database than ledger.url (db:5432/rfarm)");
  EXPECT_CONFIG_ERROR(base + "  reader_url: postgresql://rfarm_reader@db2:5432/rfarm\n", "4:15", "ledger.reader_url",
                      "postgresql://rfarm_reader@db:5432/rfarm");
  EXPECT_CONFIG_ERROR(base + "  reader_url: postgresql://r:secret@db:5432/rfarm\n", "4:15", "ledger.reader_url",
                      "ledger.reader_password_file");
  EXPECT_CONFIG_ERROR(base + "  reader_url: http://db/rfarm\n", "4:15", "ledger.reader_url", "is not a PostgreSQL URL");
}

}  // namespace
}  // namespace rfarm::config
