#!/bin/bash
# scripts/check-fuzz.sh BINARY: the fuzzing part of `make test`.
#   1. the regression corpus (tests/regressions/: shrunk failures the fuzzer
#      found, each passing now) runs clean;
#   2. a fixed-seed campaign of 2,000 seeds of the default profile in fixed
#      mode finds nothing, nor do the other profiles (adversary included:
#      handshake attacks, with the consistency check after every event);
#   3. in swarm mode the fuzzer finds the syncing deadlock within the first 50
#      seeds of the join-storm profile (A and B), and deadlock C in 50 seeds
#      of the sync-faults profile, each shrunk to at most 3 nodes;
#   4. sharding: two shards merged equal one run;
#   5. a crash in a run is recorded and the campaign carries on;
#   6. bad arguments are refused with exit status 2.
set -u
bin=${1:?usage: check-fuzz.sh BINARY}
out=build/fuzz-check
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL check-fuzz: $*"; exit 1; }

echo "fuzz: regression corpus"
"$bin" run tests/regressions/*.yaml --quiet > "$out/regressions.txt" || { cat "$out/regressions.txt"; fail "a regression scenario failed"; }
echo "ok   $(ls tests/regressions/*.yaml | wc -l) regression scenarios pass"

echo "fuzz: fixed mode: 2000 seeds of the default profile, 20000 of sync-faults, 2000 of churn, partitions and adversary"
"$bin" fuzz --seeds 1..2000 --jobs 2 --mode fixed --out "$out/fixed" > "$out/fixed.txt" || { cat "$out/fixed.txt"; fail "fixed mode broke an invariant"; }
grep "fuzz result" "$out/fixed.txt"
for profile in sync-faults churn partitions adversary; do
    seeds=$([ $profile = sync-faults ] && echo 20000 || echo 2000)
    "$bin" fuzz --profile $profile --seeds 1..$seeds --jobs 2 --mode fixed --quiet --out "$out/fixed-$profile" \
        > "$out/fixed-$profile.txt" || { cat "$out/fixed-$profile.txt"; fail "fixed mode broke an invariant ($profile)"; }
    grep "fuzz result" "$out/fixed-$profile.txt"
done

summary_field() { # file key (top-level number or deadlocks.X)
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); k=sys.argv[2].split('.'); v=d
for p in k: v=v[p]
print(v)" "$1" "$2"
}
shrunk_nodes() { # file class: the largest node count of the shrunk witnesses of that class
    python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
n=[f.get('shrunk_nodes', 99) for f in d['failures'] if f['deadlock']==sys.argv[2] and f.get('shrunk')]
print(max(n) if n else 99)" "$1" "$2"
}

echo "fuzz: swarm mode must find the deadlocks"
"$bin" fuzz --profile join-storm --mode swarm --seeds 1..50 --out "$out/storm" > "$out/storm.txt"
[ $? -eq 1 ] || { cat "$out/storm.txt"; fail "swarm join storms passed: the deadlock was not found"; }
a=$(summary_field "$out/storm/summary.json" deadlocks.A)
b=$(summary_field "$out/storm/summary.json" deadlocks.B)
[ "$a" -ge 1 ] || fail "no deadlock A in 50 swarm join storms"
[ "$(shrunk_nodes "$out/storm/summary.json" A)" -le 3 ] || fail "deadlock A not shrunk to 3 nodes"
"$bin" fuzz --profile sync-faults --mode swarm --seeds 3001..3050 --out "$out/sync" > "$out/sync.txt"
c=$(summary_field "$out/sync/summary.json" deadlocks.C)
[ "$c" -ge 1 ] || fail "no deadlock C in sync-faults seeds 3001..3050"
[ "$(shrunk_nodes "$out/sync/summary.json" C)" -le 3 ] || fail "deadlock C not shrunk to 3 nodes"
witness=$(python3 -c "import json; d=json.load(open('$out/sync/summary.json'))
print([f['shrunk'] for f in d['failures'] if f['deadlock']=='C' and f.get('shrunk')][0])")
"$bin" run "$witness" > /dev/null || fail "the shrunk deadlock C witness does not replay"
echo "ok   swarm: A $a, B $b in 50 join storms; C $c in 50 sync-fault runs; shrunk witnesses replay"

echo "fuzz: shards merge into the whole"
common=(--profile join-storm --mode swarm --seeds 1..40 --shrink 1 --reports 0)
"$bin" fuzz "${common[@]}" --out "$out/whole" > /dev/null
for i in 1 2 3; do
    "$bin" fuzz "${common[@]}" --shard "$i/3" --out "$out/s$i" > /dev/null
done
"$bin" fuzz --merge "$out/merged.json" "$out"/s{1,2,3}/summary.json > /dev/null
"$(dirname "$0")/fuzz-compare.py" "$out/whole/summary.json" "$out/merged.json" > "$out/compare.txt" \
    || fail "merged shards differ from the whole run: $(cat "$out/compare.txt")"
python3 -c 'import json, sys; s = json.load(open(sys.argv[1])); sys.exit(0 if s["seeds"] == 40 and any("shrunk" in f for f in s["failures"]) else 1)' \
    "$out/merged.json" || fail "the merge holds no 40 seeds with a shrunk failure: the comparison checked too little"
echo "ok   shards 1/3 + 2/3 + 3/3 merged = seeds 1..40 (every field of every failure, shrinks included; same totals)"

echo "fuzz: a crashing run is recorded, the campaign goes on"
CLUSTERSIM_FUZZ_ABORT_SEED=3 "$bin" fuzz --seeds 1..6 --out "$out/crash" > "$out/crash.txt" 2> /dev/null
[ "$(summary_field "$out/crash/summary.json" seeds)" = 6 ] || fail "the campaign stopped at the crash"
[ "$(summary_field "$out/crash/summary.json" by_invariant.crash)" = 1 ] || fail "the crash was not counted"
[ -s "$out/crash/failures/seed-3-crash.yaml" ] || fail "the crashing scenario was not written"
"$bin" run "$out/crash/failures/seed-3-crash.yaml" > /dev/null || fail "the crashing seed's scenario does not run"
echo "ok   seed 3 crashed (signal), its scenario written, seeds 4..6 still ran"

echo "fuzz: bad arguments"
for args in "--profile nope" "--nodes 1..40" "--shard 3/2" "--jobs 0" "--mode raft" "--seeds 9..1" "--time 5x" "--reports lots"; do
    "$bin" fuzz $args --out "$out/bad" > /dev/null 2> "$out/bad.txt"
    [ $? -eq 2 ] && [ -s "$out/bad.txt" ] || fail "fuzz $args was not refused with a message"
done
echo '{"profile": "default"' > "$out/broken.json"
"$bin" fuzz --merge "$out/m.json" "$out/broken.json" > /dev/null 2> "$out/bad.txt"
[ $? -eq 2 ] && grep -q "broken.json:" "$out/bad.txt" || fail "a malformed summary was not refused"
[ "$("$bin" fuzz --print 7 | md5sum)" = "$("$bin" fuzz --print 7 | md5sum)" ] || fail "--print is not deterministic"
echo "ok   bad profiles, ranges, shards, modes and summaries refused (exit 2); generation is deterministic"
