// The PostgreSQL backend against a real server (scripts/pg-testbed.sh on loopback): the same
// seeded operations give the same events, balances and Merkle root as SQLite; migrations and
// the one-line refusals (wrong URL, refused password, another application's database, a schema
// from the future, a password in the URL); least privilege of the writer and reader roles.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "core/error.h"
#include "ledger/audit.h"
#include "ledger/copy.h"
#include "ledger/open_storage.h"
#include "ledger/postgres_storage.h"
#include "ledger_fixture.h"
#include "support/pg_testbed.h"

namespace rfarm::ledger {
namespace {

using rfarm::testing::PgRole;
using testing::id;
using testing::ManualClock;

class PostgresStorageTest : public rfarm::testing::PostgresTest {
 protected:
  PostgresOptions options(PgRole role, const std::string& db, bool create = false) {
    return {pg().url(role, db), pg().password_file(role), create};
  }
  // The error open_postgres_storage throws, or a test failure when it does not throw.
  Error open_error(const PostgresOptions& o) {
    try {
      open_postgres_storage(o);
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "open_postgres_storage(" << o.url << ") did not throw";
    return Error(Error::Kind::Internal, "");
  }
  // Rows of the tables in `db` ("" when the query failed).
  std::string tables(const std::string& db) {
    return pg().super_sql(db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE "
                              "schemaname = 'public'").out;
  }
};

// One seeded sequence of every kind of write, applied to two ledgers step by step.
struct Twin {
  ManualClock clock_a, clock_b;
  Ledger a, b;
  std::mt19937_64 rng;
  std::vector<Id128> users, holds;
  Id128 escrow = Id128{7, 1}, provider = Id128{7, 2}, verifier = Id128{7, 3};
  std::uint64_t next_id = 1000;

  Twin(std::unique_ptr<Storage> sa, std::unique_ptr<Storage> sb, std::uint64_t seed)
      : a(testing::make_ledger(clock_a, std::move(sa))), b(testing::make_ledger(clock_b, std::move(sb))), rng(seed) {}

  std::uint64_t pick(std::uint64_t n) { return rng() % n; }
  void advance(std::uint64_t s) {
    clock_a.advance_seconds(s);
    clock_b.advance_seconds(s);
  }
  // A fresh id, or now and then one already used (idempotent retry or a conflicting reuse).
  Id128 some_id() { return pick(10) == 0 && next_id > 1000 ? id(1000 + pick(next_id - 1000)) : id(next_id++); }

  void accounts() {
    std::vector<NewAccount> batch;
    for (std::uint64_t i = 0; i < 6; ++i) {
      users.push_back(id(100 + i));
      batch.push_back({users.back(), "user" + std::to_string(i), AccountKind::user, "u" + std::to_string(i),
                       account_flags::debits_must_not_exceed_credits});
    }
    batch.push_back({escrow, "escrow", AccountKind::escrow, "", 0});
    batch.push_back({provider, "provider", AccountKind::provider, "p", account_flags::debits_must_not_exceed_credits});
    batch.push_back({verifier, "verifier", AccountKind::verifier, "v", 0});
    ASSERT_EQ(a.create_accounts(batch), b.create_accounts(batch));
  }

  TransferRequest random_transfer() {
    switch (pick(6)) {
      case 0:
        return single(some_id(), a.issuer(), users[pick(users.size())], Amount(1 + pick(5000)), TransferCode::deposit);
      case 1:
      case 2:  // races for the same funds: often more than the payer has
        return single(some_id(), users[pick(users.size())], users[pick(users.size())], Amount(1 + pick(3000)),
                      TransferCode::fee, {"job" + std::to_string(pick(4)), "1-4", ""});
      case 3: {
        Id128 h = some_id();
        holds.push_back(h);
        return hold(h, users[pick(users.size())], escrow, Amount(1 + pick(2000)), pick(3) * 5, {"job", "1-10:2", ""});
      }
      case 4:
        if (!holds.empty()) return post(some_id(), holds[pick(holds.size())], Amount(pick(3) == 0 ? 0 : 1 + pick(2000)));
        [[fallthrough]];
      default:
        if (!holds.empty()) return void_pending(some_id(), holds[pick(holds.size())]);
        return single(some_id(), users[0], users[1], Amount(1), TransferCode::fee);
    }
  }

