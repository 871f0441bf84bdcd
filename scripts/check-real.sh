#!/bin/bash
# scripts/check-real.sh CLUSTERSIM: the real world, as `make test` runs it
# (about a minute and a half on 2 cores):
#  1. the shipped scenarios marked `worlds: [sim, real]` that make the short
#     real-world set run with --real and pass;
#  2. a run interrupted half-way with SIGINT exits 130 and leaves no
#     namespace, link or process behind; a run killed with SIGKILL leaves no
#     process (its daemons die with it) and the next run sweeps its
#     namespaces and links; a second run starts right after.
# Skipped, with one message, where namespaces cannot be made.
set -u
sim=${1:?usage: check-real.sh CLUSTERSIM}
short=(scenarios/k8s-dns-join-3-fixed.yaml scenarios/k8s-dns-join-3-libcluster.yaml)
fail() { echo "FAIL check-real: $*"; exit 1; }
out=$("$sim" run --real --quiet "${short[@]}" 2>&1)
rc=$?
if grep -q "^skip real world" <<< "$out"; then
    echo "$out"
    exit 0
fi
echo "$out" | grep -v "^ *note:" | tail -n 8
[ $rc -eq 0 ] || fail "the short real-world set failed"
echo "ok   real world: ${#short[@]} scenarios passed against real daemons"

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
