#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_hardening.py: what an attacker's trial of softreg found, one check per
class: outputs that are not regular files, FIFOs as input, outputs checked
before the work, signals, size limits, the umask, environment variables,
resume with other options, write errors on stdout, models that overflow,
control bytes and non-UTF-8 bytes in names, a small stack, an address-space
limit, symbolic links.

usage: test_hardening.py [SOFTREG]     ($SOFTREG by default)

Prints one line per check and a total; exits 1 when any check fails. Each
check runs the real program with a time limit, so a hang fails too.
"""
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "badinput"))
import gen  # noqa: E402

TIMEOUT = 20


class T:
    def __init__(self, exe, tmp):
        self.exe, self.tmp = exe, tmp
        self.passed, self.failed = 0, []
        self.data = os.path.join(tmp, "data")
        gen.write_dir(self.data, gen.dataset_files(n_train=400, n_test=60))

    def run(self, args, env=None, pre="", stdin=None, stdout=subprocess.PIPE):
        """the program under 'sh -c' (for ulimit and redirections); (rc, out, err)"""
        e = dict(os.environ)
        e.pop("SOFTREG_TRACE_MB", None)
        e.setdefault("OMP_NUM_THREADS", "2")
        e.update(env or {})
        cmd = pre + " exec \"$0\" \"$@\""
        try:
            p = subprocess.run(["sh", "-c", cmd, self.exe] + args, env=e, stdout=stdout,
                               stderr=subprocess.PIPE, timeout=TIMEOUT, stdin=stdin)
        except subprocess.TimeoutExpired:
            return None, b"", b"hung: killed after %d s" % TIMEOUT
        return p.returncode, p.stdout or b"", p.stderr

    def check(self, name, ok, why=""):
        if ok:
            self.passed += 1
            print("ok   " + name)
        else:
            self.failed.append(name)
            print("FAIL %-50s %s" % (name, why))

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def train(self, *extra, **kw):
        return self.run(["train", "--data", self.data, "--epochs", "2", "--quiet"] + list(extra), **kw)


def one_line(err):
    return err.count(b"\n") == 1 and err.startswith(b"softreg: ")


def outputs(t):
    """saving never replaces what is not a regular file; outputs are checked before the work"""
    rc, _, err = t.train("--out", t.path("m.srm"))
    t.check("control: a model is written", rc == 0 and os.path.isfile(t.path("m.srm")), err)
    dev = t.path("null")
    try:
        os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        made = True
    except (PermissionError, OSError):
        made = False
    if made:
        rc, _, err = t.train("--out", dev)
        st = os.stat(dev)
        t.check("--out a character device: written through, still a device", rc == 0 and stat.S_ISCHR(st.st_mode),
                "rc %s, mode %o: %s" % (rc, st.st_mode, err))
    fifo = t.path("fifo-out")
    os.mkfifo(fifo)
    for flag in ("--out", "--checkpoint", "--metrics", "--trace"):
        rc, _, err = t.train(flag, fifo)
        t.check("%s a FIFO: refused before training, FIFO kept" % flag,
                rc == 2 and b"FIFO" in err and one_line(err) and stat.S_ISFIFO(os.stat(fifo).st_mode)
                and b"epoch" not in err, "rc %s: %s" % (rc, err))
    rc, _, err = t.run(["export", "--model", t.path("m.srm"), "--out", fifo])
    t.check("export --out a FIFO: refused", rc == 2 and b"FIFO" in err, "rc %s: %s" % (rc, err))
    os.makedirs(t.path("adir"))
    rc, _, err = t.train("--out", t.path("adir"))
    t.check("--out a folder: refused before training", rc == 2 and b"folder" in err and b"epoch" not in err,
            "rc %s: %s" % (rc, err))
    for flag in ("--out", "--checkpoint", "--metrics", "--trace"):
        rc, _, err = t.train(flag, t.path("missing", "x"))
        t.check("%s in a missing folder: refused before loading" % flag,
                rc == 2 and b"missing" in err and b"No such file" in err and one_line(err), "rc %s: %s" % (rc, err))
    rc, _, err = t.train("--out", t.path("m2.srm"), "--metrics", t.path("m2.srm"))
    t.check("--metrics and --out the same file: refused", rc == 2 and b"same file" in err, "rc %s: %s" % (rc, err))
    long_name = t.path("l" * 250 + ".srm")
    rc, _, err = t.train("--out", long_name)
    t.check("a 254-byte --out name: saved", rc == 0 and os.path.isfile(long_name), "rc %s: %s" % (rc, err))
    target = t.path("target.srm")
    shutil.copy(t.path("m.srm"), target)
    link = t.path("link.srm")
    os.symlink(target, link)
    rc, _, err = t.train("--out", link, "--seed", "5")
    t.check("--out a symlink: the file it names is written, the link stays",
            rc == 0 and os.path.islink(link) and open(target, "rb").read() != open(t.path("m.srm"), "rb").read(),
            "rc %s: %s" % (rc, err))


def fifo_inputs(t):
    """a FIFO given as input is refused at once, never waited on"""
    fifo = t.path("fifo-in")
    os.mkfifo(fifo)
    cases = [
        ("train --train", ["train", "--train", fifo, "--format", "libsvm"]),
        ("train --test-labels", ["train", "--train", os.path.join(t.data, "train-images-idx3-ubyte"),
                                 "--train-labels", os.path.join(t.data, "train-labels-idx1-ubyte.gz"),
                                 "--test", os.path.join(t.data, "t10k-images-idx3-ubyte"), "--test-labels", fifo]),
        ("predict --model", ["predict", "--model", fifo, os.path.join(t.data, "t10k-images-idx3-ubyte")]),
        ("predict FILE", ["predict", "--model", t.path("m.srm"), fifo]),
        ("export --model", ["export", "--model", fifo]),
        ("eval --model", ["eval", "--model", fifo, "--data", t.data]),
    ]
    for name, args in cases:
        rc, _, err = t.run(args)
        t.check("a FIFO as %s: refused, no hang" % name, rc == 1 and b"not a regular file" in err and one_line(err),
                "rc %s: %s" % (rc, err))
    shown = t.path("fifo-data")
    os.makedirs(shown)
    os.mkfifo(os.path.join(shown, "train-images-idx3-ubyte"))
    shutil.copy(os.path.join(t.data, "train-labels-idx1-ubyte.gz"), shown)
    rc, _, err = t.run(["show", "--data", shown, "--index", "0"])
    t.check("a FIFO in the data folder (show): refused, no hang", rc == 1 and b"not a regular file" in err,
            "rc %s: %s" % (rc, err))


def signals(t):
    """SIGTERM and SIGHUP stop with a checkpoint; metrics of finished epochs are kept"""
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)):
        ck, met = t.path("ck-%d.srm" % sig), t.path("met-%d.csv" % sig)
        args = [t.exe, "train", "--data", t.data, "--epochs", "100000", "--batch", "1", "--checkpoint", ck,
                "--metrics", met]
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + TIMEOUT
        while not os.path.exists(ck) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        p.send_signal(sig)
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        rows = open(met).read().count("\n") - 1 if os.path.exists(met) else 0
        leftovers = [f for f in os.listdir(t.tmp) if f.startswith(".softreg-")]
        rc, _, lerr = t.run(["export", "--model", ck, "--format", "json", "--out", t.path("ck.json")])
        t.check("%s: exit %d, checkpoint loads, metrics of %d epochs, no temporary file" %
                (signal.Signals(sig).name, code, rows),
                p.returncode == code and rc == 0 and rows >= 1 and not leftovers and b"checkpoint written" in err,
                "rc %s, export %s %s, rows %d, left %s: %s" % (p.returncode, rc, lerr, rows, leftovers, err[-300:]))


def limits(t):
    """a file size limit and the umask"""
    model = t.path("m.srm")
    before = open(model, "rb").read()
    rc, _, err = t.train("--out", model, "--seed", "9", pre="ulimit -f 0;")
    left = [f for f in os.listdir(t.tmp) if f.startswith(".softreg-")]
    t.check("ulimit -f: an error with the reason, old model intact, no temporary file",
            rc == 1 and b"File too large" in err and open(model, "rb").read() == before and not left,
            "rc %s, left %s: %s" % (rc, left, err))
    out = t.path("w.npy")
    rc, _, err = t.run(["export", "--model", model, "--out", out], pre="ulimit -f 0;")
    t.check("ulimit -f: export leaves no partial file", rc == 1 and not os.path.exists(out), "rc %s: %s" % (rc, err))
    fresh = t.path("u.srm")
    rc, _, err = t.train("--out", fresh, pre="umask 077;")
    t.check("umask 077: a new model is 0600", rc == 0 and stat.S_IMODE(os.stat(fresh).st_mode) == 0o600,
            "rc %s, mode %o" % (rc, stat.S_IMODE(os.stat(fresh).st_mode) if os.path.exists(fresh) else 0))
    os.chmod(fresh, 0o640)
    rc, _, err = t.train("--out", fresh, "--seed", "3")
    t.check("an existing model keeps its mode (0640)", rc == 0 and stat.S_IMODE(os.stat(fresh).st_mode) == 0o640,
            "mode %o" % stat.S_IMODE(os.stat(fresh).st_mode))
    for v in ("", "abc", "0", "-1", "1e3", "1MB"):
        rc, _, err = t.train("--trace", t.path("tr.csv"), env={"SOFTREG_TRACE_MB": v})
        t.check("$SOFTREG_TRACE_MB=%r: a usage error" % v, rc == 2 and b"SOFTREG_TRACE_MB" in err,
                "rc %s: %s" % (rc, err))
    ldd = subprocess.run(["ldd", t.exe], capture_output=True).stdout
    # AddressSanitizer's redzones and interceptors (realpath, printf) need about
    # 32 KiB of stack where the release build needs 24: give it twice as much
    kib = 64 if b"libasan" in ldd else 24
    rc, _, err = t.train(pre="ulimit -s %d;" % kib)
    t.check("ulimit -s %d: trains" % kib, rc == 0, "rc %s: %s" % (rc, err[-200:]))
    if b"libasan" in ldd:  # AddressSanitizer's shadow memory cannot live under ulimit -v
        print("skip ulimit -v 200000 (an AddressSanitizer build)")
    else:
        rc, _, err = t.run(["info"], pre="ulimit -v 200000;")
        t.check("ulimit -v 200000: one error line, no spin", rc == 1 and b"address-space limit" in err
                and one_line(err), "rc %s: %s" % (rc, err))


def resume(t):
    """a checkpoint continues only the run that wrote it"""
    ck = t.path("r.srm")
    base = ["--schedule", "const", "--lr", "0.05", "--batch", "50"]
    rc, _, err = t.run(["train", "--data", t.data, "--epochs", "2", "--quiet", "--checkpoint", ck] + base)
    t.check("control: a checkpoint", rc == 0, err)
    other = t.path("other-data")
    files = gen.dataset_files(n_train=400, n_test=60)
    px, lab = gen.images(400, gen.ROWS, gen.COLS, gen.K, 77)
    files["train-images-idx3-ubyte"] = gen.idx([400, gen.ROWS, gen.COLS], px)
    gen.write_dir(other, files)
    cases = [
        ("another --batch", ["--data", t.data, "--batch", "40"] + base[:4], b"--batch"),
        ("another --seed", ["--data", t.data, "--seed", "7"] + base, b"--seed"),
        ("--standardize", ["--data", t.data, "--standardize"] + base, b"--standardize"),
        ("--no-shuffle", ["--data", t.data, "--no-shuffle"] + base, b"--no-shuffle"),
        ("other data of the same shape", ["--data", other] + base, b"other training data"),
        ("another --validation", ["--data", t.data, "--validation", "20"] + base, b"training rows"),
    ]
    for name, args, word in cases:
        rc, _, err = t.run(["train", "--epochs", "4", "--quiet", "--resume", ck] + args)
        t.check("resume with %s: refused, naming it" % name, rc == 1 and word in err and one_line(err),
                "rc %s: %s" % (rc, err))
    rc, _, err = t.run(["train", "--data", t.data, "--epochs", "4", "--quiet", "--resume", ck, "--preset", "seed"])
    t.check("resume with --preset seed: refused, naming it", rc == 1 and b"--preset" in err, "rc %s: %s" % (rc, err))
    flat = t.path("two-by-eight")
    gen.write_dir(flat, gen.dataset_files(n_train=400, n_test=60, rows=2, cols=8))
    rc, _, err = t.run(["eval", "--model", t.path("m.srm"), "--data", flat])
    t.check("eval of a 4x4 model on 2x8 images: refused", rc == 1 and b"(2x8)" in err and b"(4x4)" in err,
            "rc %s: %s" % (rc, err))
    rc, _, err = t.run(["train", "--data", flat, "--epochs", "4", "--quiet", "--resume", ck] + base)
    t.check("resume of a 4x4 checkpoint on 2x8 images: refused", rc == 1 and b"(2x8)" in err, "rc %s: %s" % (rc, err))
    es = ["--validation", "50", "--early-stop", "2", "--schedule", "const", "--lr", "0.05", "--quiet"]
    rc1, _, e1 = t.run(["train", "--data", t.data, "--epochs", "6", "--out", t.path("es-straight.srm")] + es)
    rc2, _, e2 = t.run(["train", "--data", t.data, "--epochs", "2", "--checkpoint", t.path("es-ck.srm")] + es)
    rc3, _, e3 = t.run(["train", "--data", t.data, "--epochs", "6", "--resume", t.path("es-ck.srm"),
                        "--out", t.path("es-resumed.srm")] + es)
    same = rc1 == rc2 == rc3 == 0 and \
        open(t.path("es-straight.srm"), "rb").read() == open(t.path("es-resumed.srm"), "rb").read()
    t.check("--early-stop: 2 epochs + resume to 6 == 6 straight, bitwise", same, (e1 + e2 + e3)[-300:])


def outputs_and_names(t):
    """stdout errors, overflowing models, names with control and non-UTF-8 bytes, symlink loops"""
    rc, _, err = t.run(["info"], pre="exec >/dev/full;")
    t.check("stdout on a full device: exit 1, says so", rc == 1 and b"stdout" in err, "rc %s: %s" % (rc, err))
    rc, _, err = t.run(["info"], pre="exec >&-;")
    t.check("stdout closed: exit 1, says so", rc == 1 and b"stdout" in err, "rc %s: %s" % (rc, err))
    m = open(t.path("m.srm"), "rb").read()
    scale = bytearray(m)
    struct.pack_into("<f", scale, 36, 3.0e38)  # finite, but x * scale overflows
    scale[-4:] = struct.pack("<I", zlib.crc32(bytes(scale[:-4])) & 0xFFFFFFFF)
    bad = t.path("scale.srm")
    open(bad, "wb").write(bytes(scale))
    rc, out, err = t.run(["predict", "--model", bad, os.path.join(t.data, "t10k-images-idx3-ubyte")])
    t.check("a model that overflows (scale 3e38): predict says so, no NaN", rc == 1 and b"not finite" in err
            and b"nan" not in out, "rc %s: %s" % (rc, err))
    rc, out, err = t.run(["eval", "--model", bad, "--data", t.data])
    t.check("a model that overflows: eval says so, no NaN", rc == 1 and b"not finite" in err and b"nan" not in out,
            "rc %s: %s" % (rc, err))
    nl = t.path("new\nline.svm")
    rc, _, err = t.run(["train", "--train", nl])
    t.check("a newline in a file name: one line, escaped", rc == 1 and one_line(err) and b"new\\nline" in err,
            "rc %s: %r" % (rc, err))
    ff = os.path.join(t.tmp.encode(), b"f\xffg.srm")
    p = subprocess.run([t.exe, "train", "--data", t.data, "--epochs", "1", "--quiet", "--json", "--out", ff],
                       capture_output=True, timeout=TIMEOUT)
    try:
        json.loads(p.stdout.decode("utf-8"))
        valid = p.returncode == 0
    except (UnicodeDecodeError, ValueError):
        valid = False
    t.check("--json with a non-UTF-8 byte in a path: valid UTF-8 JSON", valid, p.stdout[:200])
    loop = t.path("loop")
    os.symlink(loop, loop)
    rc, _, err = t.run(["train", "--train", loop, "--format", "csv"])
    t.check("a symlink loop: says so", rc == 1 and b"symbolic links" in err, "rc %s: %s" % (rc, err))
    rc, _, err = t.run(["eval", "--model", t.path("m.srm"), "--data", t.path("missing-dir")])
    t.check("a missing data folder: no such file", rc == 1 and b"no such file" in err, "rc %s: %s" % (rc, err))


def main(argv):
    exe = argv[1] if len(argv) > 1 else os.environ.get("SOFTREG")
    if not exe or not os.access(exe, os.X_OK):
        print("test_hardening: set $SOFTREG to the softreg program", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="softreg-hardening-")
    t = T(os.path.abspath(exe), tmp)
    for part in (outputs, fifo_inputs, signals, limits, resume, outputs_and_names):
        part(t)
    print("hardening: %d checks passed, %d failed" % (t.passed, len(t.failed)))
    if t.failed:
        print("hardening: files kept in " + tmp)
    else:
        shutil.rmtree(tmp)
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
