#include "support/pg_testbed.h"

#include <unistd.h>

#include <cctype>
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
  if (!pg_bin_dir()) return "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: run scripts/install-deps.sh";
  if (run({"sh", "-c", "command -v python3 >/dev/null"}).exit_code != 0) return "python3 not found";
  if (geteuid() == 0 && run({"id", "postgres"}).exit_code != 0) return "no 'postgres' user (install 'postgresql')";
  return std::nullopt;
}

PgTestbed::PgTestbed() : dir_("rfpg") {
  RunResult r = run({"bash", script(), "start", dir_.path().string()});
  start_log_ = r.out + r.err;
  started_ = r.exit_code == 0;
  if (!started_) return;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"') value = value.substr(1, value.size() - 2);
    env_[line.substr(7, eq - 7)] = value;
  }
}

PgTestbed::~PgTestbed() { run({"bash", script(), "stop", dir_.path().string()}); }

void PgTestbed::create_database(const std::string& name) const {
  RunResult r = run({"bash", script(), "createdb", dir_.path().string(), name});
  ASSERT_EQ(r.exit_code, 0) << "createdb " << name << ": " << r.out << r.err;
}

std::string PgTestbed::url(PgRole role, const std::string& db) const {
  return "postgresql://rfarm_" + std::string(role_name(role)) + "@127.0.0.1:" + env_.at("RFARM_PG_PORT") + "/" + db;
}

fs::path PgTestbed::password_file(PgRole role) const { return dir_.path() / (std::string(role_name(role)) + ".password"); }

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
  RunResult a = run({"bash", script(), "crash", dir_.path().string()});
  RunResult b = run({"bash", script(), "start", dir_.path().string()});
  return a.exit_code == 0 && b.exit_code == 0;
}

std::string PgTestbed::log_tail() const {
  std::ifstream f(dir_.path() / "log" / "postgres.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(f, line);) lines.push_back(line);
  std::ostringstream out;
  for (std::size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) out << lines[i] << "\n";
  return out.str();
}

std::unique_ptr<PgTestbed> PostgresTest::testbed_;
std::optional<std::string> PostgresTest::skip_reason_;

void PostgresTest::SetUpTestSuite() {
  skip_reason_ = PgTestbed::unavailable_reason();
  if (skip_reason_) return;
  testbed_ = std::make_unique<PgTestbed>();
  if (!testbed_->started()) skip_reason_ = "FAILED to start: " + testbed_->start_log();
}

void PostgresTest::TearDownTestSuite() { testbed_.reset(); }

void PostgresTest::SetUp() {
  if (skip_reason_ && skip_reason_->rfind("FAILED", 0) == 0) FAIL() << "PostgreSQL testbed " << *skip_reason_;
  if (skip_reason_) GTEST_SKIP() << *skip_reason_;
}

std::string PostgresTest::fresh_database() {
  static int counter = 0;
  std::string name = "t";
  for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    if (std::isalnum(static_cast<unsigned char>(c)) && name.size() < 28) name.push_back(static_cast<char>(std::tolower(c)));
  }
  name += "_" + std::to_string(++counter);
  pg().create_database(name);
  return name;
}

}  // namespace rfarm::testing
