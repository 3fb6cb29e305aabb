# SPDX-License-Identifier: MIT
"""Seeds of the CSV fuzz target: valid and near-valid CSV, each behind the
option byte that tests/fuzz/csv/fuzz.c reads first (bits 0-1 the label
column: first, "1", "y", "0"; bit 3 also from a file, bits 4-7 its block)."""

TEXTS = [
    b"1,0.5,2\n0, -1 ,3e1\r\n\n \n2 ,1,\t1",
    b'a,"b, ""c""" , y\n1,2,3\n\n4,5,-6.0\n',
    b"y,x1,x2\r\n1,2,3\r\n0,1e-3,-7.25\r\n",
    b"x,y\n1.5,2\n-3,4\n",
    b"7,1\n",
    b"1,2,3\n1,2\n", b"a,b,c\n1,2,3\n\n1,2,3,4,5\n",
    b"1,2\n1,nan\n", b"1,NaN\n", b"1,2\ninf,2\n", b"1,,2\n", b"1,2,\n", b"a,,b\n",
    b"1.5,2\n", b'a,b\n1,"2"\n', b"a,b\n1,2 3\n", b"a,b,a\n1,2,3\n",
    b'"a,b\n1,2\n', b'"a"x,b\n', b'a"x,b\n', b"a\n1\n", b"a,b\n", b"", b"\n\n",
]


def seeds():
    out = []
    for t in TEXTS:
        for opt in (0x00, 0x09, 0x1A, 0x2B, 0xFA, 0x0B):
            out.append(bytes([opt]) + t)
    return out
