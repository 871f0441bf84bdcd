#!/usr/bin/env bash
# scripts/bench.sh: every benchmark of the project in one run (make bench).
#
#   scripts/bench.sh BUILD BIN        run them all; BUILD holds clusterd,
#                                     clusterctl and bench-registry, BIN
#                                     clustersim (make all copies it there)
#   scripts/bench.sh --record [RESULTS.json...]
#                                     rewrite bench/baseline.json from the
#                                     last results (make bench-baseline); with
#                                     several results files, the worst value of
#                                     each figure (the conservative baseline)
#
# Each benchmark's output goes to build/bench/logs/NAME.log; the figures are
# parsed from it (JSON where the command writes JSON, a strict regular
# expression otherwise) by scripts/bench_table.py, which writes
# build/bench/results.json and build/bench/results.md and compares every
# figure with bench/baseline.json: the run fails (exit 1) when a figure is
# more than 30 % worse than its baseline (a throughput below 0.7 x baseline,
# a wall time or a memory figure above baseline / 0.7).  BENCH_NO_FAIL=1
# reports regressions without failing.  A benchmark that fails, hangs (each
# has a time limit) or prints something the parser does not recognise always
# fails the run, naming the benchmark: no figure is ever made up.
#
# Each step says what it runs and how far the whole is ("bench: [3/9] ...").
# SIGINT or SIGTERM stops the benchmark that runs (by its PID), reports the
# table of those that finished and exits with 128 + the signal.
set -uo pipefail

