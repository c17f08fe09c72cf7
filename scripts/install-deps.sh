#!/usr/bin/env bash
# Installs every Debian package rfarm needs to build, test and run its demo.
# Idempotent: packages already present are left as they are. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates python3
  # core: hashing/signing, JSON, CLI
  libsodium-dev nlohmann-json3-dev libcli11-dev
  # config
  libyaml-cpp-dev
  # renderer: scenes, images, reports, MPI
  libtinygltf-dev libopenexr-dev openexr libhdf5-openmpi-dev hdf5-tools
  openmpi-bin libopenmpi-dev libpmix-dev openimageio-tools
  # ledger and job store
  libsqlite3-dev sqlite3
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # Slurm 22.05 with munge, for the SPANK plugin and the test cluster
  slurm-wlm slurm-client slurmd slurmctld libslurm-dev slurm-wlm-plugins-dev munge libmunge-dev
  # federation (later issues): PostgreSQL and TLS peer gateways
  postgresql libpq-dev libpqxx-dev libcpp-httplib-dev libssl-dev
  # the federation tests make throwaway TLS certificates with the openssl command line
  openssl
  # the three-cluster federation test: network namespaces (ip), nsenter
  iproute2 util-linux
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Another apt run may hold the dpkg lock for a moment: wait for it instead of failing.
apt_retry() {
  local n=0
  until $SUDO env DEBIAN_FRONTEND=noninteractive apt-get "$@"; do
    n=$((n + 1))
    if [ $n -ge 5 ]; then echo "install-deps: apt-get $* failed 5 times" >&2; return 1; fi
    echo "install-deps: apt-get busy or failed, retrying in 5 s" >&2
    sleep 5
  done
}
apt_retry -qq update
apt_retry -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends install "${missing[@]}" >/dev/null
echo "install-deps: done"
