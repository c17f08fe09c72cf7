#include "support/pg_testbed.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rfarm::testing {
namespace fs = std::filesystem;

namespace {

std::string script() { return (source_dir() / "scripts" / "pg-testbed.sh").string(); }

std::optional<fs::path> pg_bin_dir() {
  std::vector<fs::path> candidates = {"/usr/lib/postgresql/15/bin"};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) candidates.push_back(e.path() / "bin");
  for (const auto& d : candidates) {
    if (fs::exists(d / "pg_ctl") && fs::exists(d / "initdb") && fs::exists(d / "psql")) return d;
  }
  return std::nullopt;
}

const char* role_name(PgRole r) {
  switch (r) {
    case PgRole::owner: return "owner";
    case PgRole::writer: return "writer";
    case PgRole::reader: return "reader";
  }
  return "reader";
}

}  // namespace

std::optional<std::string> PgTestbed::unavailable_reason() {
  if (!pg_bin_dir()) {
    return "PostgreSQL is not installed (no initdb, pg_ctl and psql under /usr/lib/postgresql/*/bin): "
           "install it with scripts/install-deps.sh to run the PostgreSQL tests";
  }
  return std::nullopt;
}

bool PgTestbed::parse_env(const std::string& script_output) {
  std::istringstream in(script_output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    env_[line.substr(7, eq - 7)] = value;
  }
  return env_.count("RFARM_PG_PORT") && env_.count("RFARM_PG_BIN") && env_.count("RFARM_PG_SOCKET");
}

PgTestbed::PgTestbed() : temp_(std::make_unique<TempDir>("rfpg")), dir_(temp_->path()), owner_pid_(getpid()) {
  RunResult r = run({"bash", script(), "start", dir_.string()});
  start_log_ = r.out + r.err;
  started_ = r.exit_code == 0 && parse_env(r.out);
  if (!started_) {
    start_log_ += "\n" + log_tail();
    return;
  }
  // A private server is the one tests crash. Crash recovery first fsyncs every file of the data
  // directory one by one (~5 s on this loaded VM); syncfs flushes the file system in one call
  // (PostgreSQL 14+; takes effect at the next start, i.e. the restart after a crash).
  RunResult c = super_sql("postgres", "ALTER SYSTEM SET recovery_init_sync_method = 'syncfs'");
  if (c.exit_code != 0) ADD_FAILURE() << "ALTER SYSTEM SET recovery_init_sync_method: " << c.err;
}

PgTestbed::PgTestbed(const fs::path& running_dir) : dir_(running_dir) {
  RunResult r = run({"bash", script(), "env", dir_.string()});
  start_log_ = r.out + r.err;
  started_ = r.exit_code == 0 && parse_env(r.out);
}

PgTestbed::~PgTestbed() {
  if (!temp_ || getpid() != owner_pid_) return;  // attached, or a forked child: not ours to stop
  // An immediate stop skips the shutdown checkpoint (seconds on a loaded machine): the data
  // directory is deleted next anyway.
  run({"bash", script(), "crash", dir_.string()});
  // pg-testbed.sh puts the socket under /tmp when DIR's path is too long for a socket address.
  auto sock = env_.find("RFARM_PG_SOCKET");
  if (sock != env_.end() && fs::path(sock->second).parent_path() != dir_) {
    std::error_code ec;
    fs::remove_all(sock->second, ec);
  }
}

void PgTestbed::create_database(const std::string& name) const {
  RunResult r = run({"bash", script(), "createdb", dir_.string(), name});
  ASSERT_EQ(r.exit_code, 0) << "createdb " << name << ": " << r.out << r.err;
}

std::string PgTestbed::url(PgRole role, const std::string& db) const {
  return "postgresql://rfarm_" + std::string(role_name(role)) + "@127.0.0.1:" + env_.at("RFARM_PG_PORT") + "/" + db;
}

fs::path PgTestbed::password_file(PgRole role) const { return dir_ / (std::string(role_name(role)) + ".password"); }

RunResult PgTestbed::super_sql(const std::string& db, const std::string& sql) const {
  std::vector<std::string> argv;
  if (geteuid() == 0) argv = {"runuser", "-u", "postgres", "--"};
  for (const std::string& a : {env_.at("RFARM_PG_BIN") + "/psql", std::string("-X"), std::string("-qAt"),
                               std::string("-v"), std::string("ON_ERROR_STOP=1"), std::string("-h"),
                               env_.at("RFARM_PG_SOCKET"), std::string("-p"), env_.at("RFARM_PG_PORT"),
                               std::string("-U"), std::string("postgres"), std::string("-d"), db, std::string("-c"), sql}) {
    argv.push_back(a);
  }
  return run(argv);
}

RunResult PgTestbed::role_sql(PgRole role, const std::string& db, const std::string& sql) const {
  std::string pw = read_file(password_file(role));
  while (!pw.empty() && (pw.back() == '\n' || pw.back() == '\r')) pw.pop_back();
  return run({env_.at("RFARM_PG_BIN") + "/psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", url(role, db), "-c", sql},
             {{"PGPASSWORD", pw}});
}

bool PgTestbed::crash_and_restart() {
  RunResult a = run({"bash", script(), "crash", dir_.string()});
  RunResult b = run({"bash", script(), "start", dir_.string()});
  return a.exit_code == 0 && b.exit_code == 0;
}

std::string PgTestbed::log_tail() const {
  std::ifstream f(dir_ / "log" / "postgres.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  std::ostringstream out;
  for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

namespace {

// Stops the process's shared server after the last test (gtest calls TearDown once, at the end).
// The server itself starts on first use, so a run of SQLite-only tests never pays for it.
class SharedTestbedEnvironment : public ::testing::Environment {
 public:
  static std::unique_ptr<PgTestbed>& testbed() {
    static std::unique_ptr<PgTestbed> t;
    return t;
  }
  void TearDown() override { testbed().reset(); }
};

[[maybe_unused]] ::testing::Environment* const kSharedTestbedEnvironment =
    ::testing::AddGlobalTestEnvironment(new SharedTestbedEnvironment);

}  // namespace

PgTestbed& shared_testbed() {
  auto& t = SharedTestbedEnvironment::testbed();
  if (!t) {
    const char* dir = std::getenv("RFARM_PG_TESTBED");
    t = dir && *dir ? std::make_unique<PgTestbed>(fs::path(dir)) : std::make_unique<PgTestbed>();
  }
  return *t;
}

bool require_postgres() {
  // GTEST_SKIP and FAIL return from the function they are in: the lambdas mark the running test
  // (skipped, or failed fatally so its body does not run) and the caller returns on false.
  if (auto reason = PgTestbed::unavailable_reason()) {
    [&] { GTEST_SKIP() << *reason; }();
    return false;
  }
  PgTestbed& pg = shared_testbed();
  if (!pg.started()) {
    [&] { FAIL() << "PostgreSQL is installed but the test server did not start: " << pg.start_log(); }();
    return false;
  }
  return true;
}

std::string unique_database_name() {
  static int counter = 0;
  std::string name = "t";
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  for (char c : std::string(info ? info->name() : "db")) {
    if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 22) {
      name.push_back(static_cast<char>(std::tolower(c)));
    }
  }
  return name + "_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
}

void PostgresTest::SetUp() { require_postgres(); }

std::string PostgresTest::fresh_database() {
  std::string name = unique_database_name();
  pg().create_database(name);
  return name;
}

}  // namespace rfarm::testing
