#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server on loopback for tests, demos and benchmarks.
#
#   scripts/pg-testbed.sh start DIR [--port N]   # initialise (first time) and start; ready in ~2 s
#   scripts/pg-testbed.sh stop  DIR              # pg_ctl stop -m fast
#   scripts/pg-testbed.sh crash DIR              # pg_ctl stop -m immediate (no shutdown checkpoint)
#   scripts/pg-testbed.sh env   DIR              # prints `export RFARM_PG_*=...` lines to eval
#   scripts/pg-testbed.sh createdb DIR NAME      # one more ledger database with the same roles
#   scripts/pg-testbed.sh status DIR
#
# Roles (the least-privilege layout docs/LEDGER.md describes; nothing but bootstrap runs as superuser):
#   rfarm_owner   owns database `rfarm` (and any from createdb): runs `rfarm ledger init` / `migrate`
#   rfarm_writer  SELECT, INSERT, UPDATE on the ledger's tables (default privileges): no DDL, no DELETE
#   rfarm_reader  SELECT only (admission checks, balances, proofs, audit)
# Their passwords are random, in DIR/<role>.password (mode 0600); the URLs `env` prints carry no
# password. Only the bootstrap superuser `postgres` is trusted, and only over the unix socket in
# DIR/s; every TCP login needs a password (scram-sha-256). Started as root the server runs as the
# `postgres` user through runuser (initdb and pg_ctl refuse root); otherwise as the caller.
set -euo pipefail

die() { echo "pg-testbed: $*" >&2; exit 1; }
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 2 ] || usage
cmd=$1; dir=$2; shift 2
port=""
dbname=""
if [ "$cmd" = createdb ]; then
  [ $# -ge 1 ] || die "createdb needs a database NAME"
  dbname=$1; shift
fi
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port=$2; shift 2 ;;
    *) die "unknown option '$1' (see the usage at the top of $0)" ;;
  esac
done

find_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A free TCP port on 127.0.0.1 below the ephemeral range (scripts/free-port.py says why).
free_port() { python3 "$(dirname "${BASH_SOURCE[0]}")/free-port.py" "$@"; }

load_env() {
  [ -f "$dir/testbed.conf" ] || die "$dir is not a pg testbed (no $dir/testbed.conf; run start first)"
  # shellcheck disable=SC1091
  . "$dir/testbed.conf"
}

psql_super() {  # psql_super DB SQL...
  local db=$1; shift
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PORT" -U postgres -d "$db" "$@"
}

# A database owned by rfarm_owner whose future tables (created by the owner's migrations) the
# writer may read and change and the reader may read. Nobody else may connect.
setup_db() {
  local db=$1
  [[ "$db" =~ ^[a-z][a-z0-9_]{0,40}$ ]] || die "database name '$db': use lowercase letters, digits and '_'"
  psql_super postgres -c "CREATE DATABASE $db OWNER rfarm_owner"
  psql_super "$db" <<EOF
REVOKE ALL ON DATABASE $db FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE $db TO rfarm_owner;
GRANT CONNECT ON DATABASE $db TO rfarm_writer, rfarm_reader;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO rfarm_writer, rfarm_reader;
ALTER DEFAULT PRIVILEGES FOR ROLE rfarm_owner IN SCHEMA public GRANT SELECT, INSERT, UPDATE ON TABLES TO rfarm_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE rfarm_owner IN SCHEMA public GRANT SELECT ON TABLES TO rfarm_reader;
EOF
}

