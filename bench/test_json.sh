#!/usr/bin/env bash
# softreg-bench --json writes the fields scripts/bench-compare and the README
# rely on: machine, commit, date, bounds, the data and its sources, and per
# case name, kernel, source, op, batch, threads, ns_min, ns_median, gflops,
# gbps, the gate's figures, and bound_ns for epoch records; the pass over
# every row (L-BFGS's objective) has batch 0. Case names keep
# the form of the runs before sources (op/kernel/bBATCH/tTHREADS) for uint8
# rows, so that old baselines still compare, and name the source otherwise.
set -euo pipefail
bench=${SOFTREG_BENCH:?set SOFTREG_BENCH}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-bench-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# the plan's names: every kernel on each source it takes; softmax (which does
# not read the source) once per kernel, on its first source
"$bench" --list --batch 256 --threads 1,2 --filter 'loss_grad,softmax' >"$tmp/list.out"
cat >"$tmp/list.want" <<'NAMES'
softmax/naive/b256/t1
softmax/blas/b256/t1
softmax/blas/b256/t2
softmax/sparse/csr/b256/t1
softmax/sparse/csr/b256/t2
loss_grad/naive/b256/t1
loss_grad/blas/b256/t1
loss_grad/blas/b256/t2
loss_grad/naive/f32/b256/t1
loss_grad/blas/f32/b256/t1
loss_grad/blas/f32/b256/t2
loss_grad/naive/f16/b256/t1
loss_grad/blas/f16/b256/t1
loss_grad/blas/f16/b256/t2
loss_grad/naive/csr/b256/t1
loss_grad/sparse/csr/b256/t1
loss_grad/sparse/csr/b256/t2
NAMES
diff -u "$tmp/list.want" "$tmp/list.out" || fail "--list: unexpected case names"
"$bench" --list --batch 256 --threads 1 --filter gather --source f16,u8 >"$tmp/gather.out"
printf '%s\n' gather/lib/b256/t1 gather/lib/f16/b256/t1 | diff -u - "$tmp/gather.out" ||
    fail "--list --source f16,u8: unexpected gather names"
# a pass over every row: once per kernel, source and thread count whatever the
# batches, no naive kernel (seconds a pass)
"$bench" --list --batch 64,256 --threads 1,2 --filter pass >"$tmp/pass.out"
printf '%s\n' pass/blas/t1 pass/blas/t2 pass/blas/f32/t1 pass/blas/f32/t2 pass/blas/f16/t1 pass/blas/f16/t2 \
    pass/sparse/csr/t1 pass/sparse/csr/t2 >"$tmp/pass.want"
diff "$tmp/pass.want" "$tmp/pass.out" >/dev/null || fail "--list --filter pass: unexpected names"
echo "ok: case names"

"$bench" --batch 4096 --threads 1 --filter 'loss_grad,epoch/blas,epoch/sparse' --reps 2 --min-seconds 0.01 \
    --json "$tmp/out.json" >"$tmp/run.out"
"$bench" --shape 3000,64,20 --batch 256 --threads 1 --filter 'loss_grad' --reps 2 --min-seconds 0.01 \
    --json "$tmp/shape.json" >"$tmp/shape.out"
"$bench" --shape 20000,64,20 --batch 256 --threads 2 --filter 'pass' --reps 2 --min-seconds 0.01 \
    --json "$tmp/pass.json" >"$tmp/pass-run.out"
"$python" - "$tmp/out.json" "$tmp/shape.json" "$tmp/pass.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def need(obj, keys, where):
    for k in keys:
        assert k in obj, f"{where}: no '{k}'"
need(doc, ["machine", "cases", "git", "date", "bounds", "bounds_end", "gate", "tolerance", "data"], "top level")
need(doc["machine"], ["cpu", "cores", "simd", "blas_config", "blas_core", "OPENBLAS_CORETYPE",
                      "OPENBLAS_L2_SIZE", "threads"], "machine")
