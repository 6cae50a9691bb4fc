#!/usr/bin/env bash
# Install tersa (with the HDF5 layer) from a build directory into a scratch prefix, then build a
# small program that writes and reads a Blosc2 dataset with libtersa_h5 three ways: pkg-config
# (tersa_h5.pc, shared libraries), CMake find_package(tersa_h5) with tersa::tersa_h5 (shared)
# and with tersa::tersa_h5_static; the program also checks that an error raised inside
# libtersa_h5 reads through tersa_error_detail() of libtersa. Checks that libtersa_h5.so
# exports only tersa_h5_* and that the filter plugin was installed under lib/hdf5/plugin.
# Usage: check_h5_install.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cat > "$prefix/use_h5.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <tersa/tersa_h5.h>
int main(int argc, char **argv)
{
    static float v[64 * 48], back[64 * 48];
    for (int i = 0; i < 64 * 48; i++) v[i] = (float)(i % 97);
    int64_t shape[2] = {64, 48}, chunk[2] = {16, 48};
    tersa_h5_params p;
    tersa_h5_params_init(&p);
    p.rank = 2;
    p.shape = shape;
    p.chunkshape = chunk;
    p.type = H5T_IEEE_F32LE;
    p.codec = TERSA_CODEC_LZ4;
    hid_t f = H5Fcreate(argv[argc - 1], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    tersa_h5dset *d = tersa_h5_create(f, "x", &p);
    int ok = d && tersa_h5_write(d, NULL, NULL, NULL, v, sizeof v) == 4 &&
             tersa_h5_read(d, NULL, NULL, NULL, back, sizeof back) == (int64_t)sizeof back &&
             memcmp(v, back, sizeof v) == 0;
    tersa_h5_close(d);
    H5Fclose(f);
    printf("tersa_h5 write/read: %s\n", ok ? "ok" : tersa_error_detail());
    /* An error inside libtersa_h5 must be visible through libtersa's thread-local detail. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    tersa_h5dset *none = tersa_h5_open_path(argv[argc - 1], "/no_such_dataset", 0);
    const char *detail = tersa_error_detail();
    int err_ok = !none && strstr(detail, "no_such_dataset") != NULL;
    printf("tersa_h5 error detail: %s (%s)\n", err_ok ? "ok" : "MISSING", detail);
    ok = ok && err_ok;
    return ok ? 0 : 1;
}
C
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig"
libdir=$(pkg-config --variable=libdir tersa_h5)
cc -o "$prefix/use_pc" "$prefix/use_h5.c" $(pkg-config --cflags --libs tersa_h5)
LD_LIBRARY_PATH=$libdir "$prefix/use_pc" "$prefix/pc.h5"
# ldd's output is captured first: `ldd | grep -q` under pipefail fails when grep exits early.
deps=$(LD_LIBRARY_PATH=$libdir ldd "$prefix/use_pc")
grep -q "libtersa_h5.so.0 => $libdir" <<<"$deps" || {
    echo "check_h5_install: the pkg-config build does not use the installed libtersa_h5.so"
    exit 1
}
bad=$(nm -D --defined-only "$libdir/libtersa_h5.so" | awk '{print $3}' | grep -v '^tersa_h5_' || true)
[ -z "$bad" ] || { echo "check_h5_install: libtersa_h5.so exports $bad"; exit 1; }
mkdir -p "$prefix/cm"
cat > "$prefix/cm/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.25)
project(use_tersa_h5 C)
find_package(tersa_h5 REQUIRED)
add_executable(use_cmake ../use_h5.c)
target_link_libraries(use_cmake PRIVATE tersa::tersa_h5)
add_executable(use_cmake_static ../use_h5.c)
target_link_libraries(use_cmake_static PRIVATE tersa::tersa_h5_static)
CM
cmake -S "$prefix/cm" -B "$prefix/cm/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/cm/b" >/dev/null
"$prefix/cm/b/use_cmake" "$prefix/cm.h5"
"$prefix/cm/b/use_cmake_static" "$prefix/cms.h5"
deps=$(ldd "$prefix/cm/b/use_cmake_static")
if grep -q libtersa <<<"$deps"; then
    echo "check_h5_install: tersa::tersa_h5_static links a shared tersa library"
    exit 1
fi
plugin=$(find "$prefix" -path '*hdf5/plugin/*' -name 'libh5z_tersa_blosc2.so' | head -1)
[ -n "$plugin" ] || { echo "check_h5_install: the filter plugin was not installed"; exit 1; }
echo "check_h5_install: ok"
