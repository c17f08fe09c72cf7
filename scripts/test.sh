#!/usr/bin/env bash
# Installs dependencies, builds rfarm (CUDA path included when nvcc is present), builds the unit
# tests again with AddressSanitizer + UndefinedBehaviorSanitizer, and runs every test: unit, CLI and
# integration (a real Slurm cluster on loopback). Exits non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
start=$(date +%s)

log "dependencies"
"$RFARM_ROOT/scripts/install-deps.sh"

rfarm_build

ASAN_DIR=${RFARM_ASAN_BUILD_DIR:-$RFARM_ROOT/build-asan}
log "sanitizer build of the unit tests ($ASAN_DIR)"
cmake -S "$RFARM_ROOT" -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRFARM_SANITIZE=ON \
  -DRFARM_CUDA=OFF -DRFARM_UNIT_TESTS_ONLY=ON >"$ASAN_DIR.configure.log" 2>&1 ||
  { cat "$ASAN_DIR.configure.log" >&2; exit 1; }
ninja -C "$ASAN_DIR" -j "$JOBS"

log "unit tests under ASan + UBSan"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# OpenMPI and its helper libraries keep allocations for the process lifetime: not ours to fix.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$RFARM_ROOT/tests/sanitizers/lsan.supp:print_suppressions=0}
# RegionRender calls render(), which initialises and finalises Open MPI, on purpose: it proves that
# re-rendered cells equal what `rfarm render` wrote. Open MPI's dlclose'd components leave allocations
# that LeakSanitizer reports with "<unknown module>" frames no suppression can name (seen
# intermittently), so that one suite runs with leak detection off; ASan's memory-error checks and
# UBSan still apply. The other verifier suites render in-process without MPI and keep leak checks.
in_process_render='^RegionRender\.'
(cd "$ASAN_DIR" && ctest -L unit -E "$in_process_render" -j "$JOBS" --output-on-failure --timeout 600)
(cd "$ASAN_DIR" && ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
  ctest -L unit -R "$in_process_render" -j "$JOBS" --output-on-failure --timeout 600)
unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

log "all tests (unit, cli, integration with a real Slurm cluster)"
# Integration tests mostly wait on Slurm: run a few more at once than there are cores.
(cd "$BUILD_DIR" && ctest -j "$((JOBS + 2))" --output-on-failure --timeout 900)

log "scripts/test.sh passed in $(( $(date +%s) - start )) s"
