# SPDX-License-Identifier: MIT
"""Seeds of the libsvm fuzz target: valid and near-valid libsvm text, each
behind the option byte that tests/fuzz/libsvm/fuzz.c reads first (bit 0
zero_based, bits 1-2 opts.d, bit 3 also from a file, bits 4-7 its block)."""

TEXTS = [
    b"1 1:0.5 3:-2\n-1 2:1e3 # a comment\n\n# only a comment\n+1 1:1.0 4:0\r\n1.0\t2:3.25\n2e0 5:7",
    b"0 0:1 2:2\n1 1:3\n",
    b"3 2:1 9:0\n\t 7 \t1:1\t\t2:2 \t#c\n8 3:.5#c\n",
    b"9223372036854775807 1:1\n-9223372036854775808 2147483647:-1e-3\n",
    b"1 1:0.1 2:123456789012345678901234 3:1.5e-7 4:-0.000001 5:1e-50\n",
    b"1\n2 # labels alone\n",
    b"1 1:1\n\n2 3:1 2:1\n",      # an index out of order
    b"1 1:1\n1 2\n",              # no colon
    b"1 :3\n", b"1 2:\n", b"1 2: 3\n", b"1 2:3x\n", b"1 2:1e\n",
    b"1 2:nan\n", b"1 2:-Infinity\n", b"1 2:1e39\n",
    b"1.5 1:1\n", b"abc 1:1\n", b"nan 1:1\n", b"9223372036854775808 1:1\n",
    b"1 0:1\n", b"1 -1:1\n", b"1 2147483648:1\n", b"1 1:1\r\r\n", b"1 1:1\0 2:2\n",
    b"", b"# c\n\n  \n",
]


def mnist_like(rows):
    out = []
    for i in range(rows):
        feats = " ".join("%d:0.%03d" % (j, (i * 7 + j * 13) % 1000) for j in range(100 + i, 784, 5))
        out.append("%d %s" % (i % 10, feats))
    return ("\n".join(out) + "\n").encode()


def seeds():
    out = []
    for t in TEXTS + [mnist_like(3)]:
        for opt in (0x00, 0x08, 0x09, 0x1A, 0x3C, 0x4F, 0xF8):
            out.append(bytes([opt]) + t)
    return out
