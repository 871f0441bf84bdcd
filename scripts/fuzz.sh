#!/bin/bash
# scripts/fuzz.sh BINARY: `make fuzz`, the long campaigns.
#   1. coverage-guided targets with libFuzzer (clang, ASan + UBSan):
#      fuzz_loader (scenario files), fuzz_wire (link frames, gossip datagrams,
#      tracker messages in both modes), fuzz_conn (the connection layer with
#      many hostile and genuine links at once, both handshake orders), fuzz_sim (input bytes drive the
#      generator and every draw of the simulator; fixed mode must hold every
#      expectation), fuzz_trace (trace files through the report model, the
#      Perfetto export and the sequence chart), then fuzz_wire and fuzz_sim
#      again under AFL++;
#   2. seeded campaigns: FUZZ_SEEDS seeds of the default profile in fixed mode
#      (must pass), and swarm mode on the join-storm and sync-faults profiles
#      (deadlocks counted by class, first witnesses shrunk);
#   3. a table of executions and figures in build/fuzz/results.md.
# Knobs (environment): FUZZ_TIME seconds per libFuzzer target for the loader
# and the decoders (600), FUZZ_SIM_TIME for fuzz_sim (300), FUZZ_TRACE_TIME
# for fuzz_trace (300), AFL_TIME per
# AFL++ target (120), FUZZ_SEEDS (100000), FUZZ_PROFILE_SEEDS (60000 per other
# profile, fixed mode), FUZZ_JOBS (the core count).
set -u
bin=${1:?usage: fuzz.sh BINARY}
FUZZ_TIME=${FUZZ_TIME:-600}
FUZZ_SIM_TIME=${FUZZ_SIM_TIME:-300}
FUZZ_TRACE_TIME=${FUZZ_TRACE_TIME:-300}
AFL_TIME=${AFL_TIME:-120}
FUZZ_SEEDS=${FUZZ_SEEDS:-100000}
FUZZ_PROFILE_SEEDS=${FUZZ_PROFILE_SEEDS:-60000}
FUZZ_JOBS=${FUZZ_JOBS:-$(nproc)}
out=build/fuzz
status=0
results=$out/results.md

scripts/deps.sh clang libclang-rt-14-dev afl++ || exit 2
make --no-print-directory BUILD=$out FUZZER=1 CC=clang fuzz-targets || exit 2
mkdir -p $out/corpus-loader $out/corpus-wire $out/corpus-conn $out/corpus-sim $out/corpus-trace $out/artifacts build/fuzz-sim
cp scenarios/*.yaml scenarios/invalid/*.yaml tests/regressions/*.yaml $out/corpus-loader/
# Traces of a few shipped scenarios (with samples, from a report's re-run).
for sc in deadlock-a-swarm ping-clog k8s-partition-heal-fixed counter-walkthrough-fixed; do
    make --no-print-directory -s build/plain/clustersim > /dev/null &&
        build/plain/clustersim run scenarios/$sc.yaml --report $out/trace-seeds > /dev/null 2>&1
    cp $out/trace-seeds/$sc/seed-*/trace.jsonl $out/corpus-trace/$sc.jsonl 2>/dev/null
done
# A few inputs per surface of the wire target (selector byte, then
# length-prefixed messages) and a few byte strings for the simulator.
python3 - "$out" <<'EOF'
import os, random, sys
out = sys.argv[1]
rng = random.Random(7)
for sel in range(4):
    msgs = bytes([sel])
    for _ in range(4):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        msgs += bytes([len(body)]) + body
    open(os.path.join(out, "corpus-wire", "seed-%d" % sel), "wb").write(msgs)
for i in range(8):
    open(os.path.join(out, "corpus-sim", "seed-%d" % i), "wb").write(bytes(rng.randrange(256) for _ in range(600)))
# Well-formed tracker messages (core/tracker/codec.c), so the fuzzer starts
# inside the decoders: a track, and a batch of two (core/tracker/fixed_batch.c),
# from app@10.0.0.2, with empty clocks.
import struct
def s(t): return struct.pack("<H", len(t)) + t
def entry(name, handle):
    return (s(name) + s(b"app@10.0.0.2") + struct.pack("<QQQQIQ", handle, 1 << 20, 0, handle, 0, 0) +
            bytes([0, 0]))
track = bytes([7]) + entry(b"x1", (2 << 32) | 1)
batch = bytes([15]) + struct.pack("<I", 2) + bytes([7]) + entry(b"b1", (2 << 32) | 2) + bytes([8]) + entry(b"b2", (2 << 32) | 3)
for sel in (2, 3):
    msgs = bytes([sel]) + bytes([len(track)]) + track + bytes([len(batch)]) + batch
    open(os.path.join(out, "corpus-wire", "tracker-%d" % sel), "wb").write(msgs)
# fuzz_conn (tests/fuzz/conn_driver.h): the issue-19 loop in both handshake
# orders (first byte), and a few random operation strings.
loop = bytes([0,0,0, 2,0,0,5, 3,0,0, 0,1,1, 1,1, 0,2,2, 1,2, 0,3,0, 2,3,0,5, 3,3,0, 1,3])
for order in (0, 1):
    open(os.path.join(out, "corpus-conn", "issue19-%d" % order), "wb").write(bytes([order]) + loop * 20)
