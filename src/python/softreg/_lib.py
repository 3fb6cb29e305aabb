# SPDX-License-Identifier: MIT
"""_lib.py: libsoftreg through ctypes: finding the library, the C structs
mirrored field by field (tests/python/test_layout.py checks them against the
C compiler), the function prototypes, and errors as Python exceptions.

Nothing here copies data: a dataset is filled with the addresses of numpy
buffers, which must stay alive (and unchanged) while the library uses them.
"""
import ctypes
import ctypes.util
import os

__all__ = ["lib", "lib_path", "Source", "Dataset", "Model", "Params", "EpochInfo", "Report", "Kernel", "Batch",
           "ProgressFn", "check", "ERRLEN"]

ERRLEN = 1024  # SOFTREG_ERRLEN

# enum softreg_result
OK, ERR_IO, ERR_FORMAT, ERR_NOMEM, ERR_PARAM, ERR_MISMATCH, ERR_DIVERGED, ERR_INTERRUPTED = range(8)
# enum softreg_source_kind
SOURCE_U8, SOURCE_F32, SOURCE_F16, SOURCE_CSR = range(4)
# enum softreg_input, enum softreg_prep, enum softreg_solver, enum softreg_schedule
INPUT_UINT8, INPUT_REAL = range(2)
PREP_SCALE, PREP_STANDARDIZE = range(2)
SOLVER_SGD, SOLVER_LBFGS = range(2)
SCHEDULE_CONST, SCHEDULE_STEP, SCHEDULE_COSINE = range(3)

c_size_t = ctypes.c_size_t
c_enum = ctypes.c_int  # every enum of softreg.h has values 0..7: int on the x86-64 and aarch64 ABIs
c_sig_atomic_t = ctypes.c_int  # glibc: typedef int sig_atomic_t


class Source(ctypes.Structure):
    """struct softreg_source"""
    _fields_ = [
        ("kind", c_enum),
        ("n", c_size_t),
        ("d", c_size_t),
        ("data", ctypes.c_void_p),
        ("indptr", ctypes.POINTER(ctypes.c_uint64)),
        ("indices", ctypes.POINTER(ctypes.c_uint32)),
        ("values", ctypes.POINTER(ctypes.c_float)),
        ("origin", ctypes.c_int),
        ("indices16", ctypes.POINTER(ctypes.c_uint16)),
        ("values8", ctypes.POINTER(ctypes.c_uint8)),
    ]


class Dataset(ctypes.Structure):
    """struct softreg_dataset"""
    _fields_ = [
        ("x", Source),
        ("n", c_size_t),
        ("d", c_size_t),
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("labels", ctypes.POINTER(ctypes.c_int64)),
        ("y", ctypes.POINTER(ctypes.c_uint32)),
        ("dropped", c_size_t),
        ("mem_", ctypes.c_void_p * 4),
        ("map_", ctypes.c_void_p),
        ("map_len_", c_size_t),
    ]


class Model(ctypes.Structure):
    """struct softreg_model"""
    _fields_ = [
        ("k", c_size_t),
        ("d", c_size_t),
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("input", c_enum),
        ("prep", c_enum),
        ("scale", ctypes.c_float),
        ("mean", ctypes.POINTER(ctypes.c_float)),
        ("inv_std", ctypes.POINTER(ctypes.c_float)),
        ("W", ctypes.POINTER(ctypes.c_float)),
        ("b", ctypes.POINTER(ctypes.c_float)),
        ("classes", ctypes.POINTER(ctypes.c_int64)),
        ("epochs", ctypes.c_uint32),
        ("seed", ctypes.c_uint64),
        ("test_accuracy", ctypes.c_double),
        ("mem_", ctypes.c_void_p),
    ]


class EpochInfo(ctypes.Structure):
    """struct softreg_epoch_info"""
    _fields_ = [
        ("epoch", ctypes.c_uint32),
        ("epochs", ctypes.c_uint32),
        ("batch", c_size_t),
        ("batches", c_size_t),
        ("batch_size", c_size_t),
        ("train_loss", ctypes.c_double),
        ("train_accuracy", ctypes.c_double),
        ("test_loss", ctypes.c_double),
        ("test_accuracy", ctypes.c_double),
        ("val_accuracy", ctypes.c_double),
        ("lr", ctypes.c_double),
        ("seconds", ctypes.c_double),
        ("objective", ctypes.c_double),
        ("grad_norm", ctypes.c_double),
        ("end_of_epoch", ctypes.c_int),
    ]


class Batch(ctypes.Structure):
    """struct softreg_batch"""
    _fields_ = [
        ("src", ctypes.POINTER(Source)),
        ("y", ctypes.POINTER(ctypes.c_uint32)),
        ("first", c_size_t),
        ("m", c_size_t),
        ("rows", ctypes.POINTER(ctypes.c_uint32)),
    ]


