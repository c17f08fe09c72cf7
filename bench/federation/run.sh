#!/usr/bin/env bash
# bench/federation (issue 10): netting of 100 clusters x 10,000 entries (rfarm_bench_federation),
# then routing through real `rfarm serve` gateways on loopback (bench_gateways.py): quote-and-place
# latency of a 240-frame job over three peers, and the federation overhead on the demo job.
# Both results go into one file, bench/results/federation.json by default:
#   {"benchmark": "federation", "netting": {...}, "routing": {...}}
#   bench/federation/run.sh BUILD_DIR [OUT_JSON]
#   RUNS=7 OVERHEAD_RUNS=5 POLL=0.5 FOLLOW=wait bench/federation/run.sh build     (the defaults)
# Needs `rfarm` and `rfarm_bench_federation` built in BUILD_DIR, python3 and openssl. Not run by
# ctest: it takes ~5-15 minutes on the 2-core development VM, depending on its load.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD_DIR [OUT_JSON]}" && pwd)
out=${2:-$root/bench/results/federation.json}
for bin in rfarm rfarm_bench_federation; do
  [[ -x $build/bin/$bin ]] || { echo "run.sh: $build/bin/$bin is not built (ninja -C $build $bin)" >&2; exit 2; }
done
tmp=$(mktemp -d /tmp/rfarm-bench-fed.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "== netting (rfarm_bench_federation), load: $(cat /proc/loadavg)" >&2
"$build/bin/rfarm_bench_federation" "$tmp/netting.json" > /dev/null
echo "== routing through gateways (bench_gateways.py), load: $(cat /proc/loadavg)" >&2
python3 "$root/bench/federation/bench_gateways.py" "$build" --runs "${RUNS:-7}" \
  --overhead-runs "${OVERHEAD_RUNS:-5}" --poll "${POLL:-0.5}" --follow "${FOLLOW:-wait}" --out "$tmp/routing.json" > /dev/null
python3 - "$tmp/netting.json" "$tmp/routing.json" "$tmp/federation.json" <<'PY'
import json, sys
netting, routing = (json.load(open(p)) for p in sys.argv[1:3])
json.dump({"benchmark": "federation", "netting": netting, "routing": routing},
          open(sys.argv[3], "w"), indent=2)
PY
mv "$tmp/federation.json" "$out"
echo "wrote $out" >&2
