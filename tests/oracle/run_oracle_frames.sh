#!/usr/bin/env bash
# Decode frames written by tersa with the independent oracle (h5wasm + the official HDF5 Blosc2
# filter, c-blosc2 2.17.1) and compare the digests of the decoded arrays with tersa's input.
#
# Usage: run_oracle_frames.sh PROGRAM ORACLE_DIR WORK_DIR [ORACLE_SRC]
#   PROGRAM     tersa_oracle_frames or tersa_oracle_arrays (writes WORK_DIR/*.b2frame and
#               WORK_DIR/frames.tsv: file, dtype, shape, sha256, description per line; the shape
#               is that of the HDF5 dataset, i.e. the whole b2nd array or plain chunk 0)
#   ORACLE_DIR  where scripts/oracle-setup.sh installs the oracle (once; later runs reuse it)
#   WORK_DIR    scratch folder for the frames and HDF5 files (recreated)
#   ORACLE_SRC  the oracle's source folder (default ../shared/oracle beside the repository)
# Prints one line per frame and a summary; exits 1 on any mismatch or error, 2 on bad usage.
set -uo pipefail

[ $# -ge 3 ] && [ $# -le 4 ] || {
    echo "usage: $0 PROGRAM ORACLE_DIR WORK_DIR [ORACLE_SRC]" >&2
    exit 2
}
program=$1 oracle=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

bash "$repo/scripts/oracle-setup.sh" "$oracle" ${4:+"$4"} || {
    echo "run_oracle_frames: oracle setup failed" >&2
    exit 1
}
rm -rf "$work" && mkdir -p "$work" || exit 1
# Absolute paths: the oracle runs from its own folder.
work=$(cd "$work" && pwd) && oracle=$(cd "$oracle" && pwd) || exit 1
"$program" "$work" || {
    echo "run_oracle_frames: $program failed to write the frames" >&2
    exit 1
}

# One frame: wrap it into an HDF5 file, decode it with the oracle; print "sha256" or "ERROR: ...".
decode_one() {
    local frame=$1 dtype=$2 shape=$3 h5=$4 out
    out=$(/usr/bin/python3 "$oracle/wrap_frame.py" "$frame" "$h5" --dtype "$dtype" \
          --shape "$shape" 2>&1) || { echo "ERROR: wrap_frame.py: ${out##*$'\n'}"; return; }
    out=$(cd "$oracle" && node h5digest.mjs "$h5" /data 2>&1)
    local sha
    sha=$(printf '%s\n' "$out" | sed -n 's/.*"sha256": *"\([0-9a-f]\{64\}\)".*/\1/p' | head -n1)
    if [ -n "$sha" ]; then
        echo "$sha"
    else
        echo "ERROR: h5digest: $(printf '%s' "$out" | tr '\n' ' ' | cut -c1-300)"
    fi
}

# Decode in parallel (each run is mostly start-up latency), then report in the TSV's order.
jobs_max=${TERSA_ORACLE_JOBS:-4}
while IFS=$'\t' read -r file dtype shape want desc; do
    [ -n "$file" ] || continue
    name=${file%.b2frame}
    decode_one "$work/$file" "$dtype" "$shape" "$work/$name.h5" >"$work/$name.got" </dev/null &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
done <"$work/frames.tsv"
wait

pass=0 fail=0
printf '%-6s %-32s %-5s %8s  %-21s %s\n' result frame dtype items sha256 description
while IFS=$'\t' read -r file dtype shape want desc; do
    [ -n "$file" ] || continue
    name=${file%.b2frame}
    got=$(cat "$work/$name.got" 2>/dev/null)
    if [ "$got" = "$want" ]; then
        result=ok pass=$((pass + 1)) shown=${got:0:16}
    else
        result=FAIL fail=$((fail + 1)) shown="want ${want:0:16}"
    fi
    printf '%-6s %-32s %-5s %8s  %-21s %s\n' "$result" "$name" "$dtype" "$shape" "$shown" "$desc"
    [ "$result" = ok ] || echo "       got: ${got:-nothing}"
done <"$work/frames.tsv"

total=$((pass + fail))
if [ "$total" -eq 0 ]; then
    echo "run_oracle_frames: frames.tsv lists no frame" >&2
    exit 1
fi
echo "$(basename "$program"): $pass of $total frames decoded identically by c-blosc2 2.17.1 (h5wasm)"
[ "$fail" -eq 0 ]