# int (*softreg_progress_fn)(const struct softreg_epoch_info *, void *user)
ProgressFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(EpochInfo), ctypes.c_void_p)
# void (*softreg_iter_fn)(uint64_t, uint32_t, double, const struct softreg_model *, void *)
IterFn = ctypes.CFUNCTYPE(None, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_double, ctypes.POINTER(Model),
                          ctypes.c_void_p)
# the kernel table's functions (CFUNCTYPE: the GIL is released while they run)
LossGradFn = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.POINTER(Model), ctypes.POINTER(Batch),
                              ctypes.POINTER(ctypes.c_float), ctypes.c_void_p)
LogitsFn = ctypes.CFUNCTYPE(None, ctypes.POINTER(Model), ctypes.POINTER(Batch), ctypes.POINTER(ctypes.c_float),
                            ctypes.c_void_p)
SoftmaxLossFn = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_uint32),
                                 c_size_t, c_size_t)


class Kernel(ctypes.Structure):
    """struct softreg_kernel"""
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("sources", ctypes.c_uint),
        ("about", ctypes.c_char_p),
        ("loss_grad", LossGradFn),
        ("logits", LogitsFn),
        ("softmax_loss", SoftmaxLossFn),
    ]


class Params(ctypes.Structure):
    """struct softreg_params"""
    _fields_ = [
        ("solver", c_enum),
        ("epochs", ctypes.c_uint32),
        ("batch", c_size_t),
        ("lr", ctypes.c_double),
        ("momentum", ctypes.c_double),
        ("l2", ctypes.c_double),
        ("schedule", c_enum),
        ("seed", ctypes.c_uint64),
        ("shuffle", ctypes.c_int),
        ("history", ctypes.c_int),
        ("tol", ctypes.c_double),
        ("validation", c_size_t),
        ("early_stop", ctypes.c_uint32),
        ("eval_every", ctypes.c_uint32),
        ("eval_train", ctypes.c_int),
        ("kernel", ctypes.POINTER(Kernel)),
        ("progress", ProgressFn),
        ("on_iter", IterFn),
        ("user", ctypes.c_void_p),
        ("stop", ctypes.POINTER(c_sig_atomic_t)),
        ("lbfgs_memory", ctypes.c_void_p),  # struct softreg_lbfgs_memory * (softreg sweep's warm starts)
        ("threads_auto", ctypes.c_int),
    ]


class Report(ctypes.Structure):
    """struct softreg_report"""
    _fields_ = [
        ("epochs_run", ctypes.c_uint32),
        ("iterations", ctypes.c_uint64),
        ("train_seconds", ctypes.c_double),
        ("test_loss", ctypes.c_double),
        ("test_accuracy", ctypes.c_double),
        ("val_accuracy", ctypes.c_double),
        ("objective", ctypes.c_double),
        ("grad_norm", ctypes.c_double),
        ("diverged_epoch", ctypes.c_uint32),
        ("diverged_batch", c_size_t),
        ("diverged_loss", ctypes.c_double),
    ]


# Room after the structs the library writes whole (softreg_params_default()
# and softreg_train() clear sizeof of their struct; softreg_dataset_free() too):
# a library whose struct grew at its end, as the ABI rules allow, then writes
# into this slack instead of past the Python object.
SLACK = 256


def new(struct):
    """A zeroed 'struct' with SLACK bytes of room after it."""
    return struct.from_buffer(bytearray(ctypes.sizeof(struct) + SLACK))


# the structs the layout test compares with the C compiler's view
STRUCTS = {"softreg_source": Source, "softreg_dataset": Dataset, "softreg_model": Model,
           "softreg_params": Params, "softreg_epoch_info": EpochInfo, "softreg_report": Report,
           "softreg_kernel": Kernel, "softreg_batch": Batch}


def _candidates():
    """Where the library is looked for, in order (see find_library())."""
    env = os.environ.get("SOFTREG_LIB")
    if env:
        return [env], True
    out = []
    # imported from the source tree (PYTHONPATH=src/python): the build folder beside it
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    if os.path.isfile(os.path.join(root, "meson.build")) and os.path.isfile(os.path.join(root, "include", "softreg.h")):
        out.append(os.path.join(root, "build", "libsoftreg.so.0"))
    found = ctypes.util.find_library("softreg")
    if found:
        out.append(found)
    out.append("libsoftreg.so.0")
    return out, False


