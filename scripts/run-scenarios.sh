#!/usr/bin/env bash
# scripts/run-scenarios.sh: the scenario regression suite of `make test`.
# Runs every scenario shipped in scenarios/ through the CLI on its default
# seed and on seeds 1..5, each run twice to check the trace is byte for byte
# the same (--check-determinism), and leaves JUnit XML and JSON reports in
# build/ for CI to pick up.
# Usage: scripts/run-scenarios.sh CLUSTERSIM
set -euo pipefail
bin=${1:?usage: run-scenarios.sh CLUSTERSIM}
mkdir -p build
echo "scenarios: default seeds"
"$bin" run scenarios/*.yaml --check-determinism --junit build/junit-default.xml --report build/reports
# A scenario that expects a deadlock reproduces it on its own seed (only a
# share of seeds deadlock: see scenarios/frequency/); the others must hold on
# any seed.
echo "scenarios: seeds 1..5 (all but the seed-specific deadlock reproductions)"
mapfile -t any_seed < <(grep -L "^  - stuck: true" scenarios/*.yaml)
"$bin" run "${any_seed[@]}" --seeds 1..5 --check-determinism --quiet --junit build/junit-seeds.xml
echo "scenarios: stuck fractions of simultaneous joins over seeds 1..2000"
"$bin" run scenarios/frequency/*.yaml --seeds 1..2000 --quiet --junit build/junit-frequency.xml
# Start-ups timed as real BEAM VMs boot (scenarios/fidelity/): each swarm
# file expects the real Swarm 3.4 interval, each fixed file no stuck seed;
# a file marked KNOWN GAP (the model does not reach the real figure yet)
# runs in `make fidelity` only.
echo "scenarios: start-up fidelity over seeds 1..2000"
mapfile -t fidelity < <(grep -L "^# KNOWN GAP" scenarios/fidelity/*.yaml)
"$bin" run "${fidelity[@]}" --seeds 1..2000 --quiet --junit build/junit-fidelity.xml
# Exhaustive exploration of every delivery, timer and sync-node order after
# the links are up: Swarm mode must reach a stuck state, fixed mode must
# reach none over a complete search (see scenarios/explore/).
echo "scenarios: exhaustive exploration of 3- and 4-node joins"
for f in scenarios/explore/join-*.yaml; do
    out=build/explore-$(basename "$f" .yaml).txt
    "$bin" explore "$f" --from 4900ms --out build/explore > "$out" || { cat "$out"; echo "explore failed: $f"; exit 1; }
    grep -E "^(explored|ok|FAIL|  [0-9]+ of them)" "$out"
done
# Among the stuck states of Swarm's 3-node join are both deadlock A and B.
for shape in "deadlock A" "deadlock B"; do
    grep -q "of them: .*$shape" build/explore-join-3-swarm.txt || { echo "explore missed $shape"; exit 1; }
done
# The explorer must fail when a deadlock it finds was not expected.
sed 's/- stuck: true/- not_stuck: true/' scenarios/explore/join-3-swarm.yaml > build/explore-negated.yaml
if "$bin" explore build/explore-negated.yaml --from 4900ms --out build/explore > build/explore-negated.txt; then
    echo "explore passed a Swarm join that deadlocks under not_stuck"; exit 1
fi
grep -q "^FAIL build/explore-negated.yaml:27:5: not_stuck expected" build/explore-negated.txt
echo "ok   explore fails Swarm's join-3 under not_stuck, as it must"
# Shrinking: a stuck 6-node storm becomes a smaller scenario that still gets
# stuck when run as written; a run that is not stuck has nothing to shrink.
echo "scenarios: shrinking stuck runs"
"$bin" shrink scenarios/frequency/join-storm-6-swarm.yaml --seed 1 -o build/shrunk-6.yaml > build/shrunk-6.txt
nodes=$(sed -n 's/^  nodes: \([0-9]*\)$/\1/p' build/shrunk-6.yaml)
[ -n "$nodes" ] && [ "$nodes" -lt 6 ] || { cat build/shrunk-6.txt; echo "shrink kept all 6 nodes"; exit 1; }
"$bin" run build/shrunk-6.yaml > build/shrunk-6.run; grep -q "stuck at" build/shrunk-6.run || { echo "the shrunk scenario is not stuck"; exit 1; }
"$bin" shrink scenarios/seed-setup-swarm.yaml -o build/shrunk-seed.yaml > /dev/null
"$bin" run build/shrunk-seed.yaml > build/shrunk-seed.run; grep -q "stuck at" build/shrunk-seed.run || { echo "the shrunk seed set-up is not stuck"; exit 1; }
if "$bin" shrink scenarios/deadlock-a-fixed.yaml -o build/shrunk-fixed.yaml 2> /dev/null; then
    echo "shrink accepted a run that is not stuck"; exit 1
fi
echo "ok   shrink: 6 nodes -> $nodes, still stuck; the seed set-up shrunk and still stuck"
# Bad schedules get a clear error and exit status 2, never a wrong replay.
printf 'choices: 0 1 x\n' > build/bad-token.schedule
printf 'choices: 9 9 9\n' > build/bad-range.schedule
printf 'seed: 1\n' > build/bad-empty.schedule
for b in token range empty; do
    set +e
    "$bin" explore scenarios/explore/join-3-swarm.yaml --from 4900ms \
        --replay "build/bad-$b.schedule" > /dev/null 2> "build/bad-$b.err"
    rc=$?
    set -e
    [ "$rc" -eq 2 ] || { echo "bad schedule ($b) gave exit status $rc"; exit 1; }
done
grep -q "bad-token.schedule:1:14: expected a choice number" build/bad-token.err
grep -q "only 3 events could come next" build/bad-range.err
echo "ok   bad schedules: line:column errors, exit status 2"
