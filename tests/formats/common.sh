# common.sh: sourced by the tests of tests/formats. Sets $root, $py (Debian's
# shellcheck shell=bash
# python3, which has numpy), $tmp (removed on exit) and $data (MNIST, for
# need_mnist); a test skips (exit 77) when what it needs is absent.
set -euo pipefail

: "${SOFTREG:?set SOFTREG to the softreg binary}"
root=${SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
py=/usr/bin/python3
data=${SOFTREG_TEST_DATA:-$root/data/mnist}

need_numpy() {
    if [[ ! -x $py ]] || ! "$py" -c 'import numpy' 2>/dev/null; then
        echo "skip: $py with numpy is needed (apt-get install python3-numpy)"
        exit 77
    fi
}

need_mnist() {
    local f
    for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        if [[ ! -e $data/$f && ! -e $data/$f.gz ]]; then
            echo "skip: no MNIST in $data (scripts/fetch-mnist)"
            exit 77
        fi
    done
}

test_name=$(basename "$0" .sh)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/softreg-$test_name.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
