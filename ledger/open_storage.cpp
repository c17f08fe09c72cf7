#include "ledger/open_storage.h"

#include "core/error.h"

namespace rfarm::ledger {

std::unique_ptr<Storage> open_storage(const StorageLocation& where, bool create) {
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
      return open_postgres_storage({where.postgres_url, where.password_file, create});
  }
  throw Error(Error::Kind::Internal, "open_storage: unknown backend");
}

std::string describe(const StorageLocation& where) {
  return where.backend == StorageBackend::postgres ? where.postgres_url : where.sqlite_path.string();
}

}  // namespace rfarm::ledger
