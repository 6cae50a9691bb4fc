#!/usr/bin/env bash
# Install tersa from a build directory into a scratch prefix, then build a small program against
# it three ways: pkg-config (shared), pkg-config --static, and CMake find_package(tersa).
set -euo pipefail
build=${1:-build}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cat > "$prefix/use.c" <<'C'
#include <tersa/tersa.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    char src[4096], chunk[4096 + 32], back[4096];
    for (int i = 0; i < 4096; i++) src[i] = (char)(i / 64);
    tersa_cctx *c = tersa_cctx_create();
    tersa_dctx *d = tersa_dctx_create();
    int64_t n = tersa_compress(c, src, sizeof src, chunk, sizeof chunk);
    int ok = n > 0 && tersa_decompress(d, chunk, (size_t)n, back, sizeof back) == 4096 &&
             memcmp(src, back, sizeof src) == 0;
    tersa_cctx_free(c);
    tersa_dctx_free(d);
    printf("tersa %s round trip: %s\n", tersa_version(), ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
cc -o "$prefix/use_shared" "$prefix/use.c" $(pkg-config --cflags --libs tersa)
LD_LIBRARY_PATH="$prefix/lib:$prefix/lib/x86_64-linux-gnu" "$prefix/use_shared"
cc -o "$prefix/use_static" "$prefix/use.c" $(pkg-config --cflags tersa) \
   "$(find "$prefix" -name libtersa.a | head -1)" $(pkg-config --libs --static tersa | sed 's/-ltersa//')
"$prefix/use_static"
mkdir -p "$prefix/cm"
cat > "$prefix/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(use_tersa C)
find_package(tersa REQUIRED)
add_executable(use_cmake ../use.c)
target_link_libraries(use_cmake PRIVATE tersa::tersa_static)
CM
cmake -S "$prefix/cm" -B "$prefix/cm/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm/b" >/dev/null
"$prefix/cm/b/use_cmake"
# Only tersa_ symbols are exported from the shared library.
lib=$(find "$prefix" -name 'libtersa.so.*.*' | head -1)
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
bad=$(grep -v '^tersa_' <<<"$syms" | grep -v '^_' || true)
bad=$(echo "$bad" | grep -v '^tersa__' | grep -v '^$' || true)
if [ -n "$bad" ] || grep -q '^tersa__' <<<"$syms"; then
    echo "check-install: unexpected exported symbols:"; nm -D --defined-only "$lib" | grep -v ' tersa_[a-z]' | head
    exit 1
fi
echo "check-install: ok"
