#!/bin/bash
# scripts/check-replay.sh CLUSTERSIM: `replay --check` validates a trace
# before it re-runs it (cli/trace_check.h), run by `make test`: an intact
# trace is identical; a negative time, an undeclared node, an unknown format
# and a cut-off file are refused (status 2, path:line); swapped and
# duplicated lines no longer match the recorded hash (status 1); and
# registry names with quotes, backslashes, tabs, control bytes, newlines
# and non-ASCII text (tests/hostile/names.yaml) keep every output valid:
# the trace (each line JSON, each name back exactly), replay --check, the
# run report's summary, JUnit XML and the Perfetto export.
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
w("format", [lines[0].replace('"format":2', '"format":7')] + lines[1:])
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
# a run report's trace holds size samples outside the hashed trace: it checks too
"$bin" run scenarios/deadlock-a-swarm.yaml --report "$dir/report" > /dev/null || fail "the report run"
out=$("$bin" replay "$dir/report/deadlock-a-swarm/seed-1/trace.jsonl" --check) \
    && grep -q "identical" <<< "$out" || fail "replay --check of a run report's trace: $out"
echo "ok   replay --check: intact trace identical, and a run report's trace (with samples); negative time, unknown node, unknown format, cut file refused; swapped and duplicated lines caught"

"$bin" run tests/hostile/names.yaml --trace "$dir/names.jsonl" --report "$dir/names-report" --report-all \
    --junit "$dir/names.xml" > /dev/null || fail "tests/hostile/names.yaml failed"
"$bin" replay "$dir/names.jsonl" --check > /dev/null || fail "replay --check of the hostile names' trace"
"$bin" replay "$dir/names.jsonl" --perfetto "$dir/names.perfetto.json" > /dev/null || fail "perfetto export"
python3 - "$dir" <<'PY' || fail "an output did not parse or lost a name"
import json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
want = {'my"proc', 'back\\slash', 'tab\there', 'ctl\x01byte', 'new\nline', 'caf\u00e9 \u2603'}
seen = set()
for line in open(d + "/names.jsonl", "rb"):
    o = json.loads(line)
    if o["kind"] in ("reply", "command"):
        seen.add(o["name"])
assert want <= seen, (want - seen)
json.load(open(d + "/names-report/summary.json"))
json.load(open(d + "/names.perfetto.json"))
ET.parse(d + "/names.xml")
PY
echo "ok   hostile registry names: every trace line valid JSON with the names back exactly; report, JUnit, Perfetto parse"
