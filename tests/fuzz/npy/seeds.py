# SPDX-License-Identifier: MIT
"""Seeds for tests/fuzz/npy: .npy files built by hand (no numpy needed), each
after the option byte of fuzz.c (bit 0 labels, bit 1 also from a file, bit 2
fix the header length): every dtype and header version, and near misses."""
import struct

FLOATS = [0.5, -1.25, 3.0, 0.0, 1e-3, -7.5]


def npy(descr, shape, data, major=1, fortran=False, align=64, rem=0, dict_text=None):
    """The bytes numpy writes: magic, version, header length, the dict padded
    with spaces and a newline so that the data starts at rem modulo align."""
    if dict_text is None:
        dims = "(%s)" % ("".join("%d," % shape[0]) if len(shape) == 1 else ", ".join(map(str, shape)))
        dict_text = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, dims)
    start = 10 if major == 1 else 12
    text = dict_text.encode()
    while (start + len(text) + 1) % align != rem:
        text += b" "
    text += b"\n"
    size = struct.pack("<H", len(text)) if major == 1 else struct.pack("<I", len(text))
    return b"\x93NUMPY" + bytes([major, 0]) + size + text + bytes(data)


def pack(descr, values):
    order = {"<": "<", ">": ">", "|": "<", "=": "<"}[descr[0]]
    code = {"f2": "e", "f4": "f", "f8": "d", "u1": "B", "i1": "b", "b1": "B", "u2": "H", "i2": "h",
            "u4": "I", "i4": "i", "u8": "Q", "i8": "q"}[descr[1:]]
    return struct.pack(order + code * len(values), *values)


def seeds():
    out = []
    feats = [npy("|u1", (2, 3), [0, 1, 2, 200, 254, 255], major=m) for m in (1, 2, 3)]
    for d in ("<f2", ">f2", "<f4", ">f4", "<f8", ">f8"):
        feats += [npy(d, (2, 3), pack(d, FLOATS), major=m) for m in (1, 2, 3)]
    feats.append(npy("<f4", (3, 2), pack("<f4", FLOATS), align=4, rem=2))  # unaligned: copied
    feats.append(npy("<f4", (1, 1), pack("<f4", [2.0]), align=1))
    for f in feats:
        out += [bytes([0]) + f, bytes([2]) + f, bytes([6]) + f]
    ints = [0, 1, 5, 100, 7]
    signed = [-1, 0, 5, -100, 127]
    for d in ("|u1", "|i1", "<u2", ">u2", "<i2", ">i2", "<u4", ">u4", "<i4", ">i4", "<u8", ">u8", "<i8", ">i8"):
        vals = signed if d[1] == "i" else ints
        for m in (1, 3):
            f = npy(d, (5,), pack(d, vals), major=m)
            out += [bytes([1]) + f, bytes([3]) + f]
    out += [bytes([3]) + npy("|b1", (4,), [0, 1, 1, 0]), bytes([3]) + npy("<i4", (3, 1), pack("<i4", [1, 2, 3]))]
    f32 = pack("<f4", FLOATS)
    good = npy("<f4", (2, 3), f32)
    broken = [
        (0, b""), (0, good[:7]), (0, good[:40]), (2, good[:-1]), (2, good + b"junk"),
        (2, good[:6] + b"\x04\x00" + good[8:]),                       # version 4.0
        (2, good[:8] + b"\xff\xff" + good[10:]),                      # header length beyond the file
        (2, npy("<f4", (2, 3), f32, fortran=True)), (2, npy("<f4", (6,), f32)),
        (2, npy("<f4", (1, 2, 3), f32)), (2, npy("<c8", (3, 1), f32)), (2, npy("<i4", (2, 3), f32)),
        (2, npy("<f4", (2, 3), pack("<f4", [1, 2, 3, 4, float("nan"), 6]))),
        (2, npy("<f8", (3, 1), pack("<f8", [1, 1e300, 2]))),
        (2, npy("<f4", (4, 3), f32)), (2, npy("<f4", (0, 3), b"")),
        (6, npy("", (), f32, dict_text="{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }")),
        (6, npy("", (), f32, dict_text="{'shape':(2,3),'descr':'<f4','fortran_order':False}")),
        (6, npy("", (), f32, dict_text="{'descr': '<f4', 'fortran_order': False, 'shape': (6)}")),
        (6, npy("", (), f32, dict_text="{'descr': '<f4', 'descr': '<f4', 'shape': (2, 3)}")),
        (6, npy("", (), f32, dict_text="{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,)}")),
        (2, good[:-len(f32) - 1] + f32),                              # no newline: the header runs into the data
        (3, npy("<f4", (6,), f32)), (3, npy("<u8", (2,), pack("<u8", [1, 2**63]))),
        (3, npy("|b1", (3,), [0, 1, 2])), (3, npy("<i4", (3, 2), pack("<i4", [1] * 6))),
    ]
    out += [bytes([opt]) + b for opt, b in broken]
    return out
