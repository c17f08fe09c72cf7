// Every ledger command on PostgreSQL as on SQLite (docs/LEDGER.md "PostgreSQL"), driven through
// <build>/bin/rfarm against a real server (tests/support/pg_testbed: one per suite, a fresh
// database per test): the same scripted commands give the same signed head and balances on both;
// init/migrate with versioned migrations; copy SQLite <-> PostgreSQL proven by both heads; least
// privilege of the owner, writer and reader roles; bad input as one line, non-zero, nothing written.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include "cli/demo_scene.h"
#include "cli_runner.h"
#include "support/pg_testbed.h"
#include "support/process.h"

namespace rfarm {
namespace {

using json = nlohmann::json;
using testing::CliRunner;
using testing::PgRole;
using testing::RunResult;
namespace fs = std::filesystem;

// Both backends see the same wall clock, so the same commands give the same events (timestamps
// advance 1 ns per event from here), the same Merkle root and the same signatures.
constexpr const char* kClock = "1800000000000000000";
constexpr const char* kIssuer = "1551e2";

class LedgerPgCli : public testing::PostgresTest {
 protected:
  testing::TempDir dir{"rfarm-pg-cli"};
  std::string key = (dir / "cluster.key").string();

  void SetUp() override {
    PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(testing::run({testing::rfarm_binary(), "keygen", key}).exit_code, 0);
  }

