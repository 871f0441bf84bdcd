#!/usr/bin/env bash
# scripts/check-report.sh BUILD: the run reports of issue 8, checked end to
# end (run by `make test`).
#  1. A failing, stuck Swarm-mode run (tests/reports/): `run --report` writes
#     index.html, plots, trace, Perfetto JSON and summary; the page names the
#     wait-for cycle, the stuck nodes' dumps and the replay command; plots
#     are valid PNG/SVG when gnuplot is installed; the JUnit case carries the
#     replay command and the report path; DIR/index.html links the report.
#  2. Without gnuplot (CLUSTERSIM_GNUPLOT=none) the page says plots were
#     skipped and still renders its tables.
#  3. Sampling for a report does not change the run: same trace hash.
#  4. `fuzz` writes a report for every failing seed; a duplicates failure
#     lists the names the registries disagree on.
#  5. `replay --perfetto` and `replay --sequence` on the report's trace.
#  6. Issue 23: the page's replay line is `BIN replay DIR/trace.jsonl` on the
#     saved trace and running it shows every record (the re-run command comes
#     second; fuzz reports too); the page shows the version of
#     config/version.h beside the trace hash; the size plots (their SVG)
#     have whole-number ticks only, no line hidden under another and a key
#     naming every node: checked on the stuck run (three identical nodes),
#     a partition (two groups that coincide before and after it) and four
#     nodes that join one by one.
set -euo pipefail
build=${1:-build/plain}
bin=$build/clustersim
out=$build/check-report # per build: the plain and sanitized checks do not share files
rm -rf "$out"
mkdir -p "$out"
fail() { echo "check-report: FAIL: $*" >&2; exit 1; }
validate() { python3 scripts/validate-report.py "$@" || fail "report check: $1"; }

if command -v gnuplot >/dev/null && [ "${CLUSTERSIM_GNUPLOT-unset}" != none ]; then
  plots=--plots sizes=--sizes
else
  plots=--no-plots sizes=
  echo "check-report: gnuplot is not installed: checking the report without plots"
fi
# The version the page must show, read from the source (not from the binary).
version=$(sed -n 's/^#define CS_VERSION "\(.*\)"$/\1/p' config/version.h)
[ -n "$version" ] || fail "no CS_VERSION in config/version.h"

# 1. A failing stuck run.
scenario=tests/reports/swarm-storm-expects-convergence.yaml
set +e
"$bin" run "$scenario" --report "$out/run" --junit "$out/junit.xml" >"$out/run.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$out/run.log"; fail "$scenario should fail (exit 1), got $rc"; }
dir=$out/run/swarm-storm-expects-convergence/seed-1
grep -qF "report: $dir/index.html" "$out/run.log" || fail "run did not print the report path"
cycle=$(sed -n 's/^     wait-for: //p' "$out/run.log")
replay=$(sed -n 's/^     replay: //p' "$out/run.log")
[ -n "$cycle" ] && [ -n "$replay" ] || fail "the run printed no wait-for cycle or replay command"
for f in index.html trace.jsonl trace.perfetto.json summary.json plots.gp states.dat; do
  [ -s "$dir/$f" ] || fail "$dir/$f is missing or empty"
done
validate "$dir" --nodes 3 $plots $sizes --replay "$bin" --version "$version" --text "$cycle" --text "$replay" \
  --text "FAIL" --text "not_stuck" --text "pending_sync_reqs" --text "sync_node" --text "clog n3"
python3 - "$out/junit.xml" "$dir/index.html" "$replay" "$bin replay $dir/trace.jsonl" <<'EOF' ||
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = [c for c in root.iter("testcase") if c.find("failure") is not None]
assert len(cases) == 1, "one failing testcase expected, got %d" % len(cases)
props = {p.get("name"): p.get("value") for p in cases[0].iter("property")}
assert props.get("report") == sys.argv[2], props
assert props.get("replay") == sys.argv[3], props
assert props.get("replay_trace") == sys.argv[4], props
body = cases[0].find("failure").text
assert "report: " + sys.argv[2] in body and "replay: " + sys.argv[3] in body, body
assert sys.argv[4] in body, body
EOF
  fail "JUnit XML lacks the report, the replay or the saved trace's replay"
python3 - "$dir/summary.json" "$version" "$bin replay $dir/trace.jsonl" <<'EOF' || fail "summary.json lacks the version or the trace's replay"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] == sys.argv[2] and s["replay_trace"] == sys.argv[3], s
EOF

# The entry page of the report directory links the failing run's report.
grep -qF 'href="swarm-storm-expects-convergence/seed-1/index.html"' "$out/run/index.html" ||
  fail "$out/run/index.html does not link the failing run's report"
grep -qF 'not_stuck, converged' "$out/run/index.html" || fail "$out/run/index.html does not list the failed expectations"
grep -qF "clustersim <span id=\"version\">$version</span>" "$out/run/index.html" ||
  fail "$out/run/index.html does not show clustersim $version"