  void step() {
    switch (pick(10)) {
      case 0: {
        advance(1 + pick(6));
        ASSERT_EQ(a.sweep(), b.sweep());
        break;
      }
      case 1: {
        FrameCommit c{"job" + std::to_string(pick(3)), pick(8), provider, Hash256{}, Hash256{}};
        c.exr_hash.bytes[0] = static_cast<std::uint8_t>(pick(2));
        std::optional<FrameCommitResult> ra, rb;
        try { ra = a.append_frame_commit(c); } catch (const Error&) {}
        try { rb = b.append_frame_commit(c); } catch (const Error&) {}
        ASSERT_EQ(ra.has_value(), rb.has_value());
        if (ra) {
          ASSERT_EQ(ra->event, rb->event);
          auto head = a.head();
          ASSERT_TRUE(head);
          Verdict v{c.job, c.frame, provider, verifier, pick(2) ? VerdictOutcome::pass : VerdictOutcome::fail,
                    "", head->size, head->root, static_cast<std::uint32_t>(pick(100)), Hash256{}};
          if (v.outcome == VerdictOutcome::fail) v.reason = "noise";
          VerdictResult va = a.append_verdict(v), vb = b.append_verdict(v);
          ASSERT_EQ(va.event, vb.event);
          ASSERT_EQ(va.existed, vb.existed);
        }
        break;
      }
      case 2: {
        MeteredUsage u{"c/" + std::to_string(pick(20)) + "/0/n1", "slurm:7", 0, "n1", "user0", 1000 * pick(9), 0, "",
                       1000, 2000, testing::test_key().public_key(), Id128{}};
        std::optional<TransferRequest> charge;
        if (pick(2)) {
          u.charge = some_id();
          charge = single(u.charge, users[0], provider, Amount(1 + pick(900)), TransferCode::charge, {"", "", u.record});
        }
        UsageResult ua = a.append_usage(u, charge), ub = b.append_usage(u, charge);
        ASSERT_EQ(ua.event, ub.event);
        ASSERT_EQ(ua.existed, ub.existed);
        ASSERT_EQ(ua.conflict, ub.conflict);
        ASSERT_EQ(ua.charge, ub.charge);
        break;
      }
      default: {
        std::vector<TransferRequest> batch;
        // Mostly single transfers: a batch with one refused transfer applies nothing.
        for (std::uint64_t n = pick(6) == 0 ? 1 + pick(20) : 1; n > 0; --n) batch.push_back(random_transfer());
        ASSERT_EQ(a.submit(batch), b.submit(batch));
        advance(pick(2));
      }
    }
  }
};

TEST_F(PostgresStorageTest, SameSeedSameEventsBalancesAndRootAsSqlite) {
  for (std::uint64_t seed : {1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::string db = fresh_database();
    Twin t(open_sqlite_storage(":memory:", {.durable = false, .create = true}),
           open_postgres_storage(options(PgRole::owner, db, true)), seed);
    ASSERT_NO_FATAL_FAILURE(t.accounts());
    for (int i = 0; i < 250; ++i) ASSERT_NO_FATAL_FAILURE(t.step()) << "step " << i;

    ASSERT_EQ(t.a.event_count(), t.b.event_count());
    EXPECT_GT(t.a.event_count(), 120u);
    auto ea = t.a.storage().read_events(0, t.a.event_count());
    auto eb = t.b.storage().read_events(0, t.b.event_count());
    for (std::size_t i = 0; i < ea.size(); ++i) {
      ASSERT_EQ(ea[i].body, eb[i].body) << "event " << i;
      ASSERT_EQ(ea[i].leaf_hash, eb[i].leaf_hash) << "event " << i;
    }
    EXPECT_EQ(t.a.list_accounts(), t.b.list_accounts());
    EXPECT_EQ(t.a.storage().list_transfers(), t.b.storage().list_transfers());
    EXPECT_EQ(t.a.storage().list_frame_commits().size(), t.b.storage().list_frame_commits().size());
    EXPECT_EQ(t.a.storage().list_verdicts().size(), t.b.storage().list_verdicts().size());
    EXPECT_EQ(t.a.storage().list_usage().size(), t.b.storage().list_usage().size());
    EXPECT_EQ(t.a.reputation(t.provider), t.b.reputation(t.provider));
    EXPECT_EQ(t.a.storage().list_heads().size(), t.b.storage().list_heads().size());
    ASSERT_TRUE(t.a.head() && t.b.head());
    EXPECT_EQ(t.a.head()->root, t.b.head()->root);
    EXPECT_EQ(t.a.head()->signature, t.b.head()->signature);
    auto report = audit(t.b.storage(), t.b.public_key(), t.b.cluster());
    EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
    // Proofs come out of the PostgreSQL node table the same way.
    auto pa = t.a.prove_inclusion(t.a.event_count() / 3);
    auto pb = t.b.prove_inclusion(t.b.event_count() / 3);
    EXPECT_EQ(pa.path, pb.path);
  }
}

TEST_F(PostgresStorageTest, InitRecordsTheSchemaVersionAndMigrateIsIdempotent) {
  std::string db = fresh_database();
  MigrationReport first = migrate_postgres(options(PgRole::owner, db));
  EXPECT_EQ(first.from, 0);
  EXPECT_EQ(first.to, postgres_schema_version());
  MigrationReport again = migrate_postgres(options(PgRole::owner, db));
  EXPECT_EQ(again.from, postgres_schema_version());
  EXPECT_EQ(again.to, postgres_schema_version());
  std::string versions;  // every migration once, in order: "1,2,..."
  for (int v = 1; v <= postgres_schema_version(); ++v) versions += (v > 1 ? "," : "") + std::to_string(v);
  EXPECT_EQ(pg().super_sql(db, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_version").out,
            versions + "\n");
  ManualClock clock;
  Ledger l = testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db)));
  EXPECT_EQ(l.event_count(), 1u);
}

TEST_F(PostgresStorageTest, WriterWritesReaderReadsNeitherChangesTheSchema) {
  std::string db = fresh_database();
  ManualClock clock;
  { testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true))); }

  Ledger writer(open_postgres_storage(options(PgRole::writer, db)), testing::test_key(), clock.clock());
  ASSERT_EQ(writer.create_accounts(std::vector<NewAccount>{{id(1), "alice", AccountKind::user, "", 0}})[0],
            AccountResult::ok);
  EXPECT_EQ(writer.submit_one(single(id(2), writer.issuer(), id(1), Amount(50), TransferCode::deposit)),
            TransferResult::ok);

  Ledger reader(open_postgres_storage(options(PgRole::reader, db)), std::nullopt);
  EXPECT_EQ(reader.find_account(id(1))->credits_posted, Amount(50));
  Ledger reader_with_key(open_postgres_storage(options(PgRole::reader, db)), testing::test_key(), clock.clock());
  try {
    reader_with_key.submit_one(single(id(3), writer.issuer(), id(1), Amount(5), TransferCode::deposit));
    ADD_FAILURE() << "the reader role wrote";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
    EXPECT_NE(std::string(e.what()).find(pg().url(PgRole::reader, db)), std::string::npos) << e.what();
  }
  EXPECT_EQ(reader.event_count(), 3u);

  for (PgRole role : {PgRole::writer, PgRole::reader}) {
    auto r = pg().role_sql(role, db, "ALTER TABLE accounts ADD COLUMN x INTEGER");
    EXPECT_NE(r.exit_code, 0);
    r = pg().role_sql(role, db, "DELETE FROM events");
    EXPECT_NE(r.exit_code, 0);
    r = pg().role_sql(role, db, "CREATE TABLE mine(a INTEGER)");
    EXPECT_NE(r.exit_code, 0);
  }
  // The writer cannot create a ledger either: init needs the owner.
  std::string empty = fresh_database();
  Error e = open_error(options(PgRole::writer, empty, true));
  EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
  EXPECT_EQ(tables(empty), "\n");
}

