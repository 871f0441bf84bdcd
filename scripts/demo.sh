#!/usr/bin/env bash
# scripts/demo.sh: `make demo`, the story of the Swarm syncing deadlock told
# by the harness, for a newcomer.
# Usage: scripts/demo.sh CLUSTERSIM
set -euo pipefail
bin=${1:?usage: demo.sh CLUSTERSIM}
out=build/demo
mkdir -p "$out"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Three pods start at once, Swarm 3.4's tracker (scenarios/deadlock-a-swarm.yaml)"
cat <<'EOF'
Three pods of a Kubernetes deployment start together. libcluster connects
them; Swarm's tracker on each waits 5 s (cluster_wait), then picks a random
peer to sync with. Here the picks form a cycle: n1 syncs to n2, n2 to n3,
n3 to n1. Each tracker then gets a sync request from a node that is not the
one it waits for, parks it, and waits -- forever: no timer runs in `syncing`.
EOF
"$bin" run scenarios/deadlock-a-swarm.yaml --trace "$out/deadlock-a.jsonl" --report "$out/reports" || true
echo
echo "The state dumps above are what production showed. The messages, as a sequence chart:"
"$bin" replay "$out/deadlock-a.jsonl" --sequence --from 5s | grep -v -- "--link"
echo "Replay the run event by event with:  $bin replay $out/deadlock-a.jsonl --from 5s"
echo "Open the run report (plots, wait-for cycle, dumps):  $out/reports/deadlock-a-swarm/seed-1/index.html"
echo "or its trace in ui.perfetto.dev:  $out/reports/deadlock-a-swarm/seed-1/trace.perfetto.json"

say "2. The same start with the fixed tracker (scenarios/deadlock-a-fixed.yaml)"
echo "Same seed, same timing; the fixed tracker never waits for a peer."
"$bin" run scenarios/deadlock-a-fixed.yaml --verbose 2>/dev/null | grep -v '^ *[0-9.]* n[0-9] ' || true

say "3. The blog post's counter walkthrough on the fixed tracker"
cat <<'EOF'
register my_proc on n1; the same register on n2 answers already_started
with n1's process; increment from three nodes; read 3 from n2.
EOF
"$bin" run scenarios/counter-walkthrough-fixed.yaml --verbose 2>&1 | grep -E '\[swarm\]|PASS|FAIL|reply:' || true

say "4. How often does it happen? Simultaneous starts over 1,000 seeds per size"
echo "Swarm deadlocks when the sync choices contain a cycle of 3 or more:"
echo "analytic: 25 % (3 nodes), 37 % (4), 45 % (5), 52 % (6). A user counted 219 hangs in 910 start-ups."
for n in 3 4 5 6; do
  "$bin" run "scenarios/frequency/join-storm-$n-swarm.yaml" --seeds 1..1000 --quiet | head -1
  "$bin" run "scenarios/frequency/join-storm-$n-fixed.yaml" --seeds 1..1000 --quiet | head -1
done

say "5. Speed: the simulator itself"
"$bin" bench scenarios/bench/ping-100-faults.yaml --min-seconds 1 | tail -1

say "6. The fuzzer finds it on its own, and shrinks it"
"$bin" fuzz --profile join-storm --mode swarm --seeds 1..20 --out "$out/fuzz" > "$out/fuzz.txt" || true
grep -E "deadlock [ABC]|fuzz result|deadlocks:" "$out/fuzz.txt" | head -6
echo "a shrunk witness: $(ls "$out"/fuzz/failures/*not_stuck.min.yaml | head -1)"
echo "...and the fixed tracker holds every invariant under random faults:"
"$bin" fuzz --seeds 1..200 --jobs 2 --out "$out/fuzz-fixed" | grep "fuzz result" || true

d=$(dirname "$bin")
if [ -x "$d/clusterd" ] && [ -x "$d/clusterctl" ]; then
  say "7. The same core on real sockets: three clusterd daemons on 127.0.0.1-3"
  port=$((20000 + $$ % 10000)) # below the ephemeral range (see check-daemon.sh)
  for i in 1 2 3; do
    "$d/clusterd" --name "app@127.0.0.$i" --port "$port" --secret demo --sync-nodes-timeout 1s \
      --static app@127.0.0.1,app@127.0.0.2,app@127.0.0.3 --control "$out/n$i.sock" --log-level warn &
  done
  sleep 3
  echo "n1 register my_proc:    $("$d/clusterctl" -s "$out/n1.sock" register my_proc --counter 0)"
  echo "n2 register my_proc:    $("$d/clusterctl" -s "$out/n2.sock" register my_proc --counter 0)"
  "$d/clusterctl" -s "$out/n3.sock" call my_proc increment > /dev/null
  sleep 0.3
  echo "n2 call my_proc value:  $("$d/clusterctl" -s "$out/n2.sock" call my_proc value)"
  echo "n1 state: $("$d/clusterctl" -s "$out/n1.sock" status)"
  kill $(jobs -p) 2> /dev/null
  wait 2> /dev/null
fi

echo
echo "Traces of this demo are in $out/. Next: README.md, scenarios/README.md, core/README.md."