# 2. No gnuplot: tables, no images, a note.
CLUSTERSIM_GNUPLOT=none "$bin" run scenarios/deadlock-a-swarm.yaml --report "$out/noplot" >"$out/noplot.log"
nodir=$out/noplot/deadlock-a-swarm/seed-1
validate "$nodir" --nodes 3 --no-plots --text "$(sed -n 's/^     wait-for: //p' "$out/noplot.log")" \
  --text "Node states at a glance" --text "Messages by type" --text "PASS"
! ls "$nodir"/*.png >/dev/null 2>&1 || fail "plots drawn although gnuplot was turned off"

# 3. The report's sampled re-run has the hash of the plain run.
plain=$(sed -n 's/.* hash=\([0-9a-f]*\).*/\1/p' "$out/run.log")
sampled=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["trace_hash"])' "$dir/summary.json")
[ "$plain" = "$sampled" ] || fail "sampling changed the run: hash $plain, report $sampled"
grep -q '"kind":"sample"' "$dir/trace.jsonl" || fail "the report's trace has no samples"

# 4. fuzz: a report per failing seed (Swarm join storms deadlock early).
"$bin" fuzz --mode swarm --profile join-storm --seeds 1..12 --shrink 0 --quiet --out "$out/fuzz" >"$out/fuzz.log" || true
reports=$(ls -d "$out"/fuzz/failures/*.report 2>/dev/null | wc -l)
yamls=$(ls "$out"/fuzz/failures/*.yaml 2>/dev/null | wc -l)
[ "$reports" -ge 1 ] && [ "$reports" -eq "$yamls" ] || fail "fuzz wrote $reports reports for $yamls failures"
for r in "$out"/fuzz/failures/*.report; do
  n=$(python3 -c 'import json,sys; print(len({json.loads(l)["node"] for l in open(sys.argv[1]) if "\"node_start\"" in l}))' "$r/trace.jsonl")
  extra=()
  case "$r" in *no_duplicates*) extra=(--text "Registries disagree"); dups=$((${dups:-0} + 1)) ;; esac
  # fuzz names the program `clustersim`: the build's, found on PATH.
  PATH=$build:$PATH validate "$r" --nodes "$n" $plots $sizes --replay clustersim --version "$version" \
    --text "FAIL" --text "clustersim run" "${extra[@]}"
done
[ "${dups:-0}" -ge 1 ] || fail "no no_duplicates failure among the fuzz reports to check the registry diff on"
# The report budget: --reports 1 writes one report per kind of failure.
"$bin" fuzz --mode swarm --profile join-storm --seeds 1..40 --shrink 0 --reports 1 --quiet --out "$out/fuzz-budget" >/dev/null || true
python3 - "$out/fuzz-budget/summary.json" <<'EOF2' || fail "--reports 1 did not write exactly one report per kind of failure"
import json, sys
failures = json.load(open(sys.argv[1]))["failures"]
kinds = {(f["invariant"], f["deadlock"]) for f in failures}
reported = [(f["invariant"], f["deadlock"]) for f in failures if f.get("report")]
assert len(failures) > len(kinds), "too few failures to test the budget"
assert sorted(reported) == sorted(kinds), (reported, kinds)
EOF2

# 5. Replay views of the same trace.
"$bin" replay "$dir/trace.jsonl" --perfetto "$out/replay.perfetto.json" >/dev/null
cmp -s "$out/replay.perfetto.json" "$dir/trace.perfetto.json" || fail "replay --perfetto differs from the report's export"
"$bin" replay "$dir/trace.jsonl" --sequence >"$out/sequence.txt"
grep -q "sync" "$out/sequence.txt" || fail "the sequence chart shows no sync message"
set +e
"$bin" replay "$dir/trace.jsonl" --sequence --limit 5 >/dev/null 2>"$out/limit.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "--sequence over the limit should exit 2, got $rc"

# 6. Size plots where lines coincide: a partition (n1, n2 | n3, n4, n5:
#    two merged lines, equal before and after it) and a four-node start
#    (distinct lines sharing long stretches), with their registry plot.
for s in k8s-partition-heal-fixed registry-partition-conflict-swarm; do
  "$bin" run "scenarios/$s.yaml" --report "$out/sizes" >"$out/$s.log" 2>&1 || { cat "$out/$s.log"; fail "$s failed"; }
  n=$(python3 -c 'import json,sys; print(len({json.loads(l)["node"] for l in open(sys.argv[1]) if "\"node_start\"" in l}))' \
      "$out/sizes/$s/seed-1/trace.jsonl")
  validate "$out/sizes/$s/seed-1" --nodes "$n" $plots $sizes --replay "$bin" --version "$version" --text PASS
done

echo "check-report: ok (stuck run report with cycle, dumps and replay of the saved trace; version $version; $plots${sizes:+ with whole ticks and no hidden line}; JUnit; hash kept; $reports fuzz reports; Perfetto and sequence views)"
