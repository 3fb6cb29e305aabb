# SPDX-License-Identifier: MIT
"""The ctypes mirrors of softreg.h's structs against the C compiler: every
field's offset and size and every struct's size, as tests/python/layout.c
prints them ($PY_LAYOUT)."""
import ctypes
import os
import subprocess
import unittest

import common

from softreg import _lib


def c_layout():
    exe = os.environ.get("PY_LAYOUT") or os.path.join(common.BUILD, "tests", "python", "py_layout")
    out = subprocess.run([exe], check=True, capture_output=True, text=True).stdout
    fields, sizes = {}, {}
    for line in out.splitlines():
        parts = line.split()
        if parts[1] == "sizeof":
            sizes[parts[0]] = int(parts[2])
        else:
            fields[(parts[0], parts[1])] = (int(parts[2]), int(parts[3]))
    return fields, sizes


class Layout(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fields, cls.sizes = c_layout()

    def test_struct_sizes(self):
        for name, cls in _lib.STRUCTS.items():
            with self.subTest(struct=name):
                self.assertEqual(ctypes.sizeof(cls), self.sizes[name], f"sizeof(struct {name})")

    def test_every_field(self):
        for name, cls in _lib.STRUCTS.items():
            mirrored = set()
            for fname, ftype in cls._fields_:
                mirrored.add(fname)
                with self.subTest(struct=name, field=fname):
                    self.assertIn((name, fname), self.fields, f"{name}.{fname} is not in struct {name}")
                    off, size = self.fields[(name, fname)]
                    self.assertEqual(getattr(cls, fname).offset, off, f"offsetof({name}, {fname})")
                    self.assertEqual(ctypes.sizeof(ftype), size, f"sizeof({name}.{fname})")
            c_fields = {f for (s, f) in self.fields if s == name}
            self.assertEqual(c_fields, mirrored, f"struct {name}: fields of C and of the mirror differ")

    def test_enums_and_sig_atomic_t(self):
        self.assertEqual(ctypes.sizeof(_lib.c_enum), self.sizes["enum"])
        self.assertEqual(ctypes.sizeof(_lib.c_sig_atomic_t), self.sizes["sig_atomic_t"])

    def test_library_is_the_build(self):
        want = os.environ.get("SOFTREG_LIB")
        if want:
            self.assertEqual(_lib.lib_path, want)

    def test_params_default_through_mirror(self):
        # softreg_params_default() writes the struct; the mirror must read the README's defaults back
        p = _lib.new(_lib.Params)
        _lib.lib.softreg_params_default(ctypes.byref(p))
        self.assertEqual((p.solver, p.epochs, p.batch, p.lr, p.momentum, p.l2, p.schedule, p.seed, p.shuffle,
                          p.history, p.tol, p.eval_every),
                         (_lib.SOLVER_SGD, 2, 100, 0.3, 0.9, 0.0, _lib.SCHEDULE_COSINE, 1, 1, 10, 1e-5, 1))
        self.assertFalse(p.kernel)
        self.assertIsNone(_lib.lib.softreg_check_params(ctypes.byref(p)))

    def test_kernel_table_through_mirror(self):
        for name in ("naive", "blas", "sparse"):
            k = _lib.lib.softreg_kernel_by_name(name.encode())
            self.assertTrue(k)
            self.assertEqual(k.contents.name.decode(), name)
        self.assertFalse(_lib.lib.softreg_kernel_by_name(b"auto"))


if __name__ == "__main__":
    common.main()
