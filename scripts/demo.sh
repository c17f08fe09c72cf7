#!/usr/bin/env bash
# The rfarm demo, end to end on one machine with the embedded defaults (no Slurm, no server):
# install dependencies, build, then: open a ledger and accounts, deposit tokens, submit a render
# (quote, escrow hold), render it (usage metered), commit every frame to the ledger, verify it
# (rfarm verify re-renders sampled cells and records a verdict per frame), settle the charge from
# the verdicts and the metered usage (provider, treasury, burn, verifier), and print the queue, the
# job with each frame's commit hash, verdict and charge, the balances, the account statement and a
# clean audit of the signed log.
# Everything it writes goes under ${RFARM_DEMO_DIR:-./demo-out}.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

log "dependencies"
"$RFARM_ROOT/scripts/install-deps.sh"
rfarm_build

RFARM="$BUILD_DIR/bin/rfarm"
OUT=${RFARM_DEMO_DIR:-$RFARM_ROOT/demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"
SCENE="$RFARM_ROOT/examples/scenes/animated_demo.gltf"

log "rfarm --version"
"$RFARM" --version

log "configuration (config/rfarm.example.yaml)"
"$RFARM" config check "$RFARM_ROOT/config/rfarm.example.yaml" | head -n 20
echo "..."

USER_NAME=$(id -un)
CONFIG="$OUT/rfarm.yaml"
cat > "$CONFIG" <<YAML
# The demo's site: one workstation (local backend), an embedded SQLite ledger, no Slurm.
cluster: {name: demo, backend: local}
token: {symbol: RFT, decimals: 6}
prices: {cpu_core_hour: "36"}
fees: {treasury_bps: 100, burn_bps: 50, verifier_reward: "0.001"}
accounts:
  - {name: studio-a, kind: user, unix_users: [$USER_NAME], min_balance: "1"}
  - {name: render-nodes, kind: provider}
  - {name: treasury, kind: treasury}
  - {name: verifiers, kind: verifier}
users: {$USER_NAME: studio-a}
ledger: {path: $OUT/ledger.sqlite3}
state_dir: $OUT/state
render: {tile_size: 32, max_depth: 4}
YAML
rf() { "$RFARM" --config "$CONFIG" "$@"; }

log "ledger: create it, open accounts, deposit 100 RFT for studio-a"
rf ledger init --cluster demo
rf ledger account create studio-a --kind user --owner "$USER_NAME"
rf ledger account create render-nodes --kind provider
rf ledger account create treasury --kind treasury
rf ledger account create verifiers --kind verifier
rf ledger deposit studio-a 100

log "submit --test-only: the plan and the quote, nothing held"
rf submit --test-only --frames 1-6 --chunk 2 --resolution 480x270 --spp 32 \
  -o "$OUT/frames/frame_####.exr" "$SCENE"

log "submit: hold the quote, render 6 frames in 3 chunks (usage metered), commit them, verify, settle"
rf submit --frames 1-6 --chunk 2 --resolution 480x270 --spp 32 \
  -o "$OUT/frames/frame_####.exr" "$SCENE"

log "rfarm queue and rfarm show 1 (each frame: state, round, host, EXR SHA-256 committed, verdict, charge)"
rf queue
rf show 1

log "verify: the verdicts rfarm verify recorded in the ledger (evidence beside the frames)"
ls "$OUT/frames"/verify-*.json 2>/dev/null | head -n 3

log "a requeued render resumes: frames that exist and validate are skipped"
"$RFARM" render "$SCENE" --frames 1-6 --resolution 480x270 --spp 32 --tile-size 32 --max-depth 4 \
  --output "$OUT/frames/frame_####.exr" --report "$OUT/report.h5" --progress lines

log "balances after settlement"
for a in studio-a render-nodes treasury verifiers burn escrow; do rf ledger balance "$a"; done

log "statement for studio-a"
rf statement -A studio-a --from 2000-01-01 --to 2100-01-01

log "audit: balances recomputed from the signed event log"
rf ledger audit
rf ledger head

log "provenance of frame 3 (exrheader)"
exrheader "$OUT/frames/frame_0003.exr" | grep -E 'rfarm\.|channels|compression' | head -n 24

log "the render report (h5dump)"
h5dump -d /frames "$OUT/report.h5" | head -n 30 || h5dump -H "$OUT/report.h5" | head -n 30

if command -v oiiotool >/dev/null; then
  log "a preview of frame 3 for people ($OUT/frame_0003.png)"
  oiiotool "$OUT/frames/frame_0003.exr" --ch R,G,B --colorconvert linear sRGB -o "$OUT/frame_0003.png"
fi

log "demo finished: outputs in $OUT"
