#!/bin/sh
# Packages needed only by the benchmarks, never by the build or the tests.
#
# Today that is Debian's `blender` (3.4.1 on Debian 12 bookworm), which bench/render/ uses to
# render the demo scene with Cycles on the CPU side by side with `rfarm render`
# (bench/render/compare_cycles.sh). It pulls in several hundred MiB of dependencies, so it is
# deliberately NOT part of scripts/install-deps.sh, scripts/test.sh or CI: no test needs it and
# the 2-core CI machine should not pay for it.
#
# Usage (as root, Debian 12): scripts/install-bench-deps.sh
set -eu
if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
# Debian's blender runs on the system Python 3.11, and its glTF importer needs numpy, which the
# package only recommends: install python3-numpy explicitly. openimageio-tools gives oiiotool,
# which the driver uses for the mean RGB of both EXRs.
apt-get install -y --no-install-recommends blender python3-numpy openimageio-tools
blender --version | head -n 1
