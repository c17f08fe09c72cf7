#pragma once
// Shared helpers for the scheduler's unit tests: a small configuration and a fake `rfarm render`.
#include <filesystem>
#include <string>

#include <fstream>

#include "config/config.h"
#include "scheduler/frame_evidence.h"
#include "scheduler/job.h"
#include "support/process.h"

namespace rfarm::scheduler::test {

inline const std::string kScene =
    (rfarm::testing::source_dir() / "examples/scenes/animated_demo.gltf").string();

// Prices chosen so quotes are easy to check by hand: 3,600,000 units per core-hour = 1 per core-ms.
inline config::Config test_config() {
  config::Config c = config::default_config();
  c.prices.cpu_core_hour = Amount(3'600'000);
  c.prices.gpu_hour["h100"] = Amount(36'000'000);
  c.cluster.gpu_models = {"h100"};
  c.fees.verifier_reward = Amount(10);
  c.fees.treasury_bps = 100;
  c.fees.burn_bps = 50;
  c.accounts = {{"studio", config::AccountKind::User, {}, Amount()},
                {"nodes", config::AccountKind::Provider, {}, Amount()},
                {"treasury", config::AccountKind::Treasury, {}, Amount()},
                {"verifiers", config::AccountKind::Verifier, {}, Amount()}};
  return c;
}

inline JobRequest small_request(const std::filesystem::path& out_dir, const std::string& frames = "1-24",
                                std::uint32_t chunk = 4) {
  JobRequest r;
  r.scene = kScene;
  r.frames = frames;
  r.chunk_size = chunk;
  r.width = 32;
  r.height = 18;
  r.spp = 1;
  r.max_depth = 8;
  r.output = (out_dir / "frame_####.exr").string();
  r.account = "studio";
  return r;
}

// A stand-in for `rfarm render`: writes each frame of --frames to --output ("rfarm-fake-frame N";
// $FAKE_SKIP_WRITE names one frame it claims but does not write, exiting 0 all the same),
// skips frames that exist (resume), fails once with exit 3 for the chunk named by $FAKE_FAIL_SPEC
// (a marker file remembers it failed), always fails for $FAKE_ALWAYS_FAIL_SPEC, sleeps
// $FAKE_SLEEP seconds, and records how many renders ran at once in $FAKE_DIR/concurrency.
inline std::filesystem::path write_fake_render(const std::filesystem::path& dir) {
  const auto path = rfarm::testing::write_file(dir / "fake_render.sh", R"sh(#!/bin/bash
[ "$1" = render ] || { echo "fake: expected render" >&2; exit 2; }
shift
while [ $# -gt 0 ]; do
  case "$1" in
    --frames) spec=$2; shift ;;
    --output) out=$2; shift ;;
  esac
  shift
done
d=${FAKE_DIR:?}
mkdir "$d/running.$$"
ls -d "$d"/running.* | wc -l >> "$d/concurrency"
sleep "${FAKE_SLEEP:-0}"
for ((k = 0; k < ${FAKE_BURN:-0}; k++)); do :; done  # CPU time for the meter
rmdir "$d/running.$$"
echo "$spec" >> "$d/runs"
if [ "$spec" = "${FAKE_ALWAYS_FAIL_SPEC:-}" ]; then exit 4; fi
if [ "$spec" = "${FAKE_FAIL_SPEC:-}" ] && [ ! -e "$d/failed-once" ]; then
  touch "$d/failed-once"
  exit 3
fi
IFS=, read -ra items <<< "$spec"
for item in "${items[@]}"; do
  if [[ $item == *-* ]]; then a=${item%-*}; b=${item#*-}; else a=$item; b=$item; fi
  for ((f = a; f <= b; f++)); do
    file=${out//####/$(printf %04d "$f")}
    if [ -e "$file" ]; then echo "skip $f"; else echo "render $f"; [ "${FAKE_SKIP_WRITE:-}" = "$f" ] || echo "rfarm-fake-frame $f" > "$file"; echo "$f" >> "$d/rendered"; fi
  done
done
)sh");
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

// Evidence for the fake renderer's frames: the file must hold "rfarm-fake-frame N" for frame N.
inline FrameEvidence fake_inspect(const std::filesystem::path& path, const JobRequest&, std::int64_t frame) {
  FrameEvidence e;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) {
    e.why = "missing";
    return e;
  }
  if (line != "rfarm-fake-frame " + std::to_string(frame)) {
    e.why = "not frame " + std::to_string(frame);
    return e;
  }
  e.valid = true;
  e.exr_sha256 = sha256(line);
  e.tile_root = sha256("tiles:" + line);
  e.host = "testhost";
  return e;
}

}  // namespace rfarm::scheduler::test
