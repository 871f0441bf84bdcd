#!/usr/bin/env bash
# scripts/demo.sh: `make demo`, the story of the Swarm syncing deadlock told
# by the harness, for a newcomer.
# Usage: scripts/demo.sh CLUSTERSIM
#
# Every step checks that it showed what it says (the deadlock reproduced,
# the fixed tracker converged, the walkthrough counted to 3, the measured
# frequencies within their intervals, the fuzzer finding and shrinking the
# deadlock, the real daemons agreeing on one owner); the demo ends with a
# verdict over all of them and exits 1 if any did not hold.
set -uo pipefail
bin=${1:?usage: demo.sh CLUSTERSIM}
out=build/demo
rm -rf "$out"
mkdir -p "$out"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
results=()
# verdict STEP CONDITION-TEXT STATUS: records a step's check
verdict() {
    if [ "$3" -eq 0 ]; then
        printf '   \033[32mok\033[0m   %s\n' "$2"
        results+=("ok   $1: $2")
    else
        printf '   \033[31mNOT AS CLAIMED\033[0m   %s\n' "$2"
        results+=("FAIL $1: $2")
    fi
}

say "1. Three pods start at once, Swarm 3.4's tracker (scenarios/deadlock-a-swarm.yaml)"
cat <<'EOF'
Three pods of a Kubernetes deployment start together. libcluster connects
them; Swarm's tracker on each waits 5 s (cluster_wait), then picks a random
peer to sync with. Here the picks form a cycle: n1 syncs to n2, n2 to n3,
n3 to n1. Each tracker then gets a sync request from a node that is not the
one it waits for, parks it, and waits -- forever: no timer runs in `syncing`.
EOF
"$bin" run scenarios/deadlock-a-swarm.yaml --trace "$out/deadlock-a.jsonl" --report "$out/reports" | tee "$out/1.txt"
grep -q '^PASS deadlock-a-swarm .*stuck at' "$out/1.txt" && grep -q 'wait-for: n1 -> n2 -> n3 -> n1' "$out/1.txt"
verdict 1 "the deadlock reproduced: every tracker stuck in syncing, waiting in the cycle n1 -> n2 -> n3 -> n1" $?
echo
echo "The state dumps above are what production showed. The messages, as a sequence chart:"
"$bin" replay "$out/deadlock-a.jsonl" --sequence --from 5s | grep -v -- "--link"
echo "Replay the run event by event with:  $bin replay $out/deadlock-a.jsonl --from 5s"
echo "Open the run report (plots, wait-for cycle, dumps):  $out/reports/deadlock-a-swarm/seed-1/index.html"
echo "or its trace in ui.perfetto.dev:  $out/reports/deadlock-a-swarm/seed-1/trace.perfetto.json"

say "2. The same start with the fixed tracker (scenarios/deadlock-a-fixed.yaml)"
echo "Same seed, same timing; the fixed tracker never waits for a peer."
"$bin" run scenarios/deadlock-a-fixed.yaml --verbose 2>/dev/null | grep -v '^ *[0-9.]* n[0-9] ' | tee "$out/2.txt"
grep -q '^PASS deadlock-a-fixed .*converged' "$out/2.txt"
verdict 2 "the fixed tracker converged on the same seed" $?

say "3. The blog post's counter walkthrough on the fixed tracker"
cat <<'EOF'
register my_proc on n1; the same register on n2 answers already_started
with n1's process; increment from three nodes; read 3 from n2.
EOF
"$bin" run scenarios/counter-walkthrough-fixed.yaml --verbose 2>&1 | grep -E '\[swarm\]|PASS|FAIL|reply:' | tee "$out/3.txt"
grep -q '^PASS counter-walkthrough-fixed' "$out/3.txt" && grep -Eq 'n2 +\[swarm\] call my_proc -> ok on app@10.0.0.1 \(3\)' "$out/3.txt"
verdict 3 "one my_proc on n1 for all three nodes, counted to 3" $?

say "4. How often does it happen? Simultaneous starts over 1,000 seeds per size"
echo "Swarm deadlocks when the sync choices contain a cycle of 3 or more:"
echo "analytic: 25 % (3 nodes), 37 % (4), 45 % (5), 52 % (6). A user counted 219 hangs in 910 start-ups."
status=0
for n in 3 4 5 6; do
    for mode in swarm fixed; do
        "$bin" run "scenarios/frequency/join-storm-$n-$mode.yaml" --seeds 1..1000 --quiet > "$out/4-$n-$mode.txt"
        [ $? -eq 0 ] || status=1
        grep -q "^PASS join-storm-$n-$mode .*stuck fraction" "$out/4-$n-$mode.txt" || status=1
        head -1 "$out/4-$n-$mode.txt"
    done