TEST_F(PostgresStorageTest, WrongUrlIsOneLineNamingItAndTheFix) {
  PostgresOptions o{"postgresql://rfarm_owner@127.0.0.1:1/rfarm", pg().password_file(PgRole::owner), false};
  Error e = open_error(o);
  EXPECT_EQ(e.kind(), Error::Kind::Io);
  std::string m = e.what();
  EXPECT_NE(m.find("postgresql://rfarm_owner@127.0.0.1:1/rfarm"), std::string::npos) << m;
  EXPECT_NE(m.find("ledger.url"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;

  e = open_error({"mysql://x@127.0.0.1/db", {}, false});
  EXPECT_EQ(e.kind(), Error::Kind::BadInput);
  EXPECT_NE(std::string(e.what()).find("postgresql://USER@HOST:PORT/DATABASE"), std::string::npos) << e.what();

  e = open_error(options(PgRole::owner, "no_such_db"));
  EXPECT_EQ(e.kind(), Error::Kind::BadInput) << e.what();
  EXPECT_NE(std::string(e.what()).find("no_such_db"), std::string::npos) << e.what();
}

TEST_F(PostgresStorageTest, PasswordNeverInTheUrlAndARefusedOneSaysSo) {
  std::string db = fresh_database();
  std::string secret = rfarm::testing::read_file(pg().password_file(PgRole::owner));
  secret.pop_back();
  std::string url = pg().url(PgRole::owner, db);
  std::string with_pw = "postgresql://rfarm_owner:" + secret + "@" + url.substr(url.find('@') + 1);
  Error e = open_error({with_pw, {}, true});
  EXPECT_EQ(e.kind(), Error::Kind::BadInput);
  EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << "the message leaks the password";
  EXPECT_NE(std::string(e.what()).find("password_file"), std::string::npos);

  auto wrong = pg().dir() / "wrong.password";
  rfarm::testing::write_file(wrong, "not-the-password\n");
  ::chmod(wrong.c_str(), 0600);
  e = open_error({url, wrong, true});
  EXPECT_EQ(e.kind(), Error::Kind::Refused);
  std::string m = e.what();
  EXPECT_NE(m.find(url), std::string::npos) << m;
  EXPECT_NE(m.find("password"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;

  ::chmod(wrong.c_str(), 0644);
  e = open_error({url, wrong, true});
  EXPECT_EQ(e.kind(), Error::Kind::BadInput);
  EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  EXPECT_EQ(tables(db), "\n") << "nothing may be written";
}

TEST_F(PostgresStorageTest, AnotherApplicationsDatabaseIsRefusedUntouched) {
  std::string db = fresh_database();
  ASSERT_EQ(pg().role_sql(PgRole::owner, db, "CREATE TABLE customers(id INTEGER)").exit_code, 0);
  for (bool create : {true, false}) {
    Error e = open_error(options(PgRole::owner, db, create));
    EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
    EXPECT_NE(std::string(e.what()).find("another application"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(pg().url(PgRole::owner, db)), std::string::npos) << e.what();
  }
  EXPECT_EQ(tables(db), "customers\n");
  Error e = open_error(options(PgRole::owner, fresh_database()));
  EXPECT_EQ(e.kind(), Error::Kind::BadInput) << e.what();
  EXPECT_NE(std::string(e.what()).find("rfarm ledger init"), std::string::npos) << e.what();
}

// A version-1 ledger (before the usage_by_job index): refused until `rfarm ledger migrate`, which
// adds the index and keeps every row.
TEST_F(PostgresStorageTest, AVersionOneLedgerMigratesToTheUsageIndex) {
  ASSERT_GE(postgres_schema_version(), 2);
  std::string db = fresh_database();
  ManualClock clock;
  { testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true))); }
  ASSERT_EQ(pg().role_sql(PgRole::owner, db, "DROP INDEX usage_by_job; DELETE FROM schema_version WHERE version >= 2").exit_code, 0);
  Error e = open_error(options(PgRole::writer, db));
  EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
  EXPECT_NE(std::string(e.what()).find("rfarm ledger migrate"), std::string::npos) << e.what();
  const MigrationReport m = migrate_postgres(options(PgRole::owner, db));
  EXPECT_EQ(m.from, 1);
  EXPECT_EQ(m.to, postgres_schema_version());
  EXPECT_EQ(pg().super_sql(db, "SELECT indexdef FROM pg_indexes WHERE indexname = 'usage_by_job'").out,
            "CREATE INDEX usage_by_job ON public.usage USING btree (job, event)\n");
  auto storage = open_postgres_storage(options(PgRole::writer, db));
  EXPECT_TRUE(storage->usage_of_job("abc").empty());
  EXPECT_EQ(pg().super_sql(db, "SELECT COUNT(*) FROM events").out, "1\n");
}

// A version-2 ledger (hex id columns in the database's default collation): `rfarm ledger migrate`
// gives them the "C" collation, keeps every row, and the ledger audits clean and answers lookups.
TEST_F(PostgresStorageTest, AVersionTwoLedgerMigratesToBytewiseIdColumns) {
  ASSERT_GE(postgres_schema_version(), 3);
  std::string db = fresh_database();
  Id128 user;
  Amount balance{};
  {
    Twin t(open_sqlite_storage(":memory:", {.durable = false, .create = true}),
           open_postgres_storage(options(PgRole::owner, db, true)), 3);
    ASSERT_NO_FATAL_FAILURE(t.accounts());
    for (int i = 0; i < 60; ++i) ASSERT_NO_FATAL_FAILURE(t.step()) << "step " << i;
    user = t.users.front();
    balance = t.b.storage().find_account(user)->credits_posted;
  }
  const std::string collation =
      "SELECT string_agg(table_name || '.' || column_name || '=' || COALESCE(collation_name, '-'), ',' "
      "ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public' AND "
      "column_name IN ('id', 'debit_account', 'credit_account', 'pending_id', 'provider') AND "
      "table_name IN ('accounts', 'transfers', 'frame_commits', 'verdicts')";
  const std::string migrated =
      "accounts.id=C,frame_commits.provider=C,transfers.credit_account=C,transfers.debit_account=C,"
      "transfers.id=C,transfers.pending_id=C,verdicts.provider=C\n";
  EXPECT_EQ(pg().super_sql(db, collation).out, migrated);
  // Back to version 2: the default collation, as a ledger created before migration 3 has.
  ASSERT_EQ(pg().role_sql(PgRole::owner, db,
                          "ALTER TABLE accounts ALTER COLUMN id TYPE TEXT COLLATE \"default\"; "
                          "ALTER TABLE transfers ALTER COLUMN id TYPE TEXT COLLATE \"default\", "
                          "ALTER COLUMN debit_account TYPE TEXT COLLATE \"default\", "
                          "ALTER COLUMN credit_account TYPE TEXT COLLATE \"default\", "
                          "ALTER COLUMN pending_id TYPE TEXT COLLATE \"default\"; "
                          "ALTER TABLE frame_commits ALTER COLUMN provider TYPE TEXT COLLATE \"default\"; "
                          "ALTER TABLE verdicts ALTER COLUMN provider TYPE TEXT COLLATE \"default\"; "
                          "DELETE FROM schema_version WHERE version >= 3")
                .exit_code,
            0);
  EXPECT_EQ(pg().super_sql(db, collation).out,
            "accounts.id=-,frame_commits.provider=-,transfers.credit_account=-,transfers.debit_account=-,"
            "transfers.id=-,transfers.pending_id=-,verdicts.provider=-\n");
  const std::string events = pg().super_sql(db, "SELECT COUNT(*) FROM events").out;
  EXPECT_EQ(open_error(options(PgRole::writer, db)).kind(), Error::Kind::Refused);
  const MigrationReport m = migrate_postgres(options(PgRole::owner, db));
  EXPECT_EQ(m.from, 2);
  EXPECT_EQ(m.to, postgres_schema_version());
  EXPECT_EQ(pg().super_sql(db, collation).out, migrated);
  EXPECT_EQ(pg().super_sql(db, "SELECT COUNT(*) FROM events").out, events);
  auto storage = open_postgres_storage(options(PgRole::writer, db));
  ASSERT_TRUE(storage->find_account(user));
  EXPECT_EQ(storage->find_account(user)->credits_posted, balance);
  ManualClock clock;
  Ledger ledger(std::move(storage), testing::test_key(), clock.clock());
  auto report = audit(ledger.storage(), ledger.public_key(), ledger.cluster());
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
}

// A write looks its batch's ids and accounts up by key, never by reading all of `transfers`: with
// the planner left to its costs, `id = ANY($1)` over a batch's ids was a sequential scan (a full
// read of the table per batch, whatever its size). Counted by the server's own statistics.
TEST_F(PostgresStorageTest, ABatchLooksUpItsIdsByKeyNeverByScanningTransfers) {
  std::string db = fresh_database();
  ManualClock clock;
  constexpr int kScanBatches = 8, kPerBatch = 300;
  // A backend reports its counts when it exits: wait until they show what it wrote.
  auto wait_for = [&](const std::string& sql, const std::string& want) {
    std::string seen;
    for (int i = 0; i < 100 && seen != want; ++i) {
      if (i > 0) usleep(100'000);
      seen = pg().super_sql(db, sql).out;
    }
    return seen;
  };
  {
    Ledger l = testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true)));
    ASSERT_EQ(l.create_accounts(std::vector<NewAccount>{{id(1), "a", AccountKind::user, "", 0},
                                                         {id(2), "b", AccountKind::user, "", 0}}),
              std::vector<AccountResult>(2, AccountResult::ok));
  }
  const std::string accounts = pg().super_sql(db, "SELECT COUNT(*) FROM accounts").out;
  ASSERT_EQ(wait_for("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'accounts'", accounts), accounts);
  // Creating the indexes (the migrations) read the table: those scans are not a batch's.
  const std::string scans_before =
      pg().super_sql(db, "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'transfers'").out;
  {
    Ledger l(open_postgres_storage(options(PgRole::writer, db)), testing::test_key(), clock.clock());
    std::uint64_t next = 1000;
    for (int b = 0; b < kScanBatches; ++b) {
      std::vector<TransferRequest> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        TransferRequest t;
        t.id = id(next++);
        t.debit_account = id(1 + (i % 2));
        t.credit_account = id(2 - (i % 2));
        t.amount = Amount{1};
        batch.push_back(t);
      }
      ASSERT_EQ(l.submit(batch), std::vector<TransferResult>(kPerBatch, TransferResult::ok));
    }
  }
  const std::string inserted = std::to_string(kScanBatches * kPerBatch) + "\n";
  ASSERT_EQ(wait_for("SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'transfers'", inserted), inserted);
  EXPECT_EQ(pg().super_sql(db, "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'transfers'").out,
            scans_before);
  EXPECT_NE(pg().super_sql(db, "SELECT idx_scan FROM pg_stat_user_tables WHERE relname = 'transfers'").out, "0\n");
}

