#!/usr/bin/env bash
# Set up the independent Blosc2/HDF5 decoder used as a test oracle (../shared/oracle: h5wasm +
# the official HDF5 Blosc2 filter plugin, c-blosc2 2.17.1). Idempotent.
#
# Usage: scripts/oracle-setup.sh DEST_DIR [ORACLE_SRC]
#   DEST_DIR    where the oracle is copied and `npm ci` runs (e.g. build/oracle); shared/ may be
#               read-only, so the oracle never runs in place
#   ORACLE_SRC  the oracle's folder; default: ../shared/oracle relative to the repository
#
# Installs with apt-get, only when missing: python3-h5py and python3-numpy (for Debian's
# /usr/bin/python3, which runs wrap_frame.py), and nodejs + npm unless `node` and `npm` already
# work. `npm ci` runs again only when package-lock.json changed or node_modules is incomplete.
# Exit status: 0 ready, 1 a step failed (the message says which), 2 bad usage.
set -euo pipefail

die() { echo "oracle-setup: error: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 DEST_DIR [ORACLE_SRC]" >&2; exit 2; }
dest=$1
repo=$(cd "$(dirname "$0")/.." && pwd)
src=${2:-$repo/../shared/oracle}
[ -f "$src/package-lock.json" ] && [ -f "$src/h5digest.mjs" ] && [ -f "$src/wrap_frame.py" ] ||
    die "no oracle at $src (expected package-lock.json, h5digest.mjs, wrap_frame.py)"
src=$(cd "$src" && pwd)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

apt_install() {
    echo "oracle-setup: installing $*"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null 2>&1 || {
        $SUDO apt-get update >/dev/null 2>&1 || true
        $SUDO apt-get install -y --no-install-recommends "$@" >/dev/null
    } || die "apt-get could not install $*"
}

# 1. Python side: Debian's python3 with h5py and numpy (a pyenv python3 on PATH may lack them).
if ! /usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1; then
    apt_install python3 python3-h5py python3-numpy
    /usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1 ||
        die "/usr/bin/python3 still cannot import h5py and numpy"
fi

# 2. Node side: any working node >= 18 with npm.
if ! { command -v node >/dev/null && command -v npm >/dev/null && node --version >/dev/null &&
       npm --version >/dev/null 2>&1; }; then
    apt_install nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) ||
    die "node does not run"
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old (the oracle needs >= 18)"

# 3. Copy the oracle (files only; never node_modules) and install its pinned packages.
mkdir -p "$dest" || die "cannot create $dest"
dest=$(cd "$dest" && pwd)
[ "$dest" != "$src" ] || die "DEST_DIR must differ from the oracle's own folder"
for f in "$src"/* "$src"/.gitignore; do
    [ -f "$f" ] || continue
    cmp -s "$f" "$dest/$(basename "$f")" && continue
    cp -f "$f" "$dest/" || die "cannot copy $f to $dest"
    chmod u+w "$dest/$(basename "$f")"
done

stamp="$dest/node_modules/.tersa-oracle-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$dest/package-lock.json" &&
   [ -d "$dest/node_modules/h5wasm" ] && [ -d "$dest/node_modules/h5wasm-plugins" ]; then
    echo "oracle-setup: oracle ready in $dest (cached)"
    exit 0
fi
echo "oracle-setup: npm ci in $dest"
(cd "$dest" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error) ||
    die "npm ci failed in $dest (is the npm registry or the npm cache reachable?)"
[ -d "$dest/node_modules/h5wasm" ] && [ -d "$dest/node_modules/h5wasm-plugins" ] ||
    die "npm ci finished but h5wasm/h5wasm-plugins are missing in $dest/node_modules"
cp -f "$dest/package-lock.json" "$stamp"
echo "oracle-setup: oracle ready in $dest"
