# Shared by scripts/demo.sh and scripts/test.sh: dependency install and the main build.
# Source it; it defines RFARM_ROOT, BUILD_DIR and rfarm_build.
set -euo pipefail
RFARM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${RFARM_BUILD_DIR:-$RFARM_ROOT/build}
JOBS=${RFARM_JOBS:-$(nproc)}

log() { printf '\n== %s ==\n' "$*"; }

# Configures and builds the full tree (CUDA path included when nvcc is found) in BUILD_DIR.
rfarm_build() {
  log "configure ($BUILD_DIR)"
  cmake -S "$RFARM_ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$BUILD_DIR.configure.log" 2>&1 ||
    { cat "$BUILD_DIR.configure.log" >&2; echo "configure failed" >&2; return 1; }
  grep -E '^-- rfarm:' "$BUILD_DIR.configure.log" || true
  log "build"
  ninja -C "$BUILD_DIR" -j "$JOBS"
}
