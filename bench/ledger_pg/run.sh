#!/usr/bin/env bash
# Durable PostgreSQL ledger throughput on a throwaway local server.
#   bench/ledger_pg/run.sh BUILD_DIR [OUT_JSON]     (default OUT_JSON: bench/results/ledger_pg.json)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: run.sh BUILD_DIR [OUT_JSON]}
out=${2:-$root/bench/results/ledger_pg.json}
dir=$(mktemp -d /tmp/rfpgb.XXXXXX)
trap 'bash "$root/scripts/pg-testbed.sh" stop "$dir"; rm -rf "$dir"' EXIT
eval "$(bash "$root/scripts/pg-testbed.sh" start "$dir")"
"$build/bin/rfarm_bench_ledger_pg" "$out"
