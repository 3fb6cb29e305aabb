#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""gen.py: build a tiny valid IDX dataset and malformed files for the bad-input test.

usage: gen.py OUTDIR [--model MODEL.srm]

Writes OUTDIR/ok (a valid dataset: 200 training and 60 test images of 4x4 pixels,
3 classes, MNIST file names, some files gzip) and, for each malformed case, a file or
a dataset folder that differs from ok in one file. With --model, also writes corrupt
copies of MODEL (a .srm written by `softreg train`). Prints one line per file. Nothing
here is committed: every byte is generated (Python standard library only).

As a module, data_cases(), model_cases() and pgm_cases() return the cases as
(name, path, bad_file, reason_regex) tuples for test_badinput.py.
"""
import gzip
import os
import random
import shutil
import struct
import sys
import zlib

ROWS, COLS, K = 4, 4, 3
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx(dims, data, magic=None):
    """An IDX file: big-endian magic (0x0000 08 ndim unless given), dims, data."""
    head = magic if magic is not None else bytes([0, 0, 8, len(dims)])
    return head + b"".join(struct.pack(">I", d) for d in dims) + bytes(data)


def gz(data):
    return gzip.compress(data, mtime=0)


def images(n, rows=ROWS, cols=COLS, k=K, seed=1):
    """n images whose class c is a bright band at row c: learnable in one epoch."""
    rnd = random.Random(seed)
    px, lab = [], []
    for i in range(n):
        c = i % k
        lab.append(c)
        for j in range(rows * cols):
            px.append(200 if j // cols == c % rows else rnd.randint(0, 40))
    return px, lab


def dataset_files(n_train=200, n_test=60, rows=ROWS, cols=COLS, k=K):
    """The four files of a valid dataset, as {stem: bytes}; labels are gzip."""
    out = {}
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        px, lab = images(n, rows, cols, k, seed)
        out[prefix + "-images-idx3-ubyte"] = idx([n, rows, cols], px)
        out[prefix + "-labels-idx1-ubyte.gz"] = gz(idx([n], lab))
    return out


def write_dir(path, files):
    os.makedirs(path, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def variant(root, name, stem, data, gzip_name=False):
    """A copy of the ok dataset as root/name with file 'stem' replaced by 'data';
    returns (dir, path of the bad file)."""
    files = dataset_files()
    for key in list(files):
        if key.startswith(stem):
            del files[key]
    fname = stem + (".gz" if gzip_name else "")
    files[fname] = data
    d = os.path.join(root, name)
    shutil.rmtree(d, ignore_errors=True)
    write_dir(d, files)
    return d, os.path.join(d, fname)


def flip(data, at, mask=0xFF):
    b = bytearray(data)
    b[at] ^= mask
    return bytes(b)


def data_cases(root):
    """Malformed datasets: (name, dir, bad file, reason regex)."""
    px, lab = images(200)
    img, lab_idx = idx([200, ROWS, COLS], px), idx([200], lab)
    img_gz = gz(img)
    tpx, tlab = images(60, seed=2)
    I, L, TI, TL = STEMS
    specs = [
        ("idx-bad-magic", I, idx([200, 4, 4], px, magic=b"\x12\x34\x08\x03"), False, r"not an IDX file"),
        ("idx-float-type", I, idx([200, 4, 4], px, magic=b"\x00\x00\x0d\x03"), False, r"element type 0x0d"),
        ("idx-2-dims", I, idx([200, 16], px, magic=b"\x00\x00\x08\x02"), False, r"2 dimensions"),
        ("idx-empty-file", I, b"", False, r"truncated IDX header \(0 bytes\)"),
        ("idx-short-header", I, img[:9], False, r"truncated IDX header \(9 of 16 bytes\)"),
        ("idx-truncated-data", I, img[:-5], False, r"truncated: header claims 3216 bytes, file has 3211"),
        ("idx-trailing-junk", I, img + b"junk", False, r"trailing junk"),
        ("idx-claims-more-than-file", I, idx([60000, 28, 28], px), False,
         r"truncated: header claims 47040016 bytes, file has 3216"),
        ("idx-zero-dim", I, idx([0, 4, 4], []), False, r"no data \(a zero dimension\)"),
        ("idx-dims-overflow", I, idx([0xFFFFFFFF] * 3, px), False, r"more than the limit"),
        ("idx-huge-claim", I, idx([100000000, 28, 28], px), False, r"more than the limit"),
        ("idx-count-mismatch", L, gz(idx([199], lab[:199])), True, r"199 labels for 200 images"),
        ("idx-labels-as-images", I, lab_idx, False, r"expected an image file \(3 dimensions\), found 1"),
        ("idx-images-as-labels", L, img, False, r"expected a label file \(1 dimension\), found 3"),
        ("idx-test-label-too-big", TL, idx([60], tlab[:59] + [5]), False,
         r"row \d+: label 5 is not a class of the training set \(3 classes, 0\.\.2\)"),
        ("idx-one-class", L, idx([200], [0] * 200), False, r"every label is 0: at least 2 classes are needed"),
        ("idx-size-mismatch", TI, idx([60, 5, 5], (tpx * 2)[:60 * 25]), False,
         r"test images are 5x5, training images 4x4"),
        ("gz-truncated", I, img_gz[: len(img_gz) // 2], True, r"gzip trailer says \d+ \(mod 2\^32\): truncated"),
        ("gz-tiny", I, img_gz[:10], True, r"truncated gzip file"),
        ("gz-corrupt-deflate", I, img_gz[:12] + b"\xff" * 40 + img_gz[52:], True, r"corrupt gzip stream"),
        ("gz-bad-crc", I, flip(img_gz, len(img_gz) - 8), True, r"corrupt gzip stream \(incorrect data check\)"),
        # junk that ends like the trailer, so that only the inflater can tell
        ("gz-trailing-junk", I, img_gz + b"\x00junk" + img_gz[-4:], True,
         r"trailing junk after the end of the gzip stream"),
        ("gz-zero-padding", I, img_gz + bytes(512), True, r"gzip trailer says 0 .*followed by junk"),
        ("gz-second-member", I, img_gz + gz(b"x"), True, r"gzip trailer says 1 \(mod 2\^32\)"),
        ("gz-junk-inside", I, gz(img + b"junk"), True, r"header claims 3216 bytes, gzip trailer says 3220"),
        ("gz-forged-length", I, gz(idx([400, 4, 4], px))[:-4] + struct.pack("<I", 16 + 400 * 16), True,
         r"corrupt gzip stream \(incorrect length check\)|truncated"),
        ("gz-bad-magic-inside", I, gz(idx([200, 4, 4], px, magic=b"\x08\x03\x00\x00")), True, r"not an IDX file"),
        ("gz-truncated-stream", I, img_gz[:-30] + img_gz[-8:], True, r"truncated|corrupt"),
    ]
    cases = []
    for name, stem, data, is_gz, reason in specs:
        d, bad = variant(root, name, stem, data, is_gz)
        cases.append((name, d, bad, reason))
    # a folder where a file should be
    d, bad = variant(root, "idx-is-a-folder", TI, b"")
    os.remove(bad)
    os.mkdir(bad)
    cases.append(("idx-is-a-folder", d, bad, r"not a regular file"))
    return cases


# ---- .srm models: the layout of src/model.c (little-endian) ----
# 0 magic[8] 8 version 12 flags 16 k 20 d 24 rows 28 cols 32 prep 36 scale
# 40 epochs 44 reserved 48 seed[8] 56 test_accuracy[8] | 64: classes[k] (int64, version 2)
# [mean, inv_std] W b | state | crc


def reseal(data):
    """Recompute the CRC-32 over all but the last 4 bytes."""
    return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]) & 0xFFFFFFFF)


def put(data, off, fmt, value, seal=True):
    b = bytearray(data)
    struct.pack_into(fmt, b, off, value)
    return reseal(bytes(b)) if seal else bytes(b)


def model_cases(model_path, root):
    """Corrupt copies of a valid model (k=3, d=16, scale): (name, path, path, reason)."""
    with open(model_path, "rb") as f:
        m = f.read()
    w0 = 64 + 8 * K  # W starts after the header and the class table with the scale preprocessing
    b0 = w0 + 4 * K * ROWS * COLS
    specs = [
        ("srm-flipped-byte", flip(m, len(m) // 2, 0x10), r"CRC-32 mismatch"),
        ("srm-flipped-crc", flip(m, len(m) - 1), r"CRC-32 mismatch"),
        ("srm-truncated", m[:-7], r"truncated: %d bytes, the header implies %d" % (len(m) - 7, len(m))),
        ("srm-trailing-junk", m + b"\0\0\0\0", r"trailing junk"),
        ("srm-empty", b"", r"too short: 0 bytes"),
        ("srm-header-only", m[:64], r"too short: 64 bytes"),
        ("srm-bad-magic", b"SOFTREF\0" + m[8:], r"bad magic"),
        ("srm-version-3", put(m, 8, "<I", 3), r"format version 3, this softreg reads versions 1 to 2"),
        ("srm-version-1-with-table", put(m, 8, "<I", 1), r"trailing junk: \d+ bytes, the header implies \d+"),
        ("srm-classes-unsorted", put(m, 64, "<q", 5), r"class table is not strictly increasing"),
        ("srm-version-0", put(m, 8, "<I", 0), r"format version 0"),
        ("srm-unknown-flags", put(m, 12, "<I", 6), r"unknown flags 0x6"),
        ("srm-huge-k", put(m, 16, "<I", 0x7FFFFFFF), r"bad model dimensions k=2147483647"),
        ("srm-k-1", put(m, 16, "<I", 1), r"bad model dimensions k=1"),
        ("srm-huge-d", put(put(put(m, 20, "<I", 1 << 31), 24, "<I", 1 << 16), 28, "<I", 1 << 15),
         r"bad model dimensions k=3 d=2147483648"),
        ("srm-d-not-rows-cols", put(m, 24, "<I", 5), r"bad model dimensions k=3 d=16 \(5x4\)"),
        ("srm-bigger-k-than-file", put(m, 16, "<I", 4), r"truncated: \d+ bytes, the header implies \d+"),
        ("srm-unknown-prep", put(m, 32, "<I", 7), r"unknown preprocessing 7"),
        ("srm-nan-weight", put(m, w0 + 20, "<f", float("nan")), r"non-finite"),
        ("srm-inf-bias", put(m, b0 + 4, "<f", float("-inf")), r"non-finite"),
        ("srm-inf-scale", put(m, 36, "<f", float("inf")), r"non-finite"),
        ("srm-input-kind", put(m, 44, "<I", 7), r"unknown input kind 7"),
        ("srm-v1-reserved", put(put(m[:64] + m[64 + 8 * K:], 8, "<I", 1, seal=False), 44, "<I", 1),
         r"reserved field is not zero"),
        ("srm-accuracy-2", put(m, 56, "<d", 2.0), r"accuracy is not a fraction"),
        ("srm-accuracy-nan", put(m, 56, "<d", float("nan")), r"accuracy is not a fraction"),
    ]
    os.makedirs(root, exist_ok=True)
    cases = []
    for name, data, reason in specs:
        p = os.path.join(root, name + ".srm")
        with open(p, "wb") as f:
            f.write(data)
        cases.append((name, p, p, reason))
    return cases


def checkpoint_cases(ckpt_path, root):
    """Corrupt copies of a valid checkpoint (a model + training state), resealed
    so that the CRC holds and the checks behind it answer: (name, path, path, reason)."""
    with open(ckpt_path, "rb") as f:
        c = f.read()
    k, d = struct.unpack_from("<2I", c, 16)
    # the state: 64 fixed bytes, 32 of what a resume must match (version 2), then the velocity
    st = len(c) - 4 - (64 + 32 + 4 * (k * d + k))
    specs = [
        ("ckpt-rng-all-zeros", reseal(c[:st + 16] + bytes(32) + c[st + 48:]),
         r"random generator's state is all zeros"),
        ("ckpt-best-val-7", put(c, st + 48, "<d", 7.0), r"accuracy is not a fraction"),
        ("ckpt-reserved", put(c, st + 60, "<I", 9), r"reserved field is not zero"),
        ("ckpt-shuffle-2", put(c, st + 64 + 28, "<I", 2), r"the shuffle flag is 2, not 0 or 1"),
        ("ckpt-nan-velocity", put(c, st + 96 + 8, "<f", float("nan")), r"non-finite"),
        ("ckpt-no-state-flag", put(c, 12, "<I", 0), r"trailing junk"),
        ("ckpt-best-without-state", put(c, 12, "<I", 2), r"a best model without a training state"),
        ("ckpt-best-flag-no-data", put(c, 12, "<I", 3), r"truncated"),
        ("ckpt-truncated-state", reseal(c[:st + 40] + c[-4:]), r"truncated"),
    ]
    os.makedirs(root, exist_ok=True)
    cases = []
    for name, data, reason in specs:
        p = os.path.join(root, name + ".srm")
        with open(p, "wb") as f:
            f.write(data)
        cases.append((name, p, p, reason))
    return cases


def pgm_cases(root):
    """Malformed PGM images for a 4x4 model: (name, path, path, reason)."""
    px = " ".join(str(v) for v in range(0, 160, 10))
    specs = [
        ("pgm-bad-magic", b"P7\n4 4\n255\n" + bytes(16), r"not a PGM image"),
        ("pgm-p6-color", b"P6\n4 4\n255\n" + bytes(48), r"not a PGM image"),
        ("pgm-magic-junk", b"P5x4 4\n255\n" + bytes(16), r"not a PGM image"),
        ("pgm-maxval-0", b"P5\n4 4\n0\n" + bytes(16), r"bad PGM maxval"),
        ("pgm-maxval-huge", b"P5\n4 4\n70000\n" + bytes(32), r"bad PGM maxval"),
        ("pgm-negative-width", b"P2\n-4 4\n255\n" + px.encode(), r"bad PGM width or height"),
        ("pgm-zero-height", b"P2\n4 0\n255\n", r"bad PGM width or height"),
        ("pgm-huge", b"P5\n65535 65535\n255\n" + bytes(16), r"too large"),
        ("pgm-p2-missing-pixels", ("P2\n4 4\n255\n" + px[:20] + "\n").encode(), r"truncated|missing pixel"),
        ("pgm-p2-pixel-over-maxval", ("P2\n4 4\n100\n" + px + "\n").encode(), r"pixel 12 is 110, above maxval 100"),
        ("pgm-p2-garbage-pixel", ("P2\n4 4\n255\n12abc " + px[3:] + "\n").encode(), r"bad or missing pixel 1 of 16"),
        ("pgm-p2-trailing-junk", ("P2\n4 4\n255\n" + px + "\n17\n").encode(), r"trailing junk after 16 pixels"),
        ("pgm-p5-truncated", b"P5\n4 4\n255\n" + bytes(10), r"truncated: 10 of 16 pixel bytes"),
        ("pgm-p5-trailing-junk", b"P5\n4 4\n255\n" + bytes(20), r"4 bytes of trailing junk"),
        ("pgm-p5-16bit-over-maxval", b"P5\n4 4\n1000\n" + b"\x03\xe9" * 16, r"above maxval 1000"),
        ("pgm-p5-no-raster-space", b"P5\n4 4\n255", r"truncated PGM header"),
        ("pgm-wrong-size", b"P5\n5 5\n255\n" + bytes(25), r"image is 5x5, the model expects 4x4"),
        ("pgm-empty", b"P", r"not a PGM image"),
    ]
    os.makedirs(root, exist_ok=True)
    cases = []
    for name, data, reason in specs:
        p = os.path.join(root, name + ".pgm")
        with open(p, "wb") as f:
            f.write(data)
        cases.append((name, p, p, reason))
    return cases


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help") or len(argv) not in (2, 4):
        print("usage: gen.py OUTDIR [--model MODEL.srm]", file=sys.stderr if len(argv) < 2 else sys.stdout)
        return 0 if len(argv) >= 2 and argv[1] in ("-h", "--help") else 2
    out = argv[1]
    write_dir(os.path.join(out, "ok"), dataset_files())
    cases = data_cases(os.path.join(out, "data")) + pgm_cases(os.path.join(out, "pgm"))
    if len(argv) == 4:
        cases += model_cases(argv[3], os.path.join(out, "models"))
    for name, _, bad, reason in cases:
        print("%-28s %s  (%s)" % (name, bad, reason))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))


# ---- .npy, libsvm and CSV: the readers of users' own data ----

def npy(arr_bytes, descr, shape, version=1, fortran=False):
    """An .npy file: the header dict padded to a multiple of 64 bytes."""
    shape_s = "(%s)" % ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "")
    if len(shape) == 1:
        shape_s = "(%d,)" % shape[0]
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape_s)
    lenfmt = "<H" if version == 1 else "<I"
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(d) + 1) % 64) % 64
    h = d + " " * pad + "\n"
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack(lenfmt, len(h)) + h.encode() + arr_bytes


def format_files(root):
    """Valid small files of every format (20 rows, 16 features, 3 classes)."""
    os.makedirs(root, exist_ok=True)
    n, d = 20, 16
    xs = [[((i * 7 + j * 3) % 11) / 10.0 for j in range(d)] for i in range(n)]
    ys = [i % 3 for i in range(n)]
    files = {}

    def write(name, data):
        p = os.path.join(root, name)
        with open(p, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        files[name] = p

    write("x.npy", npy(b"".join(struct.pack("<f", v) for r in xs for v in r), "<f4", (n, d)))
    write("y.npy", npy(b"".join(struct.pack("<q", y) for y in ys), "<i8", (n,)))
    write("ok.svm", "".join("%d %s\n" % (y, " ".join("%d:%g" % (j + 1, v) for j, v in enumerate(r) if v))
                            for r, y in zip(xs, ys)))
    write("ok.csv", "label," + ",".join("f%d" % j for j in range(d)) + "\n" +
          "".join("%d,%s\n" % (y, ",".join("%g" % v for v in r)) for r, y in zip(xs, ys)))
    return files, xs, ys


def format_cases(root):
    """Malformed .npy, libsvm and CSV files: (name, features, labels or None, bad file, reason)."""
    ok, xs, ys = format_files(os.path.join(root, "ok"))
    n, d = len(xs), len(xs[0])
    bad_root = os.path.join(root, "bad")
    os.makedirs(bad_root, exist_ok=True)
    f32 = b"".join(struct.pack("<f", v) for r in xs for v in r)
    i64 = b"".join(struct.pack("<q", y) for y in ys)
    nan_row = bytearray(f32)
    struct.pack_into("<f", nan_row, 4 * (2 * d + 5), float("nan"))
    specs = [  # (name, as features (True) or labels, bytes, reason)
        ("npy-truncated-header", True, npy(f32, "<f4", (n, d))[:30], r"truncated"),
        ("npy-bad-magic", True, b"\x93NUMPZ" + npy(f32, "<f4", (n, d))[6:], r"not an \.npy file|magic"),
        ("npy-shape-vs-size", True, npy(f32, "<f4", (n + 5, d)), r"truncated|bytes"),
        ("npy-trailing-junk", True, npy(f32 + b"xxxx", "<f4", (n, d)), r"trailing"),
        ("npy-fortran", True, npy(f32, "<f4", (d, n), fortran=True), r"Fortran"),
        ("npy-complex", True, npy(f32 + f32, "<c8", (n, d)), r"dtype '<c8' is not supported"),
        ("npy-3d", True, npy(f32, "<f4", (n, 4, 4)), r"2-D"),
        ("npy-nan", True, npy(bytes(nan_row), "<f4", (n, d)), r"row 3 holds a NaN or infinite"),
        ("npy-bad-dict", True, npy(f32, "<f4", (n, d)).replace(b"'shape'", b"'shapf'"), r"shapf|key"),
        ("npy-float-labels", False, npy(b"".join(struct.pack("<f", y) for y in ys), "<f4", (n,)),
         r"labels must be integers"),
        ("npy-labels-count", False, npy(i64[:-8], "<i8", (n - 1,)), r"19 labels for 20 rows"),
    ]
    cases = []
    for name, feats, data, reason in specs:
        p = os.path.join(bad_root, name + ".npy")
        with open(p, "wb") as f:
            f.write(data)
        if feats:
            cases.append((name, p, ok["y.npy"], p, reason))
        else:
            cases.append((name, ok["x.npy"], p, p, reason))
    good_svm = open(ok["ok.svm"]).read().splitlines()
    svm_specs = [  # (name, line 3 replaced by, reason)
        ("svm-index-order", "1 3:1 2:1", r"line 3: .*index 2 .*not greater|line 3: .*increasing"),
        ("svm-no-colon", "1 3 4:1", r"line 3: no ':' after the index"),
        ("svm-bad-value", "1 3:abc", r"line 3: the value 'abc' of index 3 is not a number"),
        ("svm-nan-value", "1 3:nan", r"line 3: the value 'nan' of index 3 is not a finite"),
        ("svm-fractional-label", "1.5 3:1", r"line 3: .*label"),
        ("svm-index-zero", "1 0:1", r"line 3: .*index"),
        ("svm-bad-label", "abc 3:1", r"line 3: .*label"),
    ]
    for name, line, reason in svm_specs:
        p = os.path.join(bad_root, name + ".svm")
        with open(p, "w") as f:
            f.write("\n".join(good_svm[:2] + [line] + good_svm[3:]) + "\n")
        cases.append((name, p, None, p, reason))
    good_csv = open(ok["ok.csv"]).read().splitlines()
    csv_specs = [  # (name, line 4 replaced by, reason)
        ("csv-wrong-width", "1,0.5,0.5", r"line 4: 3 fields"),
        ("csv-empty-field", "1," + ",".join(["0.5"] * (d - 2)) + ",,0.5", r"line 4: .*empty"),
        ("csv-nan", "1," + ",".join(["nan"] * d), r"line 4: field 2: 'nan' is not a finite"),
        ("csv-fractional-label", "1.5," + ",".join(["0.5"] * d), r"line 4: .*label"),
        ("csv-text", "1," + ",".join(["x"] * d), r"line 4: field 2: 'x' is not a number"),
    ]
    for name, line, reason in csv_specs:
        p = os.path.join(bad_root, name + ".csv")
        with open(p, "w") as f:
            f.write("\n".join(good_csv[:3] + [line] + good_csv[4:]) + "\n")
        cases.append((name, p, None, p, reason))
    return ok, cases
