#!/bin/sh
# Throughput of the CPU path tracer on the demo scene: samples/s at 1 thread and at all cores.
# Usage: bench/render/bench_demo.sh [BUILD_DIR] [RESOLUTION] [SPP]
# Prints one line per run; the numbers depend on the machine and on its load.
set -eu
build=${1:-build}
res=${2:-320x180}
spp=${3:-16}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for threads in 1 0; do
  "$build/bin/rfarm" render "$root/examples/scenes/animated_demo.gltf" --device cpu --frames 1 \
    --resolution "$res" --spp "$spp" --threads "$threads" --progress lines --overwrite \
    --output "$out/bench.exr" 2>&1 | grep ' done in ' | sed "s/^/threads=$threads (0 = all cores): /"
done
