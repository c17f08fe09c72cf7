#!/usr/bin/env bash
# The GPU checks, as one script for a lent GPU machine (which has the NVIDIA driver and CUDA but
# none of rfarm's Debian libraries): run bench/gpu/pack.sh on the build machine first; it puts the
# stripped binaries and the shared libraries they need under .devcarry/. Then, on the GPU machine,
# from the repository root:   OUT=/some/dir bash bench/gpu/device_check.sh
# Writes the GPU benchmark JSONs, two EXRs (CPU and CUDA renders of one frame) and a sanitizer log
# under $OUT. Every step has its own time limit and the script goes on after a failed step.
set -u
OUT=${OUT:-/tmp/rfarm-gpu}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=$PWD/.devcarry/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
B=$PWD/.devcarry/bin
SCENE=examples/scenes/animated_demo.gltf
# The test binaries find the example scenes through the source path they were built with.
src=$(cat .devcarry/source_dir 2>/dev/null || echo /work/main)
if [ "$src" != "$PWD" ] && [ ! -e "$src" ]; then mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"; fi
step() { echo; echo "== $*"; }
step "GPU"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv 2>&1
nproc; grep -m1 'model name' /proc/cpuinfo
step "bench: 640x360, 32 spp (the Cycles comparison's settings), every CPU core"
timeout 150 "$B/rfarm_bench_gpu" --scene $SCENE --resolution 640x360 --spp 32 --frame 25 --runs 5 --cpu-runs 3 \
  --exr-dir "$OUT/exr" --out "$OUT/gpu_640x360.json" >/dev/null
echo "rc=$?"
step "renderer tests on the GPU (Cuda.* run here; CI skips them)"
timeout 90 "$B/rfarm_renderer_tests" --gtest_filter='Cuda*:Determinism*' 2>&1 | tail -25
step "bench: 1920x1080, 64 spp, every CPU core"
timeout 150 "$B/rfarm_bench_gpu" --scene $SCENE --resolution 1920x1080 --spp 64 --frame 25 --runs 3 --cpu-runs 1 \
  --out "$OUT/gpu_1920x1080.json" >/dev/null
echo "rc=$?"
step "bench: 640x360, 32 spp, 2 CPU threads (the CI machine's size)"
timeout 90 "$B/rfarm_bench_gpu" --scene $SCENE --resolution 640x360 --spp 32 --frame 25 --runs 3 --cpu-runs 1 \
  --cpu-threads 2 --out "$OUT/gpu_640x360_cpu2.json" >/dev/null
echo "rc=$?"
if command -v compute-sanitizer >/dev/null; then
  step "compute-sanitizer memcheck on a small frame"
  timeout 100 compute-sanitizer --tool memcheck --print-limit 20 "$B/rfarm_bench_gpu" --scene $SCENE --resolution 96x64 --spp 2 \
    --frame 25 --runs 1 --cpu-runs 1 --out /tmp/sanitizer_bench.json > "$OUT/memcheck.log" 2>&1
  echo "rc=$?"; tail -5 "$OUT/memcheck.log"
fi
step "summary"
python3 - "$OUT" <<'PY'
import json, sys, glob, os
for f in sorted(glob.glob(os.path.join(sys.argv[1], "gpu_*.json"))):
    j = json.load(open(f)); c = j["cpu_vs_cuda"]
    print(os.path.basename(f), "cuda %.3f s %.1f Ms/s (kernel %.3f s)" % (j["cuda"]["median_s"], j["cuda"]["samples_per_s"] / 1e6, j["cuda"]["kernel_median_s"]),
          "| cpu(%d) %.2f s %.2f Ms/s" % (j["cpu"]["threads"], j["cpu"]["median_s"], j["cpu"]["samples_per_s"] / 1e6),
          "| x%.1f (x%.0f/thread)" % (j["speedup_cuda_over_cpu_same_machine"], j["speedup_cuda_over_one_cpu_thread"]))
    print("   self:", j["cuda_self_consistency"])
    print("   exact rgb %.4f aov %.4f | mean ratio %s | cells<=1000ppm %.4f | cell l1 %s | px>1e-3 %.4f" % (
        c["bit_exact_fraction_rgb"], c["bit_exact_fraction_aovs"], ["%.5f" % r for r in c["mean_rgb_ratio_cuda_over_cpu"]],
        c["cell_fraction_within_1000ppm_max_metric"], {k: "%.2g" % v for k, v in c["cell_rgb_l1_rel"].items()},
        c["pixel_fraction_rgb_rel_diff"]["gt_1e-3"]))
    print("   cells failing: max-metric %d, default rule %d; by pixels over: %s; cpu verifier on the cuda frame: %s" % (
        c["cells_failing_max_metric_1000ppm"], c["cells_failing_default_rule"], c["cells_by_pixels_over_1000ppm"],
        {k: (v["pass"], v["cells_failing"], v["cells_checked"]) for k, v in j["cpu_verifier_on_cuda_frame"].items()}))
PY
