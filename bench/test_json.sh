#!/usr/bin/env bash
# softreg-bench --json writes the fields scripts/bench-compare and the README
# rely on: machine, commit, date, bounds, and per case name, kernel, op,
# batch, threads, ns_min, ns_median, gflops, gbps, the gate's figures, and
# bound_ns for epoch records.
set -euo pipefail
bench=${SOFTREG_BENCH:?set SOFTREG_BENCH}
python=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-bench-test.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

"$bench" --batch 4096 --threads 1 --filter 'loss_grad,epoch/blas' --reps 2 --min-seconds 0.01 \
    --json "$tmp/out.json" >"$tmp/run.out"
"$python" - "$tmp/out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
def need(obj, keys, where):
    for k in keys:
        assert k in obj, f"{where}: no '{k}'"
need(doc, ["machine", "cases", "git", "date", "bounds", "bounds_end", "gate", "tolerance", "data"], "top level")
need(doc["machine"], ["cpu", "cores", "simd", "blas_config", "blas_core", "OPENBLAS_CORETYPE",
                      "OPENBLAS_L2_SIZE", "threads"], "machine")
assert doc["bounds"] and all(b["read_gbps"] > 0 and b["sgemm_gflops"] > 0 for b in doc["bounds"]), "bounds"
names = [c["name"] for c in doc["cases"]]
assert names == ["loss_grad/naive/b4096/t1", "loss_grad/blas/b4096/t1", "epoch/blas/b4096/t1"], names
for c in doc["cases"]:
    need(c, ["name", "kernel", "op", "batch", "threads", "ns_min", "ns_median", "gflops", "gbps"], c["name"])
    assert 0 < c["ns_min"] <= c["ns_median"], c["name"]
    assert c["batch"] == 4096 and c["threads"] == 1, c["name"]
blas = doc["cases"][1]
assert blas["correctness"]["passed"] and blas["correctness"]["dW"]["max_abs"] >= 0, "correctness"
assert blas["speedup_vs_naive"] > 1, "speedup"
epoch = doc["cases"][2]
assert epoch["bound_ns"] > 0 and epoch["ratio_to_bound"] > 0, "epoch bound"
print("ok: the JSON has every field")
PY