for i in range(6):
    open(os.path.join(out, "corpus-conn", "random-%d" % i), "wb").write(bytes(rng.randrange(256) for _ in range(200)))
EOF

{
    echo "# make fuzz results ($(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null), $(nproc) cores)"
    echo
    echo "| campaign | engine | time / seeds | executions | findings |"
    echo "|---|---|---|---|---|"
} > $results

run_libfuzzer() { # target seconds
    local t=$1 secs=$2 log=$out/$1.log
    echo "fuzz: $t under libFuzzer for ${secs}s"
    FUZZ_SIM_OUT=build/fuzz-sim $out/$t $out/corpus-${t#fuzz_} -max_total_time=$secs -timeout=60 \
        -print_final_stats=1 -artifact_prefix=$out/artifacts/$t- > $log 2>&1
    local rc=$? execs
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' $log | tail -1)
    local found="none"
    if [ $rc -ne 0 ]; then
        found="FAILED: $(grep -m1 -E 'ERROR|fuzz_sim:|SUMMARY' $log)"
        status=1
    fi
    echo "| $t | libFuzzer | ${secs} s | ${execs:-?} | $found |" >> $results
    echo "     $t: ${execs:-?} executions, findings: $found"
}

run_libfuzzer fuzz_loader $FUZZ_TIME
run_libfuzzer fuzz_wire $FUZZ_TIME
run_libfuzzer fuzz_conn $FUZZ_TIME
run_libfuzzer fuzz_sim $FUZZ_SIM_TIME
run_libfuzzer fuzz_trace $FUZZ_TRACE_TIME

# AFL++ drives the same targets through its libFuzzer-compatible driver.
if command -v afl-clang-fast > /dev/null; then
    make --no-print-directory BUILD=build/fuzz-afl FUZZER=1 CC=afl-clang-fast \
        build/fuzz-afl/fuzz_wire build/fuzz-afl/fuzz_sim > /dev/null || exit 2
    for t in fuzz_wire fuzz_sim; do
        echo "fuzz: $t under AFL++ for ${AFL_TIME}s"
        rm -rf build/fuzz-afl/out-$t
        AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 FUZZ_SIM_OUT=build/fuzz-sim \
            afl-fuzz -V $AFL_TIME -t 60000 -i $out/corpus-${t#fuzz_} -o build/fuzz-afl/out-$t -- build/fuzz-afl/$t \
            > build/fuzz-afl/$t.log 2>&1
        stats=build/fuzz-afl/out-$t/default/fuzzer_stats
        execs=$(sed -n 's/^execs_done *: *//p' $stats 2>/dev/null)
        crashes=$(sed -n 's/^saved_crashes *: *//p' $stats 2>/dev/null)
        [ "${crashes:-0}" = 0 ] || status=1
        echo "| $t | AFL++ | ${AFL_TIME} s | ${execs:-?} | ${crashes:-?} crashes |" >> $results
        echo "     $t: ${execs:-?} executions, ${crashes:-?} crashes"
    done
else
    echo "| (AFL++) | not installed | | | skipped |" >> $results
fi

echo "fuzz: $FUZZ_SEEDS seeds of the default profile, fixed mode, $FUZZ_JOBS jobs"
"$bin" fuzz --seeds 1..$FUZZ_SEEDS --jobs $FUZZ_JOBS --out $out/fixed > $out/fixed.txt 2>&1 || status=1
line=$(grep "fuzz result" $out/fixed.txt)
echo "     $line"
echo "| default profile, fixed mode | clustersim fuzz | $FUZZ_SEEDS seeds | ${line#fuzz result: } | $(grep 'failures by' $out/fixed.txt || echo none) |" >> $results
for profile in join-storm churn partitions sync-faults; do
    echo "fuzz: $FUZZ_PROFILE_SEEDS seeds of $profile, fixed mode, $FUZZ_JOBS jobs"
    "$bin" fuzz --profile $profile --seeds 1..$FUZZ_PROFILE_SEEDS --jobs $FUZZ_JOBS --out $out/fixed-$profile \
        --quiet > $out/fixed-$profile.txt 2>&1 || status=1
    line=$(grep "fuzz result" $out/fixed-$profile.txt)
    echo "     $line"
    echo "| $profile profile, fixed mode | clustersim fuzz | $FUZZ_PROFILE_SEEDS seeds | ${line#fuzz result: } | $(grep 'failures by' $out/fixed-$profile.txt || echo none) |" >> $results
done
for profile in join-storm sync-faults; do
    echo "fuzz: 5000 seeds of $profile, swarm mode"
    "$bin" fuzz --profile $profile --mode swarm --seeds 1..5000 --jobs $FUZZ_JOBS --shrink 1 \
        --out $out/swarm-$profile --quiet > $out/swarm-$profile.txt 2>&1
    dl=$(grep "deadlocks:" $out/swarm-$profile.txt | sed 's/^ *//')
    echo "     $dl"
    echo "| $profile profile, swarm mode | clustersim fuzz | 5000 seeds | $(grep -o '[0-9]* failed' $out/swarm-$profile.txt) | $dl |" >> $results
done
echo
cat $results
exit $status
