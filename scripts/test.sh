#!/usr/bin/env bash
# Build tersa and run every test. Usage: scripts/test.sh [--sanitize] [--build-dir DIR]
#   --sanitize   build with AddressSanitizer + UndefinedBehaviorSanitizer (build dir build-asan)
# Installs missing Debian packages first (scripts/install-deps.sh), including node and h5py
# for the interoperability tests against the official decoder (../shared/oracle).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=OFF
dir=build
while [ $# -gt 0 ]; do
    case "$1" in
        --sanitize) sanitize=ON; dir=build-asan ;;
        --build-dir) dir="$2"; shift ;;
        *) echo "test.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
bash scripts/install-deps.sh --with-oracle   # node + h5py: the official decoder's tests
build_type=Release
[ "$sanitize" = ON ] && build_type=RelWithDebInfo
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=$build_type -DTERSA_SANITIZE=$sanitize -DTERSA_WERROR=ON
cmake --build "$dir" -j"$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
