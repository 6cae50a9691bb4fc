#!/usr/bin/env bash
# Install, with apt-get, only the Debian packages tersa needs that are missing. Idempotent.
# Usage: scripts/install-deps.sh [--with-oracle]   (root, or sudo available)
set -euo pipefail

pkgs=(build-essential cmake pkg-config liblz4-dev libzstd-dev libdeflate-dev zlib1g-dev
      clang libclang-rt-dev python3 libhdf5-dev hdf5-tools)
if [ "${1:-}" = "--with-oracle" ]; then
    pkgs+=(nodejs npm python3-h5py python3-numpy python3-tables)
fi

missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# A machine may carry its own node/npm outside Debian's packages: accept those.
if [ "${1:-}" = "--with-oracle" ] && command -v node >/dev/null && command -v npm >/dev/null; then
    missing=("${missing[@]/nodejs/}"); missing=("${missing[@]/npm/}")
fi
trimmed=()
for p in "${missing[@]}"; do [ -n "$p" ] && trimmed+=("$p"); done

if [ "${#trimmed[@]}" -eq 0 ]; then
    echo "install-deps: all packages present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${trimmed[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y --no-install-recommends "${trimmed[@]}" || {
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${trimmed[@]}"
}
