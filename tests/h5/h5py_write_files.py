#!/usr/bin/env python3
"""Write Blosc2 HDF5 files with Debian's h5py through tersa's filter plugin.

Usage: HDF5_PLUGIN_PATH=<tersa plugin dir> python3 h5py_write_files.py WORK_DIR

h5py knows nothing of Blosc2: it asks HDF5 for filter 32026, which HDF5 loads from
HDF5_PLUGIN_PATH, so every chunk below is compressed by tersa's plugin through HDF5's
pipeline. The cd_values follow the official filter: [0..3] are filled in by set_local,
[4] clevel, [5] filter (0 none, 1 shuffle, 2 bitshuffle), [6] codec (0 blosclz, 1 lz4,
2 lz4hc, 5 zstd).

Writes WORK_DIR/expected.tsv, one line per check:
    file  dataset  slice  sha256  description
where slice is - (the whole dataset) or a start:stop:step list, and sha256 is over the
selected items as little-endian bytes in C order (the oracle's and `tersa cat --raw`'s
convention). Exits 1 when the plugin cannot be loaded.
"""
import hashlib
import os
import sys

import h5py
import numpy as np

BLOSC2 = 32026
CODECS = {"blosclz": 0, "lz4": 1, "lz4hc": 2, "zstd": 5}
FILTERS = {"none": 0, "shuffle": 1, "bitshuffle": 2}


def digest(a):
    a = np.ascontiguousarray(a)
    if a.dtype.names is None and a.dtype.kind not in "SUV":
        a = a.astype(a.dtype.newbyteorder("<"))
    return hashlib.sha256(a.tobytes()).hexdigest()


