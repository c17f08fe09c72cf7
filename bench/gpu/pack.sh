#!/usr/bin/env bash
# Puts what bench/gpu/device_check.sh needs on a bare GPU machine under .devcarry/ (gitignored):
# the stripped GPU benchmark and renderer test binaries of BUILD_DIR, and the shared libraries
# they load that are not part of the C/C++ runtime (OpenEXR, Imath, libpng, libsodium, zlib).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BUILD=${1:-build}
rm -rf .devcarry && mkdir -p .devcarry/bin .devcarry/lib
for b in rfarm_bench_gpu rfarm_renderer_tests; do
  strip -o ".devcarry/bin/$b" "$BUILD/bin/$b"
  ldd "$BUILD/bin/$b" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do
    case "$(basename "$lib")" in libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread*|libdl*|librt*) ;; *) cp -L "$lib" .devcarry/lib/ ;; esac
  done
done
sed -n "s/^CMAKE_HOME_DIRECTORY:INTERNAL=//p" "$BUILD/CMakeCache.txt" > .devcarry/source_dir
du -sh .devcarry
