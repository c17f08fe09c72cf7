#!/usr/bin/env bash
# The one PostgreSQL server a ctest run shares between the ledger's PostgreSQL test cases (the ctest
# fixture in tests/ledger/pg_ctest_fixture.cmake). ctest runs every test case as its own process;
# a server per process would cost ~3-8 s of start and stop each. Each case still takes a fresh
# database of its own; tests that crash a server start a private one.
#
#   tests/ledger/pg_server.sh start DIR   # (re)initialise and start in DIR
#   tests/ledger/pg_server.sh stop DIR    # immediate stop (nothing to keep) and remove DIR
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1; dir=$2
testbed="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/pg-testbed.sh"

installed() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ] && [ -x "$d/psql" ] && return 0
  done
  return 1
}

remove() {
  [ -d "$dir" ] || return 0
  local sock=""
  [ -f "$dir/testbed.conf" ] && sock=$(sed -n 's/^SOCK=//p' "$dir/testbed.conf")
  bash "$testbed" crash "$dir" >/dev/null 2>&1 || true
  # Deleting the per-test databases takes seconds on a slow disk: move them aside and delete them
  # in the background, off the critical path of the ctest run.
  local trash="$dir.trash.$$"
  mv "$dir" "$trash"
  nohup rm -rf "$trash" >/dev/null 2>&1 &
  case "$sock" in /tmp/rfpg.*) rm -rf "$sock" ;; esac
}

case "$cmd" in
  start)
    if ! installed; then
      echo "PostgreSQL is not installed: the ledger's PostgreSQL tests will skip (scripts/install-deps.sh installs it)"
      exit 0
    fi
    remove  # a server left by an interrupted run
    bash "$testbed" start "$dir" >/dev/null
    echo "PostgreSQL test server running in $dir"
    ;;
  stop) remove ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