def slice_spec(shape):
    """A strided selection crossing chunk edges, as start:stop:step per axis."""
    parts = []
    for n in shape:
        start = n // 5
        stop = max(start + 1, n - n // 7)
        parts.append(f"{start}:{stop}:{1 if n < 8 else 3}")
    return ",".join(parts)


def apply_slice(a, spec):
    idx = tuple(slice(*map(int, p.split(":"))) for p in spec.split(","))
    return a[idx]


def opts(clevel, filt, codec):
    return (0, 0, 0, 0, clevel, FILTERS[filt], CODECS[codec])


def detector(shape, seed):
    """Noisy detector-like frames: Poisson counts on a smooth background."""
    rng = np.random.default_rng(seed)
    grid = np.indices(shape[1:]).sum(axis=0) % 97
    bg = 20.0 + 5.0 * np.sin(grid / 15.0)
    return rng.poisson(np.broadcast_to(bg, shape)).astype(np.float32)


def datasets():
    """(file, name, array, chunks, cd options, extra create_dataset keywords, description)"""
    rng = np.random.default_rng(32026)
    rec = np.dtype([("id", "<i4"), ("x", "<f8"), ("tag", "S6"), ("v", "<u2", (3,))])
    recs = np.zeros(5003, rec)
    recs["id"] = np.arange(5003)
    recs["x"] = np.linspace(-1, 1, 5003)
    recs["tag"] = [b"r%d" % (i % 1000) for i in range(5003)]
    recs["v"] = rng.integers(0, 9, (5003, 3))
    words = np.array([b"alpha", b"beta", b"gamma", b"delta", b"epsilon-long"], "S12")
    return [
        ("r1.h5", "f4_blosclz_shuffle", np.linspace(0, 1e3, 10007, dtype="<f4"),
         (1000,), opts(5, "shuffle", "blosclz"), {}, "rank 1 f4, edge chunk, blosclz shuffle"),
        ("r1.h5", "u1_lz4_none", (np.arange(7777) % 251).astype("u1"),
         (4096,), opts(1, "none", "lz4"), {}, "rank 1 u1, lz4 no filter"),
        ("r2.h5", "i2_lz4_bitshuffle", rng.integers(-300, 300, (301, 257)).astype("<i2"),
         (64, 100), opts(5, "bitshuffle", "lz4"), {}, "rank 2 i2, edge chunks, lz4 bitshuffle"),
        ("r2.h5", "strings_zstd", words[rng.integers(0, 5, (120, 33))],
         (50, 16), opts(3, "shuffle", "zstd"), {}, "rank 2 S12 strings, zstd"),
        ("r2.h5", "f8_fletcher", np.sin(np.arange(200 * 90) / 50.0).reshape(200, 90),
         (64, 64), opts(5, "shuffle", "lz4"), {"fletcher32": True},
         "rank 2 f8, blosc2 then Fletcher32"),
        ("r3.h5", "f4_detector_zstd", detector((12, 130, 140), 1),
         (1, 130, 140), opts(9, "shuffle", "zstd"), {}, "rank 3 detector frames, zstd clevel 9"),
        ("r3.h5", "u8_lz4hc_bitshuffle", np.arange(9 * 40 * 33, dtype="<u8").reshape(9, 40, 33),
         (4, 16, 16), opts(5, "bitshuffle", "lz4hc"), {}, "rank 3 u8, lz4hc bitshuffle"),
        ("r4.h5", "i4_blosclz", rng.integers(0, 1000, (5, 6, 7, 31)).astype("<i4"),
         (2, 3, 4, 16), opts(5, "shuffle", "blosclz"), {}, "rank 4 i4, edge chunks"),
        ("r4.h5", "f2_lz4", rng.normal(size=(3, 4, 5, 9)).astype("<f2"),
         (3, 4, 5, 9), opts(5, "shuffle", "lz4"), {}, "rank 4 f2, one chunk"),
        ("rec.h5", "records", recs, (1000,), opts(5, "shuffle", "zstd"), {},
         "compound (i4, f8, S6, u2[3]), zstd"),
        ("zeros.h5", "zeros", np.zeros((64, 64, 8), "<f8"), (16, 64, 8),
         opts(5, "shuffle", "lz4"), {}, "all zeros (special chunks)"),
    ]


def write_plain(work, checks):
    for fname, name, a, chunks, cd, extra, desc in datasets():
        with h5py.File(os.path.join(work, fname), "a") as f:
            f.create_dataset(name, data=a, chunks=chunks, compression=BLOSC2,
                             compression_opts=cd, **extra)
        checks.append((fname, "/" + name, a, desc))


def write_appended(work, checks):
    """Detector frames appended along axis 0 in uneven pieces (resize + write)."""
    full = detector((23, 64, 48), 2)
    with h5py.File(os.path.join(work, "append.h5"), "w") as f:
        d = f.create_dataset("frames", shape=(0, 64, 48), maxshape=(None, 64, 48),
                             dtype="<f4", chunks=(4, 64, 48), compression=BLOSC2,
                             compression_opts=opts(5, "shuffle", "lz4"))
        at = 0
        for piece in (1, 5, 3, 8, 6):
            d.resize(at + piece, axis=0)
            d[at:at + piece] = full[at:at + piece]
            at += piece
    checks.append(("append.h5", "/frames", full, "rank 3 appended in 5 pieces, lz4"))


def main():
    if len(sys.argv) != 2:
        print("usage: h5py_write_files.py WORK_DIR", file=sys.stderr)
        return 2
    if not h5py.h5z.filter_avail(BLOSC2):
        print("h5py_write_files: filter 32026 not available; is HDF5_PLUGIN_PATH set?",
              file=sys.stderr)
        return 1
    work = sys.argv[1]
    checks = []
    write_plain(work, checks)
    write_appended(work, checks)
    with open(os.path.join(work, "expected.tsv"), "w") as out:
        for fname, dset, a, desc in checks:
            with h5py.File(os.path.join(work, fname), "r") as f:
                filters = f[dset]._filters
            if str(BLOSC2) not in filters:
                print(f"h5py_write_files: {fname} {dset} lacks filter 32026: {filters}",
                      file=sys.stderr)
                return 1
            spec = slice_spec(a.shape)
            out.write(f"{fname}\t{dset}\t-\t{digest(a)}\t{desc}\n")
            out.write(f"{fname}\t{dset}\t{spec}\t{digest(apply_slice(a, spec))}\t{desc}, slice\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
