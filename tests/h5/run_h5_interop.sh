#!/usr/bin/env bash
# Interoperability of tersa's HDF5 layer with other HDF5 readers.
#
#   run_h5_interop.sh h5dump PLUGIN_DIR FIXTURES
#       h5dump (HDF5_PLUGIN_PATH=PLUGIN_DIR, i.e. tersa's filter plugin) dumps every official
#       fixture; the binary dump's SHA-256 must equal MANIFEST.tsv's (compounds, which h5dump
#       does not dump in binary, are checked through the text dump).
#   run_h5_interop.sh h5py PLUGIN_DIR WRITER WORK_DIR
#       WRITER (tersa_h5_writefiles) writes HDF5 files with tersa's direct chunk writer; Debian's
#       h5py reads every dataset through tersa's plugin and hashes it.
#   run_h5_interop.sh oracle ORACLE_DIR WRITER WORK_DIR [ORACLE_SRC]
#       the same files decoded by the independent oracle (h5wasm + the official filter,
#       c-blosc2 2.17.1); scripts/oracle-setup.sh installs it into ORACLE_DIR.
#   run_h5_interop.sh pytables PLUGIN_DIR WRITER WORK_DIR FIXTURES
#       Debian's PyTables (3.7: no Blosc2 of its own) reads, through tersa's plugin, the files
#       WRITER (tersa's direct path) writes, files Debian's h5py writes through the plugin and
#       every official HDF5 fixture, each to its expected digest (pytables_read_files.py).
#   run_h5_interop.sh h5pywrite PLUGIN_DIR TERSA ORACLE_DIR WORK_DIR [ORACLE_SRC]
#       Debian's h5py writes Blosc2 datasets through tersa's plugin (h5py_write_files.py:
#       ranks 1 to 4, compound, strings, Fletcher32, special chunks, appends); each dataset,
#       whole and a strided slice, must decode to the digest of the data written both with the
#       oracle and with tersa's direct read path (`TERSA cat FILE:DSET --raw`).
# Prints one line per dataset; exit status 1 on any mismatch, 2 on bad usage.
set -uo pipefail

mode=${1:-}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pass=0 fail=0

