#!/usr/bin/env python3
"""Read Blosc2 HDF5 datasets with Debian's PyTables through tersa's filter plugin.

Usage: HDF5_PLUGIN_PATH=<tersa plugin dir> python3 pytables_read_files.py LIST...

Each LIST is a tab-separated file of `file dataset sha256 ...` lines (paths relative to the
list's folder) as tersa_h5_writefiles writes, or of `file dataset slice sha256 ...` lines as
h5py_write_files.py writes (whole-dataset rows, slice '-', are used), or the fixtures'
MANIFEST.tsv (rows of kind hdf5; columns found by name). Debian's
PyTables 3.7 has no Blosc2 filter of its own (its Blosc is filter 32001), so every chunk goes
through HDF5's pipeline and the plugin. A dataset is read with PyTables' node API (an Array,
or a Table for compound types) and hashed as little-endian bytes in C order. Prints one line
per dataset; exits 1 on any mismatch.
"""
import csv
import os
import sys

import tables

from h5py_write_files import digest  # the same hashing convention (this script's folder)


def is_digest(s):
    return len(s) == 64 and all(c in "0123456789abcdef" for c in s)


def rows(listing):
    """(file, dataset, sha256) from a MANIFEST.tsv or an expected.tsv."""
    base = os.path.dirname(listing)
    with open(listing, newline="") as f:
        first = f.readline()
        f.seek(0)
        if first.startswith("path\t"):
            for r in csv.DictReader(f, delimiter="\t"):
                if r["kind"] == "hdf5":
                    yield os.path.join(base, r["path"]), r["dataset"], r["sha256_array_c_order"]
        else:
            for line in f:  # file dset sha [desc], or file dset slice|- sha desc
                cols = line.rstrip("\n").split("\t")
                if len(cols) >= 3 and is_digest(cols[2]):
                    yield os.path.join(base, cols[0]), cols[1], cols[2]
                elif len(cols) >= 4 and cols[2] == "-" and is_digest(cols[3]):
                    yield os.path.join(base, cols[0]), cols[1], cols[3]


def main():
    bad = n = 0
    for listing in sys.argv[1:]:
        for path, dset, want in rows(listing):
            try:
                with tables.open_file(path, "r") as h:
                    node = h.get_node(dset)
                    got = digest(node.read())
            except Exception as e:  # report and go on
                got = f"error {type(e).__name__}: {e}"
            ok = got == want
            bad += not ok
            n += 1
            name = os.path.basename(path) + " " + dset
            print(f"{'ok' if ok else 'FAIL':5} {name:50} {got[:16] if ok else got}")
    print(f"pytables: {n - bad} of {n} datasets read to the expected digests")
    return 1 if bad or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
