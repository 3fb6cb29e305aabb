#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_badinput.py: the softreg CLI on malformed files and malformed flags.

usage: test_badinput.py [--keep] [SOFTREG]

Runs the real program ($SOFTREG, or the argument) on every malformed file that
gen.py builds (IDX raw and gzip, .srm models, PGM images, .npy, libsvm and CSV
files) and on malformed flags.
For each case it asserts the exit status (1 for a bad file, 2 for a bad flag), that
stderr is exactly one line `softreg: FILE: reason` naming the file and matching the
expected reason, and that train wrote no model, checkpoint or metrics file. Prints
one line per case and a total; exits 1 when any case fails. --keep keeps the
scratch folder.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

TIMEOUT = 60  # seconds a command may take on these tiny files before it counts as hung


class Runner:
    def __init__(self, exe, tmp):
        self.exe, self.tmp = exe, tmp
        self.passed, self.failed = 0, []
        self.out = os.path.join(tmp, "out", "model.srm")
        self.ckpt = os.path.join(tmp, "out", "ckpt.srm")
        self.csv = os.path.join(tmp, "out", "metrics.csv")
        os.makedirs(os.path.dirname(self.out))

    def run(self, args, env=None):
        e = dict(os.environ)
        e.pop("SOFTREG_MAX_BYTES", None)
        e.update(env or {})
        e.setdefault("OMP_NUM_THREADS", "1")
        try:
            p = subprocess.run([self.exe] + args, env=e, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            return None, "", "hung: killed after %d s" % TIMEOUT
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")

    def result(self, name, why):
        if why:
            self.failed.append(name)
            print("FAIL %-44s %s" % (name, why))
        else:
            self.passed += 1
            print("ok   %s" % name)

    def outputs_left(self):
        left = [p for p in (self.out, self.ckpt, self.csv) if os.path.exists(p)]
        left += glob.glob(os.path.join(os.path.dirname(self.out), "*.tmp.*"))
        for p in left:
            os.remove(p)
        return left

    def expect(self, name, args, code, prefix, reason, env=None):
        """exit 'code'; stderr one line: 'softreg: ' + prefix + ': ' ... reason (no prefix: None)"""
        rc, _, err = self.run(args, env)
        why = None
        if rc is None:
            why = err
        elif rc < 0 or rc > 2:
            why = "crashed or killed (status %d): %s" % (rc, err.strip()[:300])
        elif rc != code:
            why = "exit %d, expected %d; stderr: %s" % (rc, code, err.strip()[:300])
        elif not err.endswith("\n") or err.count("\n") != 1:
            why = "stderr is not one line: %r" % err[:300]
        elif not err.startswith("softreg: " + (prefix + ": " if prefix else "")):
            why = "message does not start with 'softreg: %s: ': %r" % (prefix, err)
        elif not re.search(reason, err):
            why = "message %r does not match /%s/" % (err.strip(), reason)
        left = self.outputs_left()
        if not why and left:
            why = "wrote %s although the input was rejected" % ", ".join(left)
        self.result(name, why)

    def expect_ok(self, name, args, creates=None):
        rc, _, err = self.run(args)
        why = None if rc == 0 else "exit %s: %s" % (rc, err.strip()[:300])
        if not why and creates and not os.path.exists(creates):
            why = "did not write " + creates
        self.result(name, why)

    def train_args(self, data, *extra):
        return ["train", "--data", data, "--epochs", "1", "--out", self.out, "--checkpoint", self.ckpt,
                "--metrics", self.csv] + list(extra)


def train_model(r, data, path, *extra):
    rc, _, err = r.run(["train", "--data", data, "--epochs", "2", "--quiet", "--out", path] + list(extra))
    if rc != 0:
        sys.exit("test_badinput: cannot train the base model on %s: %s" % (data, err.strip()))


def controls(r, ok, model, pgm2, pgm5):
    """valid input is accepted: the failures below are about the input, not the setup"""
    r.expect_ok("control-train", r.train_args(ok), creates=r.out)
    r.outputs_left()
    r.expect_ok("control-eval", ["eval", "--model", model, "--data", ok])
    r.expect_ok("control-predict-pgm", ["predict", "--model", model, pgm2, pgm5])
    r.expect_ok("control-predict-idx", ["predict", "--model", model, os.path.join(ok, gen.STEMS[2])])
    r.expect_ok("control-show", ["show", "--data", ok, "--index", "0"])


def data_checks(r, cases, model):
    for name, d, bad, reason in cases:
        r.expect(name + " (train)", r.train_args(d), 1, bad, reason)
        stem = os.path.basename(bad)
        cross = name in ("idx-test-label-too-big", "idx-one-class", "idx-size-mismatch")
        if stem.startswith("train") and not cross:
            r.expect(name + " (show)", ["show", "--data", d, "--index", "0"], 1, bad, reason)
        if stem.startswith("t10k") and not cross:
            r.expect(name + " (eval)", ["eval", "--model", model, "--data", d], 1, bad, reason)
        if "images" in stem and "labels-as" not in name and not cross and os.path.isfile(bad):
            r.expect(name + " (predict)", ["predict", "--model", model, bad], 1, bad, reason)


def mismatch_checks(r, root, ok, model, pgm2):
    """a model whose k or d does not fit the data"""
    two = os.path.join(root, "two-classes")
    files = gen.dataset_files(k=2)
    gen.write_dir(two, files)
    m2 = os.path.join(root, "k2.srm")
    train_model(r, two, m2)
    r.expect("model-k-below-labels (eval)", ["eval", "--model", m2, "--data", ok], 1, os.path.join(ok, gen.STEMS[3]) + ".gz",
             r"row \d+: label 2 is not a class of the training set \(2 classes, 0\.\.1\)")
    r.expect("model-k-below-labels (resume)", r.train_args(ok, "--resume", m2), 1, m2,
             r"a model, not a checkpoint")
    five = os.path.join(root, "five-by-five")
    gen.write_dir(five, gen.dataset_files(rows=5, cols=5))
    m5 = os.path.join(root, "d25.srm")
    train_model(r, five, m5)
    r.expect("model-d-mismatch (eval)", ["eval", "--model", m5, "--data", ok], 1, ok,
             r"16 features \(4x4\), the model expects 25 \(5x5\)")
    r.expect("model-d-mismatch (predict pgm)", ["predict", "--model", m5, pgm2], 1, pgm2,
             r"image is 4x4, the model expects 5x5")
    idx_path = os.path.join(ok, gen.STEMS[2])
    r.expect("model-d-mismatch (predict idx)", ["predict", "--model", m5, idx_path], 1, idx_path,
             r"16 features \(4x4\), the model expects 25 \(5x5\)")
    ck = os.path.join(root, "ck5.srm")
    rc, _, err = r.run(["train", "--data", five, "--epochs", "1", "--quiet", "--checkpoint", ck])
    if rc == 0:
        r.expect("checkpoint-d-mismatch (resume)", r.train_args(ok, "--resume", ck, "--epochs", "3"), 1, ck,
                 r"16 features \(4x4\), the model expects 25")
        with open(ck, "rb") as f:
            data = f.read()
        with open(ck, "wb") as f:
            f.write(gen.flip(data, len(data) // 3, 0x01))
        r.expect("checkpoint-flipped (resume)", r.train_args(five, "--resume", ck, "--epochs", "3"), 1, ck,
                 r"CRC-32 mismatch")
    else:
        r.result("checkpoint (train)", "cannot write a checkpoint: " + err.strip())


def model_checks(r, cases, ok, pgm2):
    for name, path, _, reason in cases:
        r.expect(name + " (eval)", ["eval", "--model", path, "--data", ok], 1, path, reason)
        r.expect(name + " (predict)", ["predict", "--model", path, pgm2], 1, path, reason)
        r.expect(name + " (resume)", r.train_args(ok, "--resume", path, "--epochs", "3"), 1, path, reason)


def checkpoint_checks(r, root, ok):
    ck = os.path.join(root, "ok-ckpt.srm")
    rc, _, err = r.run(["train", "--data", ok, "--epochs", "1", "--quiet", "--checkpoint", ck])
    if rc != 0:
        r.result("checkpoint (train)", "cannot write a checkpoint: " + err.strip())
        return 0
    r.expect_ok("control-resume", ["train", "--data", ok, "--epochs", "2", "--quiet", "--resume", ck])
    cases = gen.checkpoint_cases(ck, os.path.join(root, "checkpoints"))
    for name, path, _, reason in cases:
        r.expect(name + " (resume)", r.train_args(ok, "--resume", path, "--epochs", "3"), 1, path, reason)
    return len(cases)


def pgm_checks(r, cases, model):
    for name, path, _, reason in cases:
        r.expect(name, ["predict", "--model", model, path], 1, path, reason)


# (command, arguments, reason); each must exit 2 with
# "softreg: COMMAND: ... (see softreg COMMAND --help)"
BAD_VALUES = {
    "--epochs": ["-1", "0", "1.5", "12abc", "", "99999999999999999999", "nan", " 3", "+3", "0x10", "1000001"],
    "--batch": ["0", "-5", "abc", "16777217", "1e3"],
    "--lr": ["0", "-0.1", "nan", "inf", "-inf", "1e999", "0x1p-3", " 0.1", "0.1x", "1e7", "", "1e-400"],
    "--momentum": ["1", "-0.5", "NaN", "1.0000001"],
    "--threads": ["0", "-1", "99999", "two", "2.0"],
    "--seed": ["-1", "1.5", "18446744073709551616", "abc", "1e3"],
    "--l2": ["-1", "inf"],
    "--weight-decay": ["nan"],
    "--history": ["0", "-3"],
    "--tol": ["-1"],
    "--eval-every": ["-1", "x"],
    "--validation": ["0", "-1"],
    "--early-stop": ["0"],
    "--schedule": ["linear", ""],
    "--solver": ["adam"],
    "--kernel": ["cuda"],
    "--preset": ["fast"],
    "--data": [""],
    "--out": [""],
}


def flag_cases(ok, out):
    cases = []
    for flag, values in BAD_VALUES.items():
        for v in values:
            cases.append(("train %s %r" % (flag, v), ["train", "--data", ok, "--out", out, flag, v], "train",
                          re.escape(flag) + r" must be .*, got '" + re.escape(v) + "'"))
    cases.append(("train --lr=abc", ["train", "--out", out, "--lr=abc"], "train", r"--lr must be .*, got 'abc'"))
    cases.append(("train --epochs=", ["train", "--out", out, "--epochs="], "train", r"--epochs must be"))
    for args, reason in [
        (["--epochs"], r"--epochs needs a value"),
        (["--bogus"], r"unknown option '--bogus'"),
        (["--bogus=1"], r"unknown option '--bogus'"),
        (["-x"], r"unknown option '-x'"),
        (["stray"], r"unexpected argument 'stray'"),
        (["--json=1"], r"--json takes no value"),
        (["--quiet=yes"], r"--quiet takes no value"),
        (["--early-stop", "2"], r"--early-stop needs --validation"),
        (["--solver", "lbfgs", "--checkpoint", "c.srm"], r"apply to the SGD solver"),
        (["--preset", "seed", "--standardize"], r"drop --standardize"),
        (["--validation", "1000"], r"--validation 1000 must be below the 200 training rows"),
    ]:
        cases.append(("train " + " ".join(args), ["train", "--data", ok, "--out", out] + args, "train", reason))
    for args, reason in [
        ([], r"--model MODEL is required"),
        (["--model", "m", "--threads", "0"], r"--threads must be"),
        (["--model", "m", "--split", "val"], r"--split must be one of test, train"),
        (["--model", "m", "--bogus"], r"unknown option '--bogus'"),
        (["--model", "m", "--json=1"], r"--json takes no value"),
        (["--model", "m", "stray"], r"unexpected argument"),
        (["--model"], r"--model needs a value"),
    ]:
        cases.append(("eval " + " ".join(args), ["eval"] + args, "eval", reason))
    for args, reason in [
        (["--model", "m", "--top", "0", "f"], r"--top must be an integer in \[1, 65535\], got '0'"),
        (["--model", "m", "--top", "65536", "f"], r"--top must be"),
        (["--model", "m", "--top", "-1", "f"], r"--top must be"),
        (["--model", "m", "--top", "2.5", "f"], r"--top must be"),
        (["--model", "m"], r"no input file given"),
        (["f"], r"--model MODEL is required"),
        (["--model", "m", "--bogus", "f"], r"unknown option"),
        (["--model", "m", "--json=yes", "f"], r"--json takes no value"),
    ]:
        cases.append(("predict " + " ".join(args), ["predict"] + args, "predict", reason))
    for args, reason in [
        (["--index", "-1"], r"--index must be"),
        (["--index", "abc"], r"--index must be"),
        (["--index", "1.5"], r"--index must be"),
        (["--index", "99999999999999"], r"--index must be"),
        ([], r"--index I is required"),
        (["--index", "0", "--split", "validation"], r"--split must be one of"),
        (["--index", "200"], r"--index 200 is past the 200 images"),
    ]:
        cases.append(("show " + " ".join(args), ["show", "--data", ok] + args, "show", reason))
    for args, reason in [
        (["--model", "m", "--format", "xml"], r"--format must be one of"),
        ([], r"--model MODEL is required"),
    ]:
        cases.append(("export " + " ".join(args), ["export"] + args, "export", reason))
    return cases


def flag_checks(r, ok):
    for name, args, cmd, reason in flag_cases(ok, r.out):
        r.expect(name, args, 2, cmd, reason + r".* \(see softreg %s --help\)$" % cmd)
    r.expect("softreg bogus-command", ["bogus"], 2, None, r"^softreg: unknown command 'bogus' \(see softreg --help\)$")
    for v in ("abc", "0", "-1", "1e9", ""):
        r.expect("env SOFTREG_MAX_BYTES=%r" % v, r.train_args(ok), 2, "train",
                 r"\$SOFTREG_MAX_BYTES must be a positive integer", env={"SOFTREG_MAX_BYTES": v})
    img = os.path.join(ok, gen.STEMS[0])
    r.expect("env SOFTREG_MAX_BYTES=1000 (over the limit)", r.train_args(ok), 1, img,
             r"more than the limit of 1000 bytes", env={"SOFTREG_MAX_BYTES": "1000"})


def format_checks(r, root):
    """.npy, libsvm and CSV: valid files train; each malformed one is one line naming it"""
    ok, cases = gen.format_cases(root)
    r.expect_ok("control-train-npy", ["train", "--train", ok["x.npy"], "--train-labels", ok["y.npy"], "--quiet"])
    r.expect_ok("control-train-libsvm", ["train", "--train", ok["ok.svm"], "--quiet"])
    r.expect_ok("control-train-csv", ["train", "--train", ok["ok.csv"], "--quiet"])
    for name, feats, labels, bad, reason in cases:
        args = ["train", "--train", feats, "--out", r.out, "--metrics", r.csv, "--quiet"]
        if labels:
            args += ["--train-labels", labels]
        r.expect(name + " (train)", args, 1, bad, reason)
        if bad == feats:
            test_args = ["train", "--train", ok["ok.csv"], "--test", feats, "--quiet"]
            if feats.endswith(".npy"):
                test_args = ["train", "--train", ok["x.npy"], "--train-labels", ok["y.npy"], "--test", feats,
                             "--test-labels", ok["y.npy"], "--quiet"]
            elif feats.endswith(".svm"):
                test_args = ["train", "--train", ok["ok.svm"], "--test", feats, "--quiet"]
            r.expect(name + " (test)", test_args, 1, bad, reason)
    return len(cases)


def main(argv):
    keep = "--keep" in argv
    args = [a for a in argv[1:] if a != "--keep"]
    if any(a in ("-h", "--help") for a in args) or len(args) > 1:
        print(__doc__.strip().splitlines()[2])
        return 0 if args and args[0] in ("-h", "--help") else 2
    exe = args[0] if args else os.environ.get("SOFTREG")
    if not exe or not os.access(exe, os.X_OK):
        print("test_badinput: set $SOFTREG to the softreg program", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="softreg-badinput-")
    r = Runner(os.path.abspath(exe), tmp)
    ok = os.path.join(tmp, "ok")
    gen.write_dir(ok, gen.dataset_files())
    model = os.path.join(tmp, "ok.srm")
    train_model(r, ok, model)
    pgm2 = os.path.join(tmp, "ok-p2.pgm")
    pgm5 = os.path.join(tmp, "ok-p5.pgm")
    with open(pgm2, "w") as f:
        f.write("P2\n# a comment\n4 4\n15\n" + " ".join(str(i % 16) for i in range(16)) + "\n")
    with open(pgm5, "wb") as f:
        f.write(b"P5\n4 4\n255\n" + bytes(range(0, 240, 15)))

    controls(r, ok, model, pgm2, pgm5)
    data_cases = gen.data_cases(os.path.join(tmp, "data"))
    model_cases = gen.model_cases(model, os.path.join(tmp, "models"))
    pgm_cases = gen.pgm_cases(os.path.join(tmp, "pgm"))
    data_checks(r, data_cases, model)
    model_checks(r, model_cases, ok, pgm2)
    pgm_checks(r, pgm_cases, model)
    mismatch_checks(r, tmp, ok, model, pgm2)
    n_ckpt = checkpoint_checks(r, tmp, ok)
    n_formats = format_checks(r, os.path.join(tmp, "formats"))
    flag_checks(r, ok)

    files = len(data_cases) + len(model_cases) + len(pgm_cases) + n_ckpt + n_formats
    print("badinput: %d malformed files, %d checks passed, %d failed" % (files, r.passed, len(r.failed)))
    if r.failed or keep:
        print("badinput: files kept in " + tmp)
    else:
        shutil.rmtree(tmp)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