do_start() {
  BIN=$(find_bin) || die "PostgreSQL server binaries not found (install 'postgresql': scripts/install-deps.sh)"
  command -v python3 >/dev/null || die "python3 not found"
  if [ "$(id -u)" -eq 0 ]; then id postgres >/dev/null 2>&1 || die "no 'postgres' user (install 'postgresql')"; fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local fresh=0
  if [ ! -f "$dir/testbed.conf" ]; then
    fresh=1
    [ -n "$port" ] || port=$(free_port)
    # Unix socket paths are limited to ~107 bytes: use DIR/s when short enough, else a short /tmp dir.
    local sock="$dir/s"
    [ ${#sock} -lt 80 ] || sock=$(mktemp -d /tmp/rfpg.XXXXXX)
    mkdir -p "$sock" "$dir/log"
    cat > "$dir/testbed.conf" <<EOF
BIN=$BIN
PORT=$port
SOCK=$sock
EOF
  fi
  load_env
  [ -z "$port" ] || [ "$port" = "$PORT" ] || die "--port $port: this testbed was created with port $PORT"
  if [ -f "$dir/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    die "a server is already running in $dir (stop it first)"
  fi

  if [ "$(id -u)" -eq 0 ]; then
    # The server runs as postgres: it must reach DIR and own its data, socket and log directories.
    chmod o+x "$dir"
    mkdir -p "$dir/data"
    chown postgres: "$dir/data" "$SOCK" "$dir/log"
  fi
  chmod 700 "$dir/data" 2>/dev/null || true
  if [ $fresh = 1 ]; then
    as_pg "$BIN/initdb" --no-sync -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
      >"$dir/log/initdb.log" 2>&1 || die "initdb failed (see $dir/log/initdb.log)"
    # Trust only the bootstrap superuser on the private socket; every other login needs a password.
    as_pg sh -c "cat > '$dir/data/pg_hba.conf'" <<EOF
local all postgres trust
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
EOF
  fi
  # A fresh testbed whose free port was taken meanwhile (tests start servers in parallel) picks another.
  local attempt
  for attempt in 1 2 3 4 5; do
    if as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/log/postgres.log" -w -t 60 \
      -o "-k $SOCK -p $PORT -c listen_addresses=127.0.0.1 -c max_connections=64 -c shared_buffers=64MB \
-c fsync=on -c synchronous_commit=on -c password_encryption=scram-sha-256" start >/dev/null; then
      break
    fi
    if [ $fresh = 1 ] && [ $attempt -lt 5 ] && grep -q "could not bind\|could not create lock file" "$dir/log/postgres.log"; then
      PORT=$(free_port)
      sed -i "s/^PORT=.*/PORT=$PORT/" "$dir/testbed.conf"
      continue
    fi
    die "the server did not start (see $dir/log/postgres.log)"
  done

  if [ $fresh = 1 ]; then
    local role pw
    for role in owner writer reader; do
      pw=$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
      (umask 077; printf '%s\n' "$pw" > "$dir/$role.password")
      psql_super postgres -c "CREATE ROLE rfarm_$role LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION \
PASSWORD '$pw'"
    done
    setup_db rfarm
  fi
  do_env
}

do_stop() {
  [ -f "$dir/testbed.conf" ] || return 0
  load_env
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$BIN/pg_ctl" -D "$dir/data" -m "${1:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
  fi
  if [ "${1:-fast}" = fast ] && [ "$SOCK" != "$dir/s" ] && [ -d "$SOCK" ]; then
    rmdir "$SOCK" 2>/dev/null || true
  fi
}

do_env() {
  load_env
  local base="127.0.0.1:$PORT"
  cat <<EOF
export RFARM_PG_DIR=$dir
export RFARM_PG_PORT=$PORT
export RFARM_PG_SOCKET=$SOCK
export RFARM_PG_BIN=$BIN
export RFARM_PG_OWNER_URL=postgresql://rfarm_owner@$base/rfarm
export RFARM_PG_WRITER_URL=postgresql://rfarm_writer@$base/rfarm
export RFARM_PG_READER_URL=postgresql://rfarm_reader@$base/rfarm
export RFARM_PG_OWNER_PASSWORD_FILE=$dir/owner.password
export RFARM_PG_WRITER_PASSWORD_FILE=$dir/writer.password
export RFARM_PG_READER_PASSWORD_FILE=$dir/reader.password
export RFARM_PG_SUPER_URL="postgresql://postgres@/postgres?host=$SOCK&port=$PORT"
EOF
}

do_status() {
  load_env
  as_pg "$BIN/pg_ctl" -D "$dir/data" status
}

case "$cmd" in
  start) do_start ;;
  stop) do_stop fast ;;
  crash) do_stop immediate ;;
  env) do_env ;;
  createdb) load_env; setup_db "$dbname" ;;
  status) do_status ;;
  *) usage ;;
esac
