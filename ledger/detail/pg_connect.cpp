#include "ledger/detail/pg_connect.h"

#include <sys/stat.h>

#include <fstream>

#include "core/error.h"

namespace rfarm::ledger::detail {

namespace {

std::string first_line(std::string_view s) {
  // libpq messages read "connection to server at ... failed: FATAL:  password ..." plus hints on
  // further lines; one line is what the user needs, with runs of spaces collapsed.
  std::string out;
  for (char c : s) {
    if (c == '\n') break;
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string read_password(const std::string& url, const std::filesystem::path& file) {
  const std::string where = url + ": ledger.password_file " + file.string();
  struct stat st{};
  if (::stat(file.c_str(), &st) != 0) {
    throw Error(Error::Kind::BadInput, where + ": no such file (write the role's password there, mode 0600)");
  }
  if ((st.st_mode & 077) != 0) {
    throw Error(Error::Kind::BadInput, where + ": readable by group or others (chmod 600 it)");
  }
  std::ifstream in(file);
  std::string pw;
  if (!in || !std::getline(in, pw)) {
    throw Error(Error::Kind::BadInput, where + ": cannot read a password from it (one line: the role's password)");
  }
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  if (pw.empty()) throw Error(Error::Kind::BadInput, where + ": the first line is empty (put the role's password there)");
  return pw;
}

}  // namespace

std::string pg_connection_string(const PostgresOptions& o) {
  const std::string& url = o.url;
  auto bad = [&](std::string_view problem, std::string_view fix) {
    throw Error(Error::Kind::BadInput, "ledger.url '" + url + "': " + std::string(problem) + " (" + std::string(fix) + ")");
  };
  std::string_view rest;
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.rfind(scheme, 0) == 0) rest = std::string_view(url).substr(scheme.size());
  }
  if (rest.empty()) bad("not a PostgreSQL URL", "write postgresql://USER@HOST:PORT/DATABASE");
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos && authority.substr(0, at).find(':') !=
                                                                           std::string_view::npos) {
    // Refused even before connecting: a URL ends up in configs, logs and `ps` output.
    throw Error(Error::Kind::BadInput, "ledger.url: holds a password (remove it from the URL; put it in "
                                       "ledger.password_file, mode 0600, or PGPASSWORD / PGPASSFILE)");
  }
  if (contains(url, "password=")) {
    throw Error(Error::Kind::BadInput, "ledger.url: holds a password parameter (remove it; use "
                                       "ledger.password_file, mode 0600, or PGPASSWORD / PGPASSFILE)");
  }
  std::string conn = url;
  char sep = contains(url, "?") ? '&' : '?';
  if (!o.password_file.empty()) {
    conn += sep + std::string("password=") + percent_encode(read_password(url, o.password_file));
    sep = '&';
  }
  if (!contains(url, "connect_timeout=")) conn += sep + std::string("connect_timeout=10");
  return conn;
}

void pg_rethrow(const std::string& url, std::string_view what_we_did) {
  const std::string where = url + ": " + std::string(what_we_did);
  try {
    throw;
  } catch (const Error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    std::string msg = first_line(e.what());
    if (contains(msg, "password authentication failed") || contains(msg, "no password supplied") ||
        contains(msg, "password is required")) {
      throw Error(Error::Kind::Refused, url + ": the server refused the login (" + msg +
                                            "): give the role's password in ledger.password_file (mode 0600) "
                                            "or PGPASSWORD / PGPASSFILE");
    }
    if (contains(msg, "database \"") && contains(msg, "does not exist")) {
      throw Error(Error::Kind::BadInput, url + ": " + msg +
                                             " (fix the database name in ledger.url, or create the database: "
                                             "docs/LEDGER.md \"PostgreSQL\")");
    }
    if (contains(msg, "permission denied for database")) {
      throw Error(Error::Kind::Refused, url + ": " + msg + " (GRANT CONNECT on the database to this role)");
    }
    // libpq's own words for a malformed URL; matched precisely so that a host name such as
    // "db.invalid" (unresolvable: an Io error below) is not taken for one.
    if (contains(msg, "invalid connection option") || contains(msg, "invalid URI") ||
        contains(msg, "invalid integer value") || contains(msg, "invalid port") ||
        contains(msg, "invalid sslmode") || contains(msg, "missing \"=\"")) {
      throw Error(Error::Kind::BadInput, "ledger.url '" + url + "': " + msg + " (write postgresql://USER@HOST:PORT/DATABASE)");
    }
    throw Error(Error::Kind::Io, where + ": " + msg +
                                     " (check the host and port in ledger.url and that the server is running; "
                                     "nothing was written unless the ledger reported it)");
  } catch (const pqxx::in_doubt_error& e) {
    throw Error(Error::Kind::Io, where + ": the connection broke during COMMIT, the outcome is unknown (" +
                                     first_line(e.what()) + "): resubmit the same ids, which is safe");
  } catch (const pqxx::insufficient_privilege& e) {
    throw Error(Error::Kind::Refused, where + ": " + first_line(e.what()) +
                                          " (writers need the writer role's grants; init and migrate need "
                                          "the role that owns the schema: docs/LEDGER.md \"PostgreSQL\")");
  } catch (const pqxx::sql_error& e) {
    throw Error(Error::Kind::Io, where + ": " + first_line(e.what()) + " (SQLSTATE " + e.sqlstate() + ")");
  } catch (const pqxx::failure& e) {
    throw Error(Error::Kind::Io, where + ": " + first_line(e.what()));
  }
}

std::unique_ptr<pqxx::connection> pg_connect(const PostgresOptions& options) {
  const std::string conn = pg_connection_string(options);
  try {
    auto c = std::make_unique<pqxx::connection>(conn);
    // Durability does not depend on the server's or the role's defaults (docs/LEDGER.md).
    pqxx::nontransaction n(*c);
    n.exec("SET synchronous_commit TO on");
    // Every ledger statement reads by key or key range, and every such statement has its index
    // (detail/pg_schema.cpp): never a sequential scan where an index serves. Left to its costs the
    // planner chose one for small tables and for a batch's `id = ANY($1)` (a full read of
    // `transfers` per batch: 214 ms at 737,000 transfers against 9.9 ms by the primary key), and a
    // plan cached while a table was small kept scanning it as it grew. Whole-table reads (audit,
    // copy, listings) have no index path and still scan.
    n.exec("SET enable_seqscan TO off");
    if (options.read_only) n.exec("SET default_transaction_read_only TO on");
    return c;
  } catch (...) {
    pg_rethrow(options.url, "connecting");
  }
}

}  // namespace rfarm::ledger::detail