out=build/bench
baseline=bench/baseline.json
here=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--record" ]; then
    shift
    [ $# -gt 0 ] || set -- "$out/results.json"
    exec python3 "$here/bench_table.py" record --baseline "$baseline" "$@"
fi

build=${1:?usage: scripts/bench.sh BUILD BIN | scripts/bench.sh --record [RESULTS.json...]}
bin=${2:?usage: scripts/bench.sh BUILD BIN | scripts/bench.sh --record [RESULTS.json...]}
for f in "$bin/clustersim" "$build/clusterd" "$build/clusterctl" "$build/bench-registry"; do
    [ -x "$f" ] || { echo "bench: $f is missing: run make BUILD=$build BIN=$bin all first" >&2; exit 2; }
done

rm -rf "$out/logs" "$out/fuzz-1" "$out/fuzz-2" "$out/explore" "$out/daemon"
mkdir -p "$out/logs" "$out/runs"
manifest="$out/logs/manifest.tsv"
: > "$manifest"
failed=()
steps=$(grep -c '^run [a-z]' "$0")
start=$(date +%s)
step=0
interrupted=""
current=""
on_signal() {
    interrupted=$1
    [ -n "$current" ] && kill -TERM "$current" 2> /dev/null
}
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM

# run NAME LIMIT_SECONDS COMMAND...: runs one benchmark with a time limit,
# output (stdout and stderr) to $out/logs/NAME.log; the manifest gets its
# name, exit status, wall seconds and command.
run() {
    local name=$1 limit=$2
    shift 2
    local log="$out/logs/$name.log"
    [ -z "$interrupted" ] || return 0
    step=$((step + 1))
    printf 'bench: [%d/%d, %d s so far] %-18s %s\n' "$step" "$steps" $(( $(date +%s) - start )) "$name" "$*"
    local t0 t1 rc
    t0=$(date +%s.%N)
    # in the background, so that a signal reaches the trap at once
    timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1 &
    current=$!
    wait "$current"
    rc=$?
    # a signal interrupts wait (status > 128) while the benchmark still ends
    while [ "$rc" -gt 128 ] && kill -0 "$current" 2> /dev/null; do wait "$current"; rc=$?; done
    current=""
    t1=$(date +%s.%N)
    if [ -n "$interrupted" ]; then
        echo "bench: $name: interrupted by $interrupted (not counted)" >&2
        return 0
    fi
    local wall
    wall=$(python3 -c 'import sys; print("%.3f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$t0" "$t1")
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$wall" "$*" >> "$manifest"
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 124 ] && echo "bench: $name: FAILED: killed after its time limit of ${limit} s" >&2 \
                          || echo "bench: $name: FAILED with exit status $rc" >&2
        echo "bench: $name: last lines of $log:" >&2
        tail -n 15 "$log" | sed 's/^/    /' >&2
        failed+=("$name")
    else
        echo "       ${wall} s wall"
    fi
}

# Simulator events per wall second: 100-node ping cluster, every fault on.
run sim-ping-100 120 "$bin/clustersim" bench scenarios/bench/ping-100-faults.yaml --min-seconds 5
# The 1,000-pod Kubernetes DNS join storm to full mesh: wall time and memory.
run k8s-dns-1000 180 "$bin/clustersim" bench scenarios/bench/k8s-dns-1000.yaml --min-seconds 0
# The same storm with the registry on (issue 24): trackers and ten started
# names a pod, registered during the storm, at 200, 500 and 1,000 pods; the
# table adds how wall time and events grow between the sizes.
run k8s-dns-names-200 300 "$bin/clustersim" bench scenarios/bench/k8s-dns-names-200.yaml --min-seconds 0
run k8s-dns-names-500 900 "$bin/clustersim" bench scenarios/bench/k8s-dns-names-500.yaml --min-seconds 0
run k8s-dns-names-1000 2400 "$bin/clustersim" bench scenarios/bench/k8s-dns-names-1000.yaml --min-seconds 0
# The registry: 10 nodes, 1 M registrations replicated to every node.
run registry-1m 180 "$bin/clustersim" bench scenarios/bench/registry-1m.yaml --min-seconds 0
run registry-1m-unbatched 180 "$bin/clustersim" bench scenarios/bench/registry-1m-unbatched.yaml --min-seconds 0
# Seeds per second: the 3-node join storm, then fuzz campaigns on 1 and 2 jobs.
run join-storm-3 60 "$bin/clustersim" bench scenarios/frequency/join-storm-3-swarm.yaml --min-seconds 2 --quiet
run fuzz-jobs-1 120 "$bin/clustersim" fuzz --seeds 1..1000 --nodes 8..8 --jobs 1 --shrink 0 --quiet --out "$out/fuzz-1"
run fuzz-jobs-2 120 "$bin/clustersim" fuzz --seeds 1..2000 --nodes 8..8 --jobs 2 --shrink 0 --quiet --out "$out/fuzz-2"
# Exhaustive exploration: the complete search of the 4-node fixed-mode join.
run explore-join-4 300 "$bin/clustersim" explore scenarios/explore/join-4-fixed.yaml --from 4900ms --out "$out/explore"
# Real sockets (3 clusterd on loopback), then the registry's C API in process.
run daemon 180 env BENCH_DAEMON_DIR="$out/daemon" scripts/bench-daemon.sh "$build"
total=$(( $(date +%s) - start ))
if [ -n "$interrupted" ]; then
    echo "bench: interrupted by $interrupted after $((step - 1)) of $steps benchmarks; the table holds those that finished"
    python3 "$here/bench_table.py" report --out "$out" --baseline "$baseline" --total-seconds "$total" \
        ${failed[@]+--failed "${failed[*]}"}
    [ "$interrupted" = SIGINT ] && exit 130 || exit 143
fi
echo "bench: all benchmarks ran in ${total} s"

python3 "$here/bench_table.py" report --out "$out" --baseline "$baseline" --total-seconds "$total" \
    ${failed[@]+--failed "${failed[*]}"}
rc=$?
# Every complete run is kept, for a conservative --record over several runs.
if [ "$rc" -le 1 ] && [ ${#failed[@]} -eq 0 ]; then
    cp -f "$out/results.json" "$out/runs/results-$(date -u +%Y%m%dT%H%M%SZ).json"
fi
if [ ${#failed[@]} -gt 0 ]; then
    echo "bench: FAILED: these benchmarks did not run to the end: ${failed[*]} (logs in $out/logs/)" >&2
    exit 1
fi
exit "$rc"