assert doc["bounds"] and all(b["read_gbps"] > 0 and b["sgemm_gflops"] > 0 for b in doc["bounds"]), "bounds"
need(doc["data"], ["n", "d", "k", "sources"], "data")
assert [s["name"] for s in doc["data"]["sources"]] == ["u8", "f32", "f16", "csr"], doc["data"]["sources"]
assert doc["data"]["sources"][3]["nnz"] > 0, "csr nnz"
names = [c["name"] for c in doc["cases"]]
want = ["loss_grad/naive/b4096/t1", "loss_grad/blas/b4096/t1",
        "loss_grad/naive/f32/b4096/t1", "loss_grad/blas/f32/b4096/t1",
        "loss_grad/naive/f16/b4096/t1", "loss_grad/blas/f16/b4096/t1",
        "loss_grad/naive/csr/b4096/t1", "loss_grad/sparse/csr/b4096/t1",
        "epoch/blas/b4096/t1", "epoch/blas/f32/b4096/t1", "epoch/blas/f16/b4096/t1", "epoch/sparse/csr/b4096/t1"]
assert names == want, names
for c in doc["cases"]:
    need(c, ["name", "kernel", "source", "op", "batch", "threads", "ns_min", "ns_median", "gflops", "gbps"], c["name"])
    assert 0 < c["ns_min"] <= c["ns_median"], c["name"]
    assert c["batch"] == 4096 and c["threads"] == 1, c["name"]
    parts = c["name"].split("/")
    assert (c["source"] == "u8") == (len(parts) == 4), c["name"]
    assert c["source"] == "u8" or parts[2] == c["source"], c["name"]
    assert c["gflops"] > 0 and c["gbps"] > 0 and c["bound_ns"] > 0, c["name"]
    if c["kernel"] != "naive":
        assert c["correctness"]["passed"] and c["correctness"]["dW"]["max_abs"] >= 0, c["name"]
        assert c["correctness"]["source"] == c["source"] and c["correctness"]["kernel"] == c["kernel"], c["name"]
    if c["op"] == "loss_grad" and c["kernel"] != "naive":
        assert c["speedup_vs_naive"] > 0, c["name"]
    if c["op"] == "loss_grad" and c["kernel"] == "blas":  # ~10x: safe on a busy machine
        assert c["speedup_vs_naive"] > 1, c["name"]
    if c["op"] == "epoch":
        assert c["ratio_to_bound"] > 0, c["name"]
sparse = [c for c in doc["cases"] if c["kernel"] == "sparse"]
assert sparse and all(c["limit"] in ("memory", "scatter") for c in sparse), "sparse: bound by memory or the scatter"
pairs = {(g["source"], g["kernel"]) for g in doc["gate"]}
assert pairs == {("u8", "blas"), ("f32", "blas"), ("f16", "blas"), ("csr", "sparse")}, pairs

shape = json.load(open(sys.argv[2]))
assert shape["data"]["origin"] == "shape" and shape["data"]["k"] == 20 and shape["data"]["d"] == 64, shape["data"]
assert [s["name"] for s in shape["data"]["sources"]] == ["f32", "f16"], shape["data"]["sources"]
names = [c["name"] for c in shape["cases"]]
assert names == ["loss_grad/naive/f32/b256/t1", "loss_grad/blas/f32/b256/t1",
                 "loss_grad/naive/f16/b256/t1", "loss_grad/blas/f16/b256/t1"], names
pas = json.load(open(sys.argv[3]))
names = [c["name"] for c in pas["cases"]]
assert names == ["pass/blas/f32/t2", "pass/blas/f16/t2"], names
for c in pas["cases"]:
    assert c["op"] == "pass" and c["batch"] == 0 and c["ns_min"] > 0 and c["gflops"] > 0 and c["bound_ns"] > 0, c
print("ok: the JSON has every field")
PY
