#!/usr/bin/env bash
# The rfarm demo, end to end on one machine with the embedded defaults (no Slurm, no server):
# install dependencies, build, then render the bundled animated scene and show what came out.
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

log "render 6 frames of the animated demo scene (CPU, or CUDA when a GPU is usable)"
"$RFARM" render "$SCENE" --frames 1-6 --resolution 480x270 --spp 32 \
  --output "$OUT/frames/frame_####.exr" --report "$OUT/report.h5" --progress lines

log "a requeued render resumes: frames that exist and validate are skipped"
"$RFARM" render "$SCENE" --frames 1-6 --resolution 480x270 --spp 32 \
  --output "$OUT/frames/frame_####.exr" --progress lines

log "provenance of frame 3 (exrheader)"
exrheader "$OUT/frames/frame_0003.exr" | grep -E 'rfarm\.|channels|compression' | head -n 24

log "the render report (h5dump)"
h5dump -d /frames "$OUT/report.h5" | head -n 30 || h5dump -H "$OUT/report.h5" | head -n 30

if command -v oiiotool >/dev/null; then
  log "a preview of frame 3 for people ($OUT/frame_0003.png)"
  oiiotool "$OUT/frames/frame_0003.exr" --ch R,G,B --colorconvert linear sRGB -o "$OUT/frame_0003.png"
fi

log "demo finished: outputs in $OUT"