report() { # result name detail
    if [ "$1" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
    printf '%-5s %-50s %s\n' "$1" "$2" "$3"
}

run_h5dump() {
    local plugins=$1 fixtures=$2 tmp
    tmp=$(mktemp -d) || exit 1
    while IFS=$'\t' read -r path kind _ _ _ _ _ _ _ _ _ _ dtype dset _ want _; do
        [ "$kind" = hdf5 ] || continue
        local file="$fixtures/$path" got
        if [[ "$dtype" == *'['* ]]; then # compound: text dump, last record's name
            if HDF5_PLUGIN_PATH=$plugins h5dump -d "$dset" "$file" >"$tmp/out.txt" 2>"$tmp/err" &&
               grep -q '"r19999"' "$tmp/out.txt"; then
                report ok "$path $dset" "text dump"
            else
                report FAIL "$path $dset" "$(head -c 300 "$tmp/err")"
            fi
            continue
        fi
        rm -f "$tmp/out.bin"
        HDF5_PLUGIN_PATH=$plugins h5dump -d "$dset" -b LE -o "$tmp/out.bin" "$file" \
            >/dev/null 2>"$tmp/err"
        got=$(sha256sum "$tmp/out.bin" 2>/dev/null | cut -d' ' -f1)
        if [ "$got" = "$want" ]; then report ok "$path $dset" "${got:0:16}"
        else report FAIL "$path $dset" "got ${got:-nothing} $(head -c 300 "$tmp/err")"; fi
    done <"$fixtures/MANIFEST.tsv"
    rm -rf "$tmp"
}

write_files() { # writer work
    rm -rf "$2" && mkdir -p "$2" && "$1" "$2" || {
        echo "run_h5_interop: $1 failed to write the files" >&2
        exit 1
    }
}

run_h5py() {
    local plugins=$1 writer=$2 work=$3
    write_files "$writer" "$work"
    HDF5_PLUGIN_PATH=$plugins /usr/bin/python3 - "$work" >"$work/h5py.out" 2>&1 <<'PY'
import hashlib, sys
import h5py, numpy as np
work = sys.argv[1]
bad = 0
for line in open(f"{work}/expected.tsv"):
    fname, dset, want, desc = line.rstrip("\n").split("\t")
    try:
        with h5py.File(f"{work}/{fname}", "r") as f:
            a = f[dset][()]
        a = np.ascontiguousarray(a)
        if a.dtype.names is None:
            a = a.astype(a.dtype.newbyteorder("<"))
        got = hashlib.sha256(a.tobytes()).hexdigest()
    except Exception as e:  # report and go on
        got = f"error {type(e).__name__}: {e}"
    ok = got == want
    bad += not ok
    print(f"{'ok' if ok else 'FAIL':5} {fname + ' ' + dset:50} {got[:16] if ok else got}")
sys.exit(1 if bad else 0)
PY
    cat "$work/h5py.out"
    pass=$(grep -c '^ok ' "$work/h5py.out")
    fail=$(grep -vc '^ok ' "$work/h5py.out")
}

run_oracle() {
    local oracle=$1 writer=$2 work=$3 src=${4:-}
    bash "$repo/scripts/oracle-setup.sh" "$oracle" ${src:+"$src"} >/dev/null || {
        echo "run_h5_interop: oracle setup failed" >&2
        exit 1
    }
    write_files "$writer" "$work"
    while IFS=$'\t' read -r fname dset want desc; do
        local out got
        out=$(cd "$oracle" && node h5digest.mjs "$work/$fname" "$dset" 2>&1)
        got=$(printf '%s\n' "$out" | sed -n 's/.*"sha256": *"\([0-9a-f]\{64\}\)".*/\1/p' | head -n1)
        if [ "$got" = "$want" ]; then report ok "$fname $dset" "${got:0:16}  $desc"
        else report FAIL "$fname $dset" "$(printf '%s' "$out" | tr '\n' ' ' | cut -c1-300)"; fi
    done <"$work/expected.tsv"
}

check_digest() { # name want oracle-output|tersa-file
    local got
    got=$(printf '%s\n' "$3" | sed -n 's/.*"sha256": *"\([0-9a-f]\{64\}\)".*/\1/p' | head -n1)
    if [ "$got" = "$2" ]; then report ok "$1" "${got:0:16}"
    else report FAIL "$1" "$(printf '%s' "$3" | tr '\n' ' ' | cut -c1-300)"; fi
}

run_h5pywrite() {
    local plugins=$1 tersa=$2 oracle=$3 work=$4 src=${5:-}
    bash "$repo/scripts/oracle-setup.sh" "$oracle" ${src:+"$src"} >/dev/null || {
        echo "run_h5_interop: oracle setup failed" >&2
        exit 1
    }
    rm -rf "$work" && mkdir -p "$work" &&
        HDF5_PLUGIN_PATH=$plugins /usr/bin/python3 "$here/h5py_write_files.py" "$work" || {
        echo "run_h5_interop: h5py could not write through the plugin" >&2
        exit 1
    }
    while IFS=$'\t' read -r fname dset spec want desc; do
        [ "$spec" = - ] && spec=
        local name="$fname $dset${spec:+ [$spec]}" out
        out=$(cd "$oracle" && node h5digest.mjs "$work/$fname" "$dset" ${spec:+--slice "$spec"} 2>&1)
        check_digest "oracle $name" "$want" "$out"
        if "$tersa" cat "$work/$fname:$dset" ${spec:+--slice "$spec"} --raw -f \
            -o "$work/tersa.bin" 2>"$work/tersa.err"; then
            out="\"sha256\": \"$(sha256sum "$work/tersa.bin" | cut -d' ' -f1)\""
        else
            out=$(cat "$work/tersa.err")
        fi
        check_digest "tersa  $name" "$want" "$out"
    done <"$work/expected.tsv"
}

run_pytables() {
    local plugins=$1 writer=$2 work=$3 fixtures=$4
    write_files "$writer" "$work"
    mkdir -p "$work/h5py" &&
        HDF5_PLUGIN_PATH=$plugins /usr/bin/python3 "$here/h5py_write_files.py" "$work/h5py" || {
        echo "run_h5_interop: h5py could not write through the plugin" >&2
        exit 1
    }
    HDF5_PLUGIN_PATH=$plugins /usr/bin/python3 "$here/pytables_read_files.py" \
        "$work/expected.tsv" "$work/h5py/expected.tsv" "$fixtures/MANIFEST.tsv" >"$work/pt.out" 2>&1
    cat "$work/pt.out"
    pass=$(grep -c '^ok ' "$work/pt.out")
    fail=$(grep -c '^FAIL ' "$work/pt.out")
    [ "$pass" -gt 0 ] || fail=$((fail + 1))
}

case "$mode" in
h5dump) [ $# -eq 3 ] || exit 2; run_h5dump "$2" "$3" ;;
h5py) [ $# -eq 4 ] || exit 2; run_h5py "$2" "$3" "$4" ;;
oracle) [ $# -ge 4 ] && [ $# -le 5 ] || exit 2; run_oracle "$2" "$3" "$4" "${5:-}" ;;
h5pywrite) [ $# -ge 5 ] && [ $# -le 6 ] || exit 2; run_h5pywrite "$2" "$3" "$4" "$5" "${6:-}" ;;
pytables) [ $# -eq 5 ] || exit 2; run_pytables "$2" "$3" "$4" "$5" ;;
*) echo "usage: $0 h5dump|h5py|oracle|h5pywrite|pytables ..." >&2; exit 2 ;;
esac
echo "h5 interop ($mode): $pass passed, $fail failed"
[ "$fail" -eq 0 ]