done
verdict 4 "each measured frequency inside its file's expected interval (swarm near the analytic figure, fixed 0)" $status

say "5. Speed: the simulator itself"
"$bin" bench scenarios/bench/ping-100-faults.yaml --min-seconds 1 | tail -1 | tee "$out/5.txt"
grep -Eq '^bench result: .* M events/s' "$out/5.txt"
verdict 5 "measured (a figure, not a pass mark: see make bench)" $?

say "6. The fuzzer finds it on its own, and shrinks it"
echo "20 generated 3-to-6-node start-up storms on Swarm's tracker; failing seeds are the point here:"
"$bin" fuzz --profile join-storm --mode swarm --seeds 1..20 --out "$out/fuzz" > "$out/fuzz.txt"
python3 - "$out/fuzz/summary.json" << 'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
inv = s["by_invariant"]
print("   the fuzzer found %d deadlocked start-ups in %d seeds (%s)"
      % (inv["not_stuck"], s["seeds"], ", ".join("deadlock %s: %d" % (k, v) for k, v in sorted(s["deadlocks"].items()) if v)))
others = ", ".join("%s %d" % (k, v) for k, v in sorted(inv.items()) if v and k != "not_stuck")
if others:
    print("   and other broken invariants of Swarm's tracker on the same storms: " + others)
EOF
witness=$(ls "$out"/fuzz/failures/*not_stuck.min.yaml 2> /dev/null | head -1)
echo "   a shrunk witness: ${witness:-none}"
python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["by_invariant"]["not_stuck"] > 0 else 1)' \
    "$out/fuzz/summary.json" && [ -n "$witness" ]
verdict 6a "the fuzzer found the deadlock on Swarm's tracker and shrank a witness" $?
echo "...and the fixed tracker holds every invariant under random faults:"
"$bin" fuzz --seeds 1..200 --jobs 2 --out "$out/fuzz-fixed" | grep "fuzz result" | tee "$out/6b.txt"
grep -q '^fuzz result: 200 seeds .*, 200 passed, 0 failed' "$out/6b.txt"
verdict 6b "200 random fault schedules on the fixed modes, no invariant broken" $?

d=$(dirname "$bin")
say "7. The same core on real sockets: three clusterd daemons on 127.0.0.1-3"
if [ -x "$d/clusterd" ] && [ -x "$d/clusterctl" ]; then
    port=$((20000 + $$ % 10000)) # below the ephemeral range (see check-daemon.sh)
    pids=()
    for i in 1 2 3; do
        "$d/clusterd" --name "app@127.0.0.$i" --port "$port" --secret demo --sync-nodes-timeout 1s \
            --static app@127.0.0.1,app@127.0.0.2,app@127.0.0.3 --control "$out/n$i.sock" --log-level error &
        pids+=($!)
    done
    sleep 3
    ctl() { "$d/clusterctl" -s "$out/n$1.sock" "${@:2}"; }
    echo "n1 register my_proc:    $(ctl 1 register my_proc --counter 0)"
    echo "n2 register my_proc:    $(ctl 2 register my_proc --counter 0)"
    ctl 3 call my_proc increment > /dev/null
    sleep 0.3
    echo "n2 call my_proc value:  $(ctl 2 call my_proc value | tee "$out/7-value.txt")"
    for i in 1 2 3; do ctl "$i" whereis my_proc > "$out/7-whereis-$i.txt"; echo "n$i whereis my_proc:     $(cat "$out/7-whereis-$i.txt")"; done
    kill "${pids[@]}" 2> /dev/null
    wait "${pids[@]}" 2> /dev/null
    grep -q 'app@127.0.0.1' "$out/7-whereis-1.txt" && cmp -s "$out/7-whereis-1.txt" "$out/7-whereis-2.txt" \
        && cmp -s "$out/7-whereis-1.txt" "$out/7-whereis-3.txt" && grep -q '(1)' "$out/7-value.txt"
    verdict 7 "the three daemons agree that my_proc lives on app@127.0.0.1, and it counted to 1" $?
else
    echo "(no clusterd beside $bin)"
    verdict 7 "the daemons were built" 1
fi

say "Verdict"
printf '%s\n' "${results[@]}"
failed=$(printf '%s\n' "${results[@]}" | grep -c '^FAIL')
if [ "$failed" -eq 0 ]; then
    echo "demo: every step showed what it claims (${#results[@]} of ${#results[@]})."
    echo "Traces of this demo are in $out/. Next: README.md, scenarios/README.md, core/README.md."
    exit 0
fi
echo "demo: $failed of ${#results[@]} steps did not show what they claim (above); their output is in $out/."
exit 1
