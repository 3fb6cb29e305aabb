#!/usr/bin/env bash
# test_label_values.sh: labels that are not 0..k-1 stay the data's own values.
# The first 5000 training and 5000 test MNIST rows, converted by
# scripts/convert to uint8 .npy, libsvm and CSV, with the labels as they are
# (0..9) and mapped:
#   - 1000 + 7c (increasing: the class order is the same; int16 in .npy): the
#     model is the same format's 0..9 model bit for bit (W, b), with
#     `export --format json` listing the classes 1000, 1007, ..., 1063;
#   - a map that reorders the classes, with negative and 64-bit values, in CSV:
#     the class table is the sorted values, and predictions are the 0..9 CSV
#     model's through the map (at most 0.5% of rows otherwise, and the
#     accuracy within 0.5 points: the classes' order changes float sums a little).
# For each, `eval --json` lists the classes and gives the 0..9 model's
# accuracy, and `predict` prints only training label values, as plain text
# and in --json.
# Needs MNIST ($SOFTREG_TEST_DATA) and /usr/bin/python3 with numpy (skipped without).
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"
need_numpy
need_mnist

convert() { # FORMAT OUT [convert options...]
    local fmt=$1 out=$2
    shift 2
    "$py" "$root/scripts/convert" --data "$data" --limit 5000 --to "$fmt" --out "$tmp/$out" "$@" >/dev/null
}
for fmt in npy-u8 libsvm csv; do
    convert "$fmt" "plain-$fmt"
done
convert npy-u8 offset-npy-u8 --label-offset 1000 --label-scale 7 --label-dtype int16
convert libsvm offset-libsvm --label-offset 1000 --label-scale 7
convert csv offset-csv --label-offset 1000 --label-scale 7
map=-3,40,7,-100,5,0,99,12,-8,1000000000000
convert csv mapped-csv --label-map="$map"

run() { # NAME TEST-FILE [TEST-LABELS] -- TRAIN-DATA-ARGS...
    local name=$1 test=$2 labels=()
    shift 2
    if [[ $1 != -- ]]; then labels=(--test-labels "$1"); shift; fi
    shift
    "$SOFTREG" train "$@" --json --quiet --out "$tmp/$name.srm" >"$tmp/$name.train.json"
    "$SOFTREG" export --model "$tmp/$name.srm" --format json >"$tmp/$name.export.json"
    "$SOFTREG" eval --model "$tmp/$name.srm" --test "$test" "${labels[@]}" --json >"$tmp/$name.eval.json"
    "$SOFTREG" predict --model "$tmp/$name.srm" --top 2 --json "$test" >"$tmp/$name.predict.json"
    "$SOFTREG" predict --model "$tmp/$name.srm" --top 2 "$test" >"$tmp/$name.predict.txt"
}
for d in plain-npy-u8 offset-npy-u8; do
    run "$d" "$tmp/$d/test-x.npy" "$tmp/$d/test-y.npy" -- --train "$tmp/$d/train-x.npy" \
        --train-labels "$tmp/$d/train-y.npy" --test "$tmp/$d/test-x.npy" --test-labels "$tmp/$d/test-y.npy"
done
for d in plain-libsvm offset-libsvm; do
    run "$d" "$tmp/$d/test.svm" -- --train "$tmp/$d/train.svm" --test "$tmp/$d/test.svm"
done
for d in plain-csv offset-csv mapped-csv; do
    run "$d" "$tmp/$d/test.csv" -- --train "$tmp/$d/train.csv" --test "$tmp/$d/test.csv"
done

"$py" - "$tmp" "$map" <<'PY'
import json, os, re, sys
tmp, label_map = sys.argv[1], [int(v) for v in sys.argv[2].split(",")]
offset = [1000 + 7 * c for c in range(10)]
bad = []

def load(name, what):
    with open(os.path.join(tmp, f"{name}.{what}.json")) as f:
        return json.load(f)

def text_labels(name):
    """The labels of `predict` in plain text: 'FILE[i]: LABEL  L:p L:p'."""
    out = []
    with open(os.path.join(tmp, f"{name}.predict.txt")) as f:
        for line in f:
            m = re.fullmatch(r".*\[\d+\]: (-?\d+)  (-?\d+):[0-9.]+ (-?\d+):[0-9.]+\n", line)
            if not m:
                bad.append(f"{name}: predict printed {line!r}")
                return out
            out += [int(m.group(1)), int(m.group(2)), int(m.group(3))]
    return out

for name, plain, values, exact in (("offset-npy-u8", "plain-npy-u8", offset, True),
                                  ("offset-libsvm", "plain-libsvm", offset, True),
                                  ("offset-csv", "plain-csv", offset, True),
                                  ("mapped-csv", "plain-csv", label_map, False)):
    want = sorted(values)
    model, ev, pred = load(name, "export"), load(name, "eval"), load(name, "predict")["predictions"]
    plain_model, plain_eval = load(plain, "export"), load(plain, "eval")
    plain_pred = [p["label"] for p in load(plain, "predict")["predictions"]]
    labels = [p["label"] for p in pred]
    tops = [t["class"] for p in pred for t in p["top"]]
    txt = text_labels(name)
    if model["classes"] != want:
        bad.append(f"{name}: export lists the classes {model['classes']}, not {want}")
    if ev.get("classes") != want:
        bad.append(f"{name}: eval lists the classes {ev.get('classes')}, not {want}")
    strange = sorted(set(labels + tops + txt) - set(values))
    if strange:
        bad.append(f"{name}: predict printed labels that are not training labels: {strange[:5]}")
    if len(labels) != len(plain_pred) or len(txt) != 3 * len(labels):
        bad.append(f"{name}: {len(labels)} predictions ({len(txt) // 3} as text), {plain} {len(plain_pred)}")
        continue
    mapped = [values[c] for c in plain_pred]
    ndiff = sum(a != b for a, b in zip(labels, mapped))
    ndiff_txt = sum(a != b for a, b in zip(txt[::3], labels))
    dacc = 100 * (ev["accuracy"] - plain_eval["accuracy"])
    if exact and (model["W"] != plain_model["W"] or model["b"] != plain_model["b"]):
        bad.append(f"{name}: W and b differ from {plain}'s (the classes are in the same order)")
    limit, acc_points = (0, 0.0) if exact else (int(0.005 * len(labels)), 0.5)
    if ndiff > limit:
        bad.append(f"{name}: {ndiff} predictions are not {plain}'s through the map (at most {limit})")
    if ndiff_txt:
        bad.append(f"{name}: {ndiff_txt} labels of predict's text differ from its --json")
    if not abs(dacc) <= acc_points + 1e-9:
        bad.append(f"{name}: eval accuracy {100 * ev['accuracy']:.2f}%, {plain} {100 * plain_eval['accuracy']:.2f}%")
    print(f"{name}: classes {want[0]}..{want[-1]} ({len(want)}), eval accuracy {100 * ev['accuracy']:.2f}% "
          f"({dacc:+.2f} points from {plain}), {ndiff} of {len(labels)} predictions differ from {plain}'s "
          f"through the map, W and b {'identical' if model['W'] == plain_model['W'] and model['b'] == plain_model['b'] else 'differ'}")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