  std::map<std::string, std::string> base_env() const {
    return {{"RFARM_LEDGER", ""}, {"RFARM_LEDGER_KEY", ""}, {"RFARM_CONFIG", ""}, {"PGPASSWORD", ""},
            {"PGPASSFILE", (dir / "no-pgpass").string()}, {"RFARM_LEDGER_FIXED_CLOCK_NS", kClock}};
  }
  // `rfarm ledger` on database `db` as `role`, through an rfarm.yaml (backend postgres, url,
  // password_file, keys.cluster_signing_key): the way a site runs it.
  CliRunner as(PgRole role, const std::string& db) const {
    const std::string name = "rfarm-" + std::to_string(static_cast<int>(role)) + "-" + db + ".yaml";
    const fs::path config = testing::write_file(
        dir / name, "ledger:\n  backend: postgres\n  url: " + pg().url(role, db) + "\n  password_file: " +
                        pg().password_file(role).string() + "\nkeys:\n  cluster_signing_key: " + key + "\n" +
                        "stake:\n  slash_bps: 2500\n  slash_burn_bps: 5000\n");
    return {{"--config", config.string()}, base_env()};
  }
  // The same commands on an SQLite file (and the same key and stake settings).
  CliRunner sqlite(const fs::path& file) const {
    const fs::path config = testing::write_file(dir / ("sqlite-" + file.filename().string() + ".yaml"),
                                                "stake:\n  slash_bps: 2500\n  slash_burn_bps: 5000\n");
    auto env = base_env();
    env["RFARM_LEDGER"] = file.string();
    env["RFARM_LEDGER_KEY"] = key;
    return {{"--config", config.string()}, env};
  }
  // Init as the owner (the only role that may create the schema), then use `writer`.
  void init_pg(const std::string& db) const {
    RunResult r = as(PgRole::owner, db)({"ledger", "init", "--cluster", "studio", "--issuer-id", kIssuer});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The cases below share one server: under ctest every TEST is its own process, and starting a
  // server (initdb + start) costs more than all four cases together.
  void SameCommandsGiveTheSameHeadAndBalancesOnSqliteAndPostgres();
  void InitAndMigrateAreVersionedAndNeedTheOwner();
  void CopyCarriesEveryEventAcrossAndBackProvenByBothHeads();
  void BadInputIsOneLineNonZeroAndWritesNothing();

  std::string tables(const std::string& db) const {
    return pg().super_sql(db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                              "schemaname = 'public'").out;
  }
};

// One scripted day of a site: accounts, deposits, a hold posted in part, a hold voided, a plain
// transfer, stake bonded, a slash, an unbonding started.
const std::vector<std::vector<std::string>> kScript = {
    {"ledger", "account", "create", "alice", "--owner", "alice", "--id", "a1"},
    {"ledger", "account", "create", "bob", "--id", "b0"},
    {"ledger", "account", "create", "node1", "--kind", "provider", "--id", "21"},
    {"ledger", "account", "create", "escrow", "--kind", "escrow", "--id", "e5", "--allow-overdraft"},
    {"ledger", "account", "create", "burn", "--kind", "burn", "--id", "b5", "--allow-overdraft"},
    {"ledger", "deposit", "alice", "100.5", "--id", "1"},
    {"ledger", "deposit", "node1", "80", "--id", "2"},
    {"ledger", "transfer", "--from", "alice", "--to", "escrow", "--amount", "40", "--pending", "--timeout", "3600",
     "--id", "10", "--job", "j1"},
    {"ledger", "post", "10", "--amount", "12.25", "--id", "11"},
    {"ledger", "transfer", "--from", "alice", "--to", "escrow", "--amount", "5", "--pending", "--id", "12"},
    {"ledger", "void", "12", "--id", "13"},
    {"ledger", "transfer", "--from", "alice", "--to", "bob", "--amount", "0.000001", "--id", "14"},
    {"ledger", "deposit", "alice", "100.5", "--id", "1"},  // a retry: exists, changes nothing
    {"ledger", "stake", "node1", "60", "--id", "20"},
    {"ledger", "slash", "node1", "--job", "j1", "--frames", "3", "--harmed", "alice", "--id", "30"},
    {"ledger", "unstake", "node1", "10", "--id", "31"},
    {"ledger", "sweep"},
};

std::map<std::string, std::string> balances(const json& accounts) {
  std::map<std::string, std::string> out;
  for (const auto& a : accounts) out[a["name"]] = a["balance"].get<std::string>() + "/" + a["available"].get<std::string>();
  return out;
}

void LedgerPgCli::SameCommandsGiveTheSameHeadAndBalancesOnSqliteAndPostgres() {
  const std::string db = fresh_database();
  init_pg(db);
  const CliRunner pg_writer = as(PgRole::writer, db);
  const CliRunner lite = sqlite(dir / "ledger.sqlite3");
  ASSERT_EQ(lite({"ledger", "init", "--cluster", "studio", "--issuer-id", kIssuer}).exit_code, 0);
  for (const auto& cmd : kScript) {
    RunResult a = lite(cmd), b = pg_writer(cmd);
    ASSERT_EQ(a.exit_code, 0) << cmd[1] << ": " << a.err;
    ASSERT_EQ(b.exit_code, 0) << cmd[1] << ": " << b.err;
    EXPECT_EQ(a.out, b.out) << cmd[1];
  }
  const json head_a = lite.json({"ledger", "head"}), head_b = pg_writer.json({"ledger", "head"});
  EXPECT_EQ(head_a["size"], head_b["size"]);
  EXPECT_EQ(head_a["root"], head_b["root"]);
  EXPECT_EQ(head_a["signature"], head_b["signature"]);
  EXPECT_GE(head_b["size"].get<int>(), 17);  // every write above is in the log
  const auto bal_a = balances(lite.json({"ledger", "account", "list"}));
  EXPECT_EQ(bal_a, balances(pg_writer.json({"ledger", "account", "list"})));
  // 100.5 deposited - 12.25 posted - 0.000001 to bob + 7.5 compensation (25% of the 60 staked
  // slashed, half of it burned).
  EXPECT_EQ(bal_a.at("alice"), "95.749999/95.749999");
  EXPECT_EQ(bal_a.at("burn"), "7.5/7.5");
  EXPECT_EQ(lite.json({"ledger", "stake-info", "node1"}), pg_writer.json({"ledger", "stake-info", "node1"}));
  const std::vector<std::string> st = {"statement", "-A", "alice", "--from", "2020-01-01", "--to", "2030-01-01", "--format", "csv"};
  RunResult sa = lite(st), sb = pg_writer(st);
  ASSERT_EQ(sb.exit_code, 0) << sb.err;
  EXPECT_EQ(sa.out, sb.out);
  EXPECT_EQ(pg_writer.json({"ledger", "audit", "--pubkey", key + ".pub"})["ok"], true);
  // The reader role sees the same, and cannot write.
  const CliRunner reader = as(PgRole::reader, db);
  EXPECT_EQ(reader.json({"ledger", "head"})["root"], head_a["root"]);
  EXPECT_NE(reader.refused({"ledger", "deposit", "alice", "1"}, 3).find("permission denied"), std::string::npos);
  EXPECT_EQ(pg_writer.json({"ledger", "head"})["size"], head_b["size"]);
}

void LedgerPgCli::InitAndMigrateAreVersionedAndNeedTheOwner() {
  const std::string db = fresh_database();
  // The writer may not create the schema: refused, nothing written.
  EXPECT_NE(as(PgRole::writer, db).refused({"ledger", "init", "--cluster", "studio"}, 3).find("owns the schema"),
            std::string::npos);
  EXPECT_EQ(tables(db), "\n");
  const CliRunner owner = as(PgRole::owner, db);
  json m = owner.json({"ledger", "migrate"});
  EXPECT_EQ(m["from"], 0);
  EXPECT_GE(m["to"].get<int>(), 1);
  const int current = m["to"];
  EXPECT_EQ(pg().super_sql(db, "SELECT max(version) FROM schema_version").out, std::to_string(current) + "\n");
  json again = owner.json({"ledger", "migrate"});
  EXPECT_EQ(again["from"], current);
  EXPECT_EQ(again["to"], current);
  json init = owner.json({"ledger", "init", "--cluster", "studio"});
  EXPECT_EQ(init["schema_version"], current);
  EXPECT_EQ(init["new_key"], false);  // keys.cluster_signing_key from rfarm.yaml
  EXPECT_NE(owner.refused({"ledger", "init", "--cluster", "studio"}, 3).find("already holds a ledger"), std::string::npos);
  ASSERT_EQ(as(PgRole::writer, db)({"ledger", "account", "create", "alice"}).exit_code, 0);
  // A schema from the future: every command refuses in one line, migrate too; nothing written.
  ASSERT_EQ(pg().super_sql(db, "INSERT INTO schema_version(version, description) VALUES (99, 'future')").exit_code, 0);
  const std::string events = pg().super_sql(db, "SELECT count(*) FROM events").out;
  for (PgRole role : {PgRole::reader, PgRole::writer, PgRole::owner}) {
    EXPECT_NE(as(role, db).refused({"ledger", "balance", "alice"}, 3).find("version 99, newer than this rfarm"),
              std::string::npos);
  }
  EXPECT_NE(as(PgRole::writer, db).refused({"ledger", "deposit", "alice", "1"}, 3).find("upgrade rfarm"), std::string::npos);
  EXPECT_NE(owner.refused({"ledger", "migrate"}, 3).find("newer"), std::string::npos);
  EXPECT_EQ(pg().super_sql(db, "SELECT count(*) FROM events").out, events);
}

void LedgerPgCli::CopyCarriesEveryEventAcrossAndBackProvenByBothHeads() {
  const CliRunner lite = sqlite(dir / "site.sqlite3");
  ASSERT_EQ(lite({"ledger", "init", "--cluster", "studio"}).exit_code, 0);
  for (std::size_t i = 0; i < 12; ++i) ASSERT_EQ(lite(kScript[i]).exit_code, 0) << kScript[i][1];
  const json head = lite.json({"ledger", "head"});
  const std::string db = fresh_database();
  const std::string owner_url = pg().url(PgRole::owner, db);
  const std::string owner_pw = pg().password_file(PgRole::owner).string();
  RunResult r = lite({"ledger", "copy", "--to", owner_url, "--to-password-file", owner_pw});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string size_root = "size " + std::to_string(head["size"].get<int>()) + " root " + head["root"].get<std::string>();
  EXPECT_NE(r.out.find("source " + (dir / "site.sqlite3").string() + ": " + size_root), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("copy   " + owner_url + ": " + size_root), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("audit clean"), std::string::npos);
  // The PostgreSQL copy is a working ledger for the writer, with the same balances.
  const CliRunner pg_writer = as(PgRole::writer, db);
  EXPECT_EQ(balances(lite.json({"ledger", "account", "list"})), balances(pg_writer.json({"ledger", "account", "list"})));
  // A non-empty target is refused and left as it was.
  const std::string events = pg().super_sql(db, "SELECT count(*) FROM events").out;
  EXPECT_NE(lite.refused({"ledger", "copy", "--to", owner_url, "--to-password-file", owner_pw}, 3).find("already holds"),
            std::string::npos);
  EXPECT_EQ(pg().super_sql(db, "SELECT count(*) FROM events").out, events);
  // And back: PostgreSQL -> a new SQLite file, after one more write there.
  ASSERT_EQ(pg_writer(kScript[12]).exit_code, 0);
  ASSERT_EQ(pg_writer({"ledger", "deposit", "bob", "2", "--id", "99"}).exit_code, 0);
  const json pg_head = pg_writer.json({"ledger", "head"});
  const fs::path back = dir / "back.sqlite3";
  json c = pg_writer.json({"ledger", "copy", "--to", back.string()});
  EXPECT_EQ(c["from"]["root"], pg_head["root"]);
  EXPECT_EQ(c["to"]["root"], pg_head["root"]);
  EXPECT_EQ(c["to"]["size"], pg_head["size"]);
  EXPECT_EQ(c["events"], pg_head["size"]);
  EXPECT_EQ(sqlite(back).json({"ledger", "audit"})["ok"], true);
  // An existing file is never overwritten.
  EXPECT_NE(pg_writer.refused({"ledger", "copy", "--to", back.string()}, 3).find("already exists"), std::string::npos);
}

void LedgerPgCli::BadInputIsOneLineNonZeroAndWritesNothing() {
  const std::string db = fresh_database();
  const std::string port = pg().env().at("RFARM_PG_PORT");
  // A key init would create: it must not appear when init is refused.
  const std::string new_key = (dir / "new.key").string();
  auto flags = [&](const std::string& url, const std::string& pw) {
    std::vector<std::string> v = {"ledger", "--ledger", url, "--key", new_key};
    if (!pw.empty()) v.insert(v.end(), {"--password-file", pw});
    return v;
  };
  auto with = [](std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const CliRunner cli{{}, base_env()};
  const std::string owner_pw = pg().password_file(PgRole::owner).string();
  const std::vector<std::string> init = {"init", "--cluster", "studio"};
  // Nothing listens on the port: exit 1 (Io), naming the URL and what to check.
  const std::string closed = "postgresql://rfarm_owner@127.0.0.1:1/" + db;
  EXPECT_NE(cli.refused(with(flags(closed, owner_pw), init), 1).find("check the host and port"), std::string::npos);
  EXPECT_NE(cli.refused(with(flags("postgresql://rfarm_owner@no-such-host.invalid:" + port + "/" + db, owner_pw), init), 1)
                .find("check the host and port in ledger.url"),
            std::string::npos);
  EXPECT_NE(cli.refused(with(flags("postgresql://rfarm_owner@127.0.0.1:port/" + db, owner_pw), init), 2)
                .find("write postgresql://USER@HOST:PORT/DATABASE"),
            std::string::npos);
  // A wrong password: refused login.
  const fs::path wrong = testing::write_file(dir / "wrong.password", "not-the-password\n");
  fs::permissions(wrong, fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), wrong.string()), init), 3).find("refused the login"),
            std::string::npos);
  // A password in the URL, a missing or world-readable password file: bad input, before connecting.
  EXPECT_NE(cli.refused(with(flags("postgresql://rfarm_owner:secret@127.0.0.1:" + port + "/" + db, ""), init), 2)
                .find("holds a password"),
            std::string::npos);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), (dir / "missing.password").string()), init), 2)
                .find("no such file"),
            std::string::npos);
  fs::permissions(wrong, fs::perms::others_read, fs::perm_options::add);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), wrong.string()), init), 2).find("chmod 600"),
            std::string::npos);
  EXPECT_EQ(tables(db), "\n");
  // Another application's database: tables but no schema_version; then a schema_version that is
  // not ours (no rfarm application id).
  ASSERT_EQ(pg().super_sql(db, "CREATE TABLE orders(id int); ALTER TABLE orders OWNER TO rfarm_owner").exit_code, 0);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), owner_pw), init), 3).find("another application"),
            std::string::npos);
  ASSERT_EQ(pg().super_sql(db, "CREATE TABLE schema_version(version int); INSERT INTO schema_version VALUES (1)").exit_code, 0);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), owner_pw), init), 3).find("not an rfarm ledger"),
            std::string::npos);
  EXPECT_NE(cli.refused(with(flags(pg().url(PgRole::owner, db), owner_pw), {"migrate"}), 3).find("not an rfarm ledger"),
            std::string::npos);
  EXPECT_EQ(tables(db), "orders,schema_version\n");
  EXPECT_FALSE(fs::exists(new_key));
}