def find_library():
    """Load libsoftreg: $SOFTREG_LIB when set (and only it); else
    build/libsoftreg.so.0 of the repository when this package is imported from
    its source tree (PYTHONPATH=src/python); else what
    ctypes.util.find_library('softreg') finds; else libsoftreg.so.0 on the
    loader's path. Returns (CDLL, path)."""
    paths, forced = _candidates()
    errors = []
    for p in paths:
        if os.sep in p and not os.path.exists(p):
            errors.append(f"{p}: no such file")
            continue
        try:
            return ctypes.CDLL(p), p
        except OSError as e:
            errors.append(str(e))
    where = "$SOFTREG_LIB" if forced else "the build folder, ctypes.util.find_library('softreg') or libsoftreg.so.0"
    raise ImportError(f"softreg: cannot load libsoftreg from {where}: " + "; ".join(errors))


def _prefer_passive_waits():
    # As the CLI does: OpenMP's threads sleep rather than spin at barriers, which
    # matters when other work shares the cores. libgomp reads the policy when it
    # is loaded, so this only takes effect when nothing loaded it before us.
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")


_prefer_passive_waits()
lib, lib_path = find_library()

_P = ctypes.POINTER
_err = ctypes.c_char_p  # a caller's buffer of ERRLEN bytes (ctypes.create_string_buffer)


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


_proto("softreg_result_name", ctypes.c_char_p, c_enum)
_proto("softreg_source_name", ctypes.c_char_p, c_enum)
_proto("softreg_dataset_map_labels", c_enum, _P(Dataset), _P(ctypes.c_int64), c_size_t, ctypes.c_char_p, _err)
_proto("softreg_dataset_free", None, _P(Dataset))
_proto("softreg_model_alloc", _P(Model), c_size_t, c_size_t, c_size_t)
_proto("softreg_model_free", None, _P(Model))
_proto("softreg_model_bytes", c_size_t, c_size_t, c_size_t)
_proto("softreg_model_init_prep", None, _P(Model), _P(Source))
_proto("softreg_model_standardize", c_enum, _P(Model), _P(Dataset), _err)
_proto("softreg_model_save", c_enum, _P(Model), ctypes.c_void_p, ctypes.c_char_p, _err)
_proto("softreg_model_load", c_enum, ctypes.c_char_p, _P(_P(Model)), ctypes.c_void_p, _err)
_proto("softreg_model_parse", c_enum, ctypes.c_char_p, c_size_t, ctypes.c_char_p, _P(_P(Model)),
       ctypes.c_void_p, _err)
_proto("softreg_model_check_data", c_enum, _P(Model), _P(Dataset), ctypes.c_char_p, _err)
_proto("softreg_params_default", None, _P(Params))
_proto("softreg_check_params", ctypes.c_char_p, _P(Params))
_proto("softreg_train", c_enum, _P(Model), _P(Dataset), _P(Dataset), _P(Params), ctypes.c_void_p, _P(Report), _err)
_proto("softreg_objective", c_enum, _P(Model), _P(Dataset), c_size_t, ctypes.c_double, _P(Kernel),
       _P(ctypes.c_float), _P(ctypes.c_double), _P(ctypes.c_double), _err)
_proto("softreg_kernel_by_name", _P(Kernel), ctypes.c_char_p)
_proto("softreg_kernel_auto", _P(Kernel), c_enum)
_proto("softreg_kernel_takes", ctypes.c_int, _P(Kernel), c_enum)
_proto("softreg_workspace_alloc", ctypes.c_void_p, _P(Kernel), c_size_t, c_size_t, c_size_t)
_proto("softreg_workspace_free", None, ctypes.c_void_p)
_proto("softreg_set_threads", ctypes.c_int, ctypes.c_int)
_proto("softreg_get_threads", ctypes.c_int)
_proto("softreg_blas_corename", ctypes.c_char_p)


class LibraryError(Exception):
    """Base of the errors the library reports; 'code' is the result's short
    name ("io", "format", "param", ...). Raised as the subclasses below, which
    are also ValueError, OSError or MemoryError."""
    code = None


class LibraryValueError(LibraryError, ValueError):
    """Bad data or parameters (format, param, mismatch, diverged)."""


class LibraryOSError(LibraryError, OSError):
    """A file could not be opened, read or written."""


class LibraryMemoryError(LibraryError, MemoryError):
    """An allocation failed."""


def error(r, err):
    """The exception for result 'r' with the library's one-line message in 'err'."""
    msg = (err.value if isinstance(err, ctypes.Array) else err or b"").decode("utf-8", "replace")
    name = (lib.softreg_result_name(r) or b"?").decode()
    if not msg:
        msg = f"libsoftreg: {name}"
    if r == ERR_IO:
        e = LibraryOSError(msg)
    elif r == ERR_NOMEM:
        e = LibraryMemoryError(msg)
    elif r == ERR_INTERRUPTED:
        return KeyboardInterrupt(msg)
    else:
        e = LibraryValueError(msg)
    e.code = name
    return e


def check(r, err):
    """Raise the exception of result 'r' unless it is SOFTREG_OK."""
    if r != OK:
        raise error(r, err)


def errbuf():
    return ctypes.create_string_buffer(ERRLEN)