TEST_F(PostgresStorageTest, SchemaFromTheFutureIsRefused) {
  std::string db = fresh_database();
  ManualClock clock;
  { testing::make_ledger(clock, open_postgres_storage(options(PgRole::owner, db, true))); }
  const int future = postgres_schema_version() + 1;
  ASSERT_EQ(pg().role_sql(PgRole::owner, db, "INSERT INTO schema_version(version, description) VALUES(" +
                                                 std::to_string(future) + ", 'from a newer rfarm')")
                .exit_code,
            0);
  for (bool create : {false, true}) {
    Error e = open_error(options(PgRole::writer, db, create));
    EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
    EXPECT_NE(std::string(e.what()).find("version " + std::to_string(future)), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("upgrade rfarm"), std::string::npos) << e.what();
  }
  try {
    migrate_postgres(options(PgRole::owner, db));
    ADD_FAILURE() << "migrate accepted a newer schema";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::Refused) << e.what();
  }
  EXPECT_EQ(pg().super_sql(db, "SELECT COUNT(*) FROM events").out, "1\n");
}

TEST_F(PostgresStorageTest, OpenStorageChoosesTheConfiguredBackend) {
  std::string db = fresh_database();
  StorageLocation pgloc{StorageBackend::postgres, {}, pg().url(PgRole::owner, db), pg().password_file(PgRole::owner)};
  EXPECT_EQ(describe(pgloc), pg().url(PgRole::owner, db));
  ManualClock clock;
  { testing::make_ledger(clock, open_storage(pgloc, true)); }
  EXPECT_EQ(Ledger(open_storage(pgloc), std::nullopt).event_count(), 1u);

  rfarm::testing::TempDir dir;
  StorageLocation sqlite{StorageBackend::sqlite, dir / "l.sqlite3", {}, {}};
  { testing::make_ledger(clock, open_storage(sqlite, true)); }
  EXPECT_EQ(Ledger(open_storage(sqlite), std::nullopt).event_count(), 1u);
  pgloc.postgres_url.clear();
  EXPECT_THROW(open_storage(pgloc), Error);
}