TEST_F(LedgerPgCli, EveryCommandOnPostgresAsOnSqlite) {
  {
    SCOPED_TRACE("same commands, same head and balances on SQLite and PostgreSQL");
    SameCommandsGiveTheSameHeadAndBalancesOnSqliteAndPostgres();
  }
  {
    SCOPED_TRACE("init and migrate are versioned and need the owner");
    InitAndMigrateAreVersionedAndNeedTheOwner();
  }
  {
    SCOPED_TRACE("copy SQLite -> PostgreSQL -> SQLite, proven by both heads");
    CopyCarriesEveryEventAcrossAndBackProvenByBothHeads();
  }
  {
    SCOPED_TRACE("bad input: one line, non-zero, nothing written");
    BadInputIsOneLineNonZeroAndWritesNothing();
  }
}

// Least privilege (#9, docs/LEDGER.md "Roles"): with ledger.reader_url set, `rfarm submit` reads the
// balance for its funds check through the reader role (a READ ONLY session) and places the hold
// through the writer. The reader's statements in this test's database are logged (log_statement for
// rfarm_reader IN DATABASE only), so the log shows the reader looking the account up; a reader
// that cannot log in stops the submission before anything is held.
TEST_F(LedgerPgCli, SubmitChecksFundsThroughTheReaderRoleAndHoldsThroughTheWriter) {
  const std::string db = testing::unique_database_name();
  pg().create_database(db);
  init_pg(db);
  const std::string account = "funds" + std::to_string(::getpid());  // unique in the shared server's log
  const CliRunner writer = as(PgRole::writer, db);
  for (auto [name, kind] : {std::pair{account.c_str(), "user"}, {"nodes", "provider"}, {"treasury", "treasury"}})
    ASSERT_EQ(writer({"ledger", "account", "create", name, "--kind", kind}).exit_code, 0) << name;
  ASSERT_EQ(writer({"ledger", "deposit", account, "100"}).exit_code, 0);
  ASSERT_EQ(pg().super_sql(db, "ALTER ROLE rfarm_reader IN DATABASE " + db + " SET log_statement = 'all'").exit_code, 0);

  auto site = [&](const fs::path& reader_password) {
    const fs::path config = testing::write_file(
        dir / ("submit-" + reader_password.filename().string() + ".yaml"),
        "token: {symbol: RFT, decimals: 6}\nprices: {cpu_core_hour: \"36\"}\n"
        "fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: \"0\"}\n"
        "state_dir: " + (dir / ("state-" + reader_password.filename().string())).string() + "\n"
        "ledger:\n  backend: postgres\n  url: " + pg().url(PgRole::writer, db) + "\n  password_file: " +
        pg().password_file(PgRole::writer).string() + "\n  reader_url: " + pg().url(PgRole::reader, db) +
        "\n  reader_password_file: " + reader_password.string() + "\n"
        "keys: {cluster_signing_key: " + key + "}\nusers: {root: " + account + "}\naccounts:\n  - {name: " + account +
        ", kind: user, unix_users: [root]}\n  - {name: nodes, kind: provider}\n  - {name: treasury, kind: treasury}\n");
    auto env = base_env();
    env["USER"] = "root";
    return CliRunner{{"--config", config.string()}, env};
  };
  auto pending = [&] {
    RunResult r = writer({"ledger", "--json", "account", "show", account});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? json::parse(r.out)["debits_pending"].get<std::string>() : std::string("?");
  };
  const std::vector<std::string> job = {"submit", "--frames", "1-2", "--chunk", "2", "--resolution", "16x8", "--spp", "1"};

  // A reader that cannot log in: refused, naming the reader; nothing held, nothing rendered.
  const fs::path wrong = testing::write_file(dir / "reader-wrong.password", "not-the-password\n");
  fs::permissions(wrong, fs::perms::owner_read | fs::perms::owner_write);
  auto argv = job;
  argv.insert(argv.end(), {"-o", (dir / "refused/f_####.exr").string(), testing::demo_scene()});
  RunResult refused = site(wrong)(argv);
  EXPECT_NE(refused.exit_code, 0) << refused.out;
  EXPECT_NE(refused.err.find("ledger.reader_url"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("rfarm_reader"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(dir / "refused"));
  EXPECT_EQ(pending(), "0");

  // The reader configured: the job runs and settles; the reader looked the account up.
  argv = job;
  argv.insert(argv.end(), {"-o", (dir / "out/f_####.exr").string(), testing::demo_scene()});
  RunResult ok = site(pg().password_file(PgRole::reader))(argv);
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_TRUE(fs::exists(dir / "out/f_0002.exr"));
  RunResult shown = writer({"ledger", "--json", "account", "show", account});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(json::parse(shown.out)["debits_posted"].get<std::string>(), "0") << "the hold was posted";
  const std::string log = testing::read_file(pg().dir() / "log" / "postgres.log");
  EXPECT_NE(log.find("'" + account + "'"), std::string::npos)
      << "no statement of rfarm_reader naming the account in the server log";
  pg().super_sql(db, "ALTER ROLE rfarm_reader IN DATABASE " + db + " RESET log_statement");
}

}  // namespace
}  // namespace rfarm
