#!/bin/bash
# scripts/check-demo.sh BUILD: `make demo`'s story (scripts/demo.sh) ends
# with a true verdict: on the real build every step shows what it claims and
# the demo exits 0; on a clustersim that runs nothing (a stand-in that exits
# 0 and prints nothing) every step is reported as not shown and it exits 1.
set -u
build=${1:?usage: check-demo.sh BUILD}
fail() { echo "FAIL check-demo: $*"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
scripts/demo.sh "$build/clustersim" > "$tmp/demo.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -n 30 "$tmp/demo.txt"; fail "the demo exited $rc"; }
grep -q '^demo: every step showed what it claims (8 of 8)\.$' "$tmp/demo.txt" || fail "no verdict line: $(tail -3 "$tmp/demo.txt")"
echo "ok   demo: 8 of 8 steps showed what they claim, exit 0"
mkdir "$tmp/fake"
printf '#!/bin/sh\nexit 0\n' > "$tmp/fake/clustersim"
chmod +x "$tmp/fake/clustersim"
scripts/demo.sh "$tmp/fake/clustersim" > "$tmp/fake.txt" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "a clustersim that runs nothing: the demo exited $rc"
n=$(grep -c '^FAIL [0-9]' "$tmp/fake.txt")
[ "$n" -eq 8 ] || fail "a clustersim that runs nothing: $n of 8 steps reported as not shown: $(grep -E '^(ok|FAIL) ' "$tmp/fake.txt")"
echo "ok   demo: with a clustersim that runs nothing, all 8 steps are reported as not shown, exit 1"