TEST_F(PostgresStorageTest, CopyFromSqliteCarriesEveryEventAndProvesTheSameHead) {
  rfarm::testing::TempDir dir;
  std::string db = fresh_database();
  ManualClock clock;
  Twin t(open_sqlite_storage(dir / "src.sqlite3", {.durable = false, .create = true}),
         open_sqlite_storage(":memory:", {.durable = false, .create = true}), 5);
  ASSERT_NO_FATAL_FAILURE(t.accounts());
  for (int i = 0; i < 150; ++i) ASSERT_NO_FATAL_FAILURE(t.step());

  auto dest = open_postgres_storage(options(PgRole::owner, db, true));
  CopyReport r = copy_ledger(t.a.storage(), *dest);
  EXPECT_EQ(r.events, t.a.event_count());
  EXPECT_EQ(r.head, *t.a.head());
  Ledger copied(std::move(dest), testing::test_key(), t.clock_a.clock());
  EXPECT_EQ(copied.head(), t.a.head());
  EXPECT_EQ(copied.list_accounts(), t.a.list_accounts());
  EXPECT_EQ(copied.storage().list_transfers(), t.a.storage().list_transfers());
  EXPECT_EQ(copied.storage().list_verdicts().size(), t.a.storage().list_verdicts().size());
  auto report = audit(copied.storage(), t.a.public_key(), t.a.cluster());
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
  // The copy goes on as the ledger: the next write extends the same log.
  t.clock_a.advance_seconds(1);
  EXPECT_EQ(copied.submit_one(single(id(999'999), copied.issuer(), t.users[0], Amount(5), TransferCode::deposit)),
            TransferResult::ok);
  EXPECT_GT(copied.event_count(), r.events);  // the deposit, and any holds the sweep expired
  EXPECT_TRUE(audit(copied.storage(), t.a.public_key(), t.a.cluster()).ok());
  // A second copy into the same database is refused.
  EXPECT_THROW(copy_ledger(t.a.storage(), copied.storage()), Error);
}

}  // namespace
}  // namespace rfarm::ledger
