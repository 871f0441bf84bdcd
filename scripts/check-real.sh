#!/bin/bash
# scripts/check-real.sh CLUSTERSIM: the real world, as `make test` runs it
# (about three minutes on 2 cores; the long scenarios run side by side, each
# run in its own namespaces):
#  1. shipped scenarios marked `worlds: [sim, real]` run with --real and
#     pass: the 3-pod Kubernetes DNS joins (both membership modes), a
#     partition with a name started on both sides, a pod deleted and
#     replaced with a new address, a 20-pod DNS join with answers truncated
#     to 8 records (the front before dnsmasq), and three trials of the
#     fixed tracker's 3-node start-up storm (never stuck);
#  2. three trials of the swarm tracker's storm run and each is classified
#     (stuck, or converged): the fraction is `make fidelity`'s job; a real
#     run's --report holds the page, the observed trace and the daemons' logs;
#  3. a run interrupted half-way with SIGINT exits 130 and leaves no
#     namespace, link or process behind; a run killed with SIGKILL leaves no
#     process (its daemons die with it) and the next run sweeps its
#     namespaces and links; a second run starts right after.
# Skipped, with one message, where namespaces cannot be made.
set -u
sim=${1:?usage: check-real.sh CLUSTERSIM}
short=(scenarios/k8s-dns-join-3-fixed.yaml scenarios/k8s-dns-join-3-libcluster.yaml)
long=(scenarios/registry-partition-conflict-fixed.yaml scenarios/k8s-pod-replaced-fixed.yaml
      scenarios/k8s-dns-truncated-20-fixed.yaml)
storm=scenarios/fidelity/startup-3-connect-at-start
fail() { echo "FAIL check-real: $*"; exit 1; }
out=$("$sim" run --real --trials 1 scenarios/fidelity/startup-3-connect-at-start-fixed.yaml 2>&1)
rc=$?
if grep -q "^skip real world" <<< "$out"; then
    echo "$out"
    exit 0
fi
[ $rc -eq 0 ] || fail "a first real run failed: $out"

# Every scenario in the background, each its own clustersim (and tag), while
# the interruption checks run.
logs=$(mktemp -d)
pids=() names=()
start() { # NAME ARGS...
    names+=("$1")
    local name=$1
    shift
    "$sim" run --real "$@" > "$logs/$name.log" 2>&1 &
    pids+=($!)
}
for f in "${short[@]}" "${long[@]}"; do
    start "$(basename "$f" .yaml)" "$f"
done
start storm-fixed --trials 3 "$storm-fixed.yaml"
# Our own runs' leftovers, by the tag csr<pid> of the run.
leftovers() {
    local tag=csr$1
    { ip netns list | grep "^$tag-"; ip -o link show | grep -o "$tag[a-z0-9]*"; } 2> /dev/null
}

"$sim" run --real "${short[0]}" > /dev/null 2>&1 &
pid=$!
sleep 8
[ -n "$(leftovers $pid)" ] || fail "the run made no namespaces to check"
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "an interrupted run exited $rc, not 130"
[ -z "$(leftovers $pid)" ] || fail "an interrupted run left: $(leftovers $pid | tr '\n' ' ')"
[ -z "$(pgrep -P $pid)" ] || fail "an interrupted run left processes"
echo "ok   real world: SIGINT half-way: exit 130, no namespace, link or process left"

"$sim" run --real "${short[0]}" > /dev/null 2>&1 &
pid=$!
sleep 8
kids=$(pgrep -P $pid | tr '\n' ' ')
daemons=$(for k in $kids; do pgrep -P "$k"; done; echo $kids)
kill -KILL $pid
wait $pid 2> /dev/null
sleep 1
for d in $daemons; do
    [ -d /proc/$d ] && ! grep -q zombie /proc/$d/status 2> /dev/null && ! grep -q "^State:.*Z" /proc/$d/status &&
        fail "a killed run left its child $d running"
done
[ -n "$(leftovers $pid)" ] || fail "a killed run left no namespace (nothing to sweep: the check is wrong)"
"$sim" run --real --quiet "${short[0]}" > /dev/null 2>&1 || fail "the run after a killed one failed"
[ -z "$(leftovers $pid)" ] || fail "the next run did not sweep what the killed run left: $(leftovers $pid | tr '\n' ' ')"
echo "ok   real world: SIGKILL half-way: its daemons died with it; the next run swept its namespaces and passed"

# A real run's report: the page, the observed trace (header marks the real
# world; samples and tracker states from the probes) and the daemons' logs.
rep=$(mktemp -d)
"$sim" run --real --report "$rep" "$storm-fixed.yaml" > /dev/null 2>&1 || fail "run --real --report failed"
page=$rep/startup-3-connect-at-start-fixed/trial-1
grep -q "trial 1 (real world" "$page/index.html" 2> /dev/null || fail "no real-world report page in $page"
head -n 1 "$page/trace.jsonl" | grep -q '"world":"real"' || fail "the report's trace is not marked real"
grep -q '"kind":"tracker_state".*"to":"tracking"' "$page/trace.jsonl" || fail "the trace shows no tracker reaching tracking"
[ "$(grep -c '"kind":"sample"' "$page/trace.jsonl")" -ge 30 ] || fail "too few samples in the report's trace"
[ -s "$page/n1.log" ] && [ -s "$page/n3.log" ] || fail "the daemons' logs are not beside the report"
"$sim" replay --check "$page/trace.jsonl" > /dev/null 2>&1
[ $? -eq 2 ] || fail "replay --check did not refuse a real run's trace (it has no seed)"
rm -rf "$rep"
echo "ok   real world: --report draws the page from the polled samples, the daemons' logs beside it"

# The storm's swarm twin: three trials, each stuck or converged.
swarm_out=$("$sim" run --real --trials 3 "$storm-swarm.yaml" 2>&1)
classified=$(grep -cE "^(PASS|FAIL) startup-3-connect-at-start-swarm +trial=[0-9]+ +(stuck at|converged)" <<< "$swarm_out")
[ "$classified" -eq 3 ] || fail "the swarm storm's trials were not each stuck or converged: $swarm_out"
echo "ok   real world: swarm tracker's 3-node storm, 3 trials: $(grep -o "stuck fraction [0-9]*/[0-9]*" <<< "$swarm_out")"

for i in "${!pids[@]}"; do
    wait "${pids[$i]}"
    rc=$?
    log="$logs/${names[$i]}.log"
    grep -E "^(PASS|FAIL)" "$log"
    [ $rc -eq 0 ] || { cat "$log"; fail "${names[$i]} failed in the real world"; }
done
rm -rf "$logs"
# The daemons' logs (emptied at each run's start): a sanitized build reports here.
for f in "${short[@]}" "${long[@]}" "$storm-fixed.yaml" "$storm-swarm.yaml"; do
    if grep -l "AddressSanitizer\|LeakSanitizer\|runtime error" "build/real/$(basename "$f" .yaml)"/trial-*/*.log \
        2> /dev/null; then
        fail "a sanitizer reported an error in a daemon's log (above)"
    fi
done
echo "ok   real world: ${#names[@]} scenario runs passed against real daemons: 3-pod DNS joins, a partition with a contested name, a pod replaced with a new address, truncated DNS answers, the fixed tracker's storm (3 trials)"
