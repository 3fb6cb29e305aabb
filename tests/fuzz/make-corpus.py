#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""make-corpus.py: small seed corpora for the libFuzzer targets of tests/fuzz.

usage: make-corpus.py TARGET OUTDIR      (TARGET: idx, model, pgm, or a folder with seeds.py; or all)

Writes valid and near-valid inputs, each with the option byte its target reads
first (see tests/fuzz/TARGET/fuzz.c), one file per seed. Nothing is committed:
scripts/fuzz calls this into its scratch folder before every run.
"""
import gzip
import os
import struct
import sys
import zlib


def idx(dims, data):
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def idx_seeds():
    labels = idx([5], [0, 1, 2, 1, 0])
    images = idx([2, 3, 3], range(18))
    raw = [labels, images, idx([1, 1, 1], [7]), labels[:-1], images + b"x", labels[:6],
           idx([0, 3, 3], []), bytes([0, 0, 8, 2, 0, 0, 0, 1])]
    seeds = []
    for i, r in enumerate(raw):
        seeds.append(bytes([0]) + r)                       # in memory
        seeds.append(bytes([1]) + r)                       # a raw file
        seeds.append(bytes([2]) + r)                       # gzipped by the target
        z = gzip.compress(r, mtime=0)
        seeds.append(bytes([1]) + z)                       # a gzip file
        if i < 2:
            seeds.append(bytes([1]) + z[: len(z) - 6])    # truncated gzip
            seeds.append(bytes([1]) + z + b"\0")          # junk after the stream
            seeds.append(bytes([0x80]) + r)                # the small byte limit
    # inflater-only errors: junk after the stream or inside it, behind a trailer
    # whose length field agrees with the header; and an output past 1 MiB
    z = gzip.compress(images, mtime=0)
    seeds.append(bytes([1]) + z + b"junk" + z[-4:])
    z = gzip.compress(images + b"junk", mtime=0)
    seeds.append(bytes([1]) + z[:-4] + struct.pack("<I", len(images)))
    seeds.append(bytes([1]) + gzip.compress(idx([1, 1100, 1000], bytes(1100 * 1000)), mtime=0))
    return seeds


def srm(k, rows, cols, prep=0, state=False, epochs=3, acc=0.5, rng=(1, 2, 3, 4), version=2, classes=None):
    """A .srm file as src/model.c writes it (little-endian, CRC-32 last)."""
    d = rows * cols
    f = lambda xs: b"".join(struct.pack("<f", x) for x in xs)  # noqa: E731
    b = b"SOFTREG\0" + struct.pack("<7I", version, 1 if state else 0, k, d, rows, cols, prep)
    b += struct.pack("<fII", 1.0 if prep else 1 / 255, epochs, 0) + struct.pack("<Qd", 42, acc)
    if version >= 2:
        b += b"".join(struct.pack("<q", c) for c in (classes if classes is not None else range(k)))
    if prep:
        b += f([0.5 * j for j in range(d)]) + f([1.0 / (j + 1) for j in range(d)])
    b += f([(i - j) / 8 for i in range(k) for j in range(d)]) + f([0.25 * i for i in range(k)])
    if state:
        b += struct.pack("<IIQ4QdII", epochs, 0, 99, *rng, -1.0, 0, 0)
        b += f([0.01 * i for i in range(k * d + k)])
    return b + struct.pack("<I", zlib.crc32(b) & 0xFFFFFFFF)


def model_seeds():
    files = [srm(2, 1, 1), srm(3, 2, 2, prep=1), srm(2, 1, 3, state=True), srm(4, 2, 3, prep=1, state=True),
             srm(2, 1, 2, acc=-1.0), srm(2, 1, 1, state=True, rng=(0, 0, 0, 0)), srm(2, 1, 1, version=1),
             srm(3, 1, 2, prep=1, state=True, version=1), srm(3, 1, 2, classes=[-1, 7, 1000]),
             srm(3, 1, 2, classes=[5, 5, 6])]
    seeds = []
    for m in files:
        for opt in range(8):   # bit 0: fix the CRC; bit 1: ask for the state; bit 2: from a file
            seeds.append(bytes([opt]) + m)
        seeds.append(bytes([1]) + m[:-8] + m[-4:])      # truncated, CRC fixed
        seeds.append(bytes([0]) + m[:40])
    return seeds


def pgm_seeds():
    return [
        b"P2\n# a comment\n3 2\n# another\n15\n0 15 7\n1 2 3\n",
        b"P2 2 2 65535 0 65535 1000 40000\n",
        b"P5\n2 1\n255\n\x09\xc8",
        b"P5 2 2 1000\n\x03\xe8\x00\x00\x01\x00\x02\x00",
        b"P5\n2 1\n255# c\n\x09\xc8",
        b"P5\n2 1\n255\n\x09",
        b"P2\n1 1\n1\n1",
        b"P2\n2 2\n255\n1 2 3\n",
    ]


TARGETS = {"idx": idx_seeds, "model": model_seeds, "pgm": pgm_seeds}


def add_folder_targets():
    """A target folder may bring its own seeds: tests/fuzz/TARGET/seeds.py
    with a function seeds() returning a list of byte strings."""
    import importlib.util
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        path = os.path.join(here, name, "seeds.py")
        if name in TARGETS or not os.path.isfile(path):
            continue
        spec = importlib.util.spec_from_file_location("seeds_" + name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        TARGETS[name] = mod.seeds


add_folder_targets()


def main(argv):
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[2])
        return 0
    if len(argv) != 3 or (argv[1] not in TARGETS and argv[1] != "all"):
        print("usage: make-corpus.py TARGET OUTDIR  (TARGET: %s or all)" % ", ".join(TARGETS), file=sys.stderr)
        return 2
    names = list(TARGETS) if argv[1] == "all" else [argv[1]]
    for name in names:
        out = argv[2] if argv[1] != "all" else os.path.join(argv[2], name)
        os.makedirs(out, exist_ok=True)
        seeds = TARGETS[name]()
        for i, s in enumerate(seeds):
            with open(os.path.join(out, "seed-%03d" % i), "wb") as f:
                f.write(s)
        print("%s: %d seeds in %s" % (name, len(seeds), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
