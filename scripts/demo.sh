#!/usr/bin/env bash
# Build tersa and run its main job on embedded, generated data (`tersa demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target tersa_cli >/dev/null
exec build/tersa demo "$@"
