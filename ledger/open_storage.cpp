#include "ledger/open_storage.h"

#include "core/error.h"

namespace rfarm::ledger {

namespace {
bool is_postgres_url(std::string_view s) { return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0; }
}  // namespace

std::unique_ptr<Storage> open_storage(const StorageLocation& where, bool create) {
  return open_storage(where, create ? Access::schema : Access::write);
}

std::unique_ptr<Storage> open_storage(const StorageLocation& where, Access access) {
  const bool create = access == Access::schema;
  switch (where.backend) {
    case StorageBackend::sqlite:
      if (where.sqlite_path.empty()) {
        throw Error(Error::Kind::BadInput, "ledger.path: empty (set the SQLite ledger file, or ledger.backend: postgres)");
      }
      return open_sqlite_storage(where.sqlite_path, {.durable = true, .create = create});
    case StorageBackend::postgres:
      if (where.postgres_url.empty()) {
        throw Error(Error::Kind::BadInput, "ledger.url: empty (backend postgres needs postgresql://USER@HOST:PORT/DATABASE)");
      }
      return open_postgres_storage({.url = where.postgres_url,
                                    .password_file = where.password_file,
                                    .create = create,
                                    .read_only = access == Access::read});
  }
  throw Error(Error::Kind::Internal, "open_storage: unknown backend");
}

std::string describe(const StorageLocation& where) {
  return where.backend == StorageBackend::postgres ? where.postgres_url : where.sqlite_path.string();
}

StorageLocation parse_location(std::string_view path_or_url, const std::filesystem::path& password_file) {
  StorageLocation where;
  if (is_postgres_url(path_or_url)) {
    where.backend = StorageBackend::postgres;
    where.postgres_url = std::string(path_or_url);
    where.password_file = password_file;
  } else {
    where.sqlite_path = std::filesystem::path(std::string(path_or_url));
  }
  return where;
}

StorageLocation resolve_location(std::string_view given, const std::filesystem::path& given_password_file,
                                 const StorageLocation& configured) {
  if (!given.empty()) return parse_location(given, given_password_file);
  StorageLocation where = configured;
  if (!given_password_file.empty()) where.password_file = given_password_file;
  return where;
}

std::filesystem::path resolve_key_path(std::string_view given, const StorageLocation& where,
                                       const std::filesystem::path& configured) {
  if (!given.empty()) return std::filesystem::path(std::string(given));
  if (where.backend == StorageBackend::sqlite) return std::filesystem::path(where.sqlite_path.string() + ".key");
  if (configured.empty()) {
    throw Error(Error::Kind::BadInput, "keys.cluster_signing_key: not set (a PostgreSQL ledger has no key file beside "
                                       "it: set keys.cluster_signing_key in rfarm.yaml, pass --key, or set "
                                       "$RFARM_LEDGER_KEY)");
  }
  return configured;
}

}  // namespace rfarm::ledger
