#!/usr/bin/env bash
# deploy/fuzz/run-shard.sh [merge]: one shard of a fuzz campaign, or the
# merge of all of them.  The container of deploy/fuzz/fuzz-job.yaml (an
# Indexed Job) runs it as is; scripts/check-deploy.sh runs the same script
# on this machine.  Settings come from the environment (the Job's env):
#   JOB_COMPLETION_INDEX  this pod's index, 0..SHARDS-1 (set by Kubernetes)
#   SHARDS                the Job's completions: the campaign's shard count
#   SEEDS                 the campaign's seeds, A..B (clustersim fuzz --seeds)
#   PROFILE, MODE         --profile and --mode (default, fixed)
#   JOBS                  worker processes in this pod (1; its CPU request)
#   SHRINK                --shrink K (2): failures shrunk per kind and shard
#   RESULTS               the shared volume (/results)
#   CLUSTERSIM            the binary (clustersim, from PATH)
# A shard writes RESULTS/shard-INDEX/summary.json and failures/ (the
# directory is emptied first: a retried pod starts over).  It exits 0 when
# its campaign ran to the end, whether or not seeds failed (failing seeds
# are the campaign's findings, not the pod's failure: no retry would change
# them); otherwise clustersim's status (2: bad settings; 128+N: a signal).
# `merge` checks that SHARDS complete shard summaries are there and that
# they add up to the whole seed range, then writes RESULTS/merged.json
# (clustersim fuzz --merge) and prints the campaign's summary.
set -euo pipefail
shards=${SHARDS:?SHARDS (the shard count) is required}
seeds=${SEEDS:?SEEDS (A..B) is required}
results=${RESULTS:-/results}
clustersim=${CLUSTERSIM:-clustersim}

# A top-level field of a summary (clustersim writes them indented by two
# spaces, one per line; the image has no JSON tool).
field_of() { sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1"; }
# A summary's state: "complete" unless the campaign was interrupted.
state_of() { local s; s=$(field_of "$1" state); echo "${s:-complete}"; }

run_shard() {
    local index=${JOB_COMPLETION_INDEX:?JOB_COMPLETION_INDEX (0..SHARDS-1) is required}
    if ! [ "$index" -ge 0 ] 2> /dev/null || [ "$index" -ge "$shards" ]; then
        echo "run-shard: JOB_COMPLETION_INDEX $index is not in 0..$((shards - 1))" >&2
        exit 2
    fi
    local out=$results/shard-$index rc=0
    rm -rf "$out"
    mkdir -p "$results"
    # In the background, with SIGTERM passed on: as a container's PID 1 this
    # shell would otherwise keep the signal from clustersim, which then never
    # writes its "interrupted" summary before the kubelet's SIGKILL.
    "$clustersim" fuzz --quiet --shard "$((index + 1))/$shards" --seeds "$seeds" \
        --profile "${PROFILE:-default}" --mode "${MODE:-fixed}" --jobs "${JOBS:-1}" \
        --shrink "${SHRINK:-2}" --out "$out" &
    local child=$!
    trap 'kill -TERM "$child" 2> /dev/null' TERM
    trap 'kill -INT "$child" 2> /dev/null' INT
    wait "$child" || rc=$?
    while [ "$rc" -gt 128 ] && kill -0 "$child" 2> /dev/null; do # a signal interrupted the wait
        rc=0
        wait "$child" || rc=$?
    done
    trap - TERM INT
    if [ "$rc" -gt 1 ] || [ ! -f "$out/summary.json" ]; then
        echo "run-shard: shard $((index + 1))/$shards stopped (status $rc)" >&2
        exit $((rc > 1 ? rc : 2))
    fi
    local state
    state=$(state_of "$out/summary.json")
    if [ "$state" != complete ]; then
        echo "run-shard: shard $((index + 1))/$shards is $state" >&2
        exit 3
    fi
}

merge() {
    local summaries=() i
    for ((i = 0; i < shards; i++)); do
        local s=$results/shard-$i/summary.json
        [ -f "$s" ] || { echo "run-shard merge: $s is missing" >&2; exit 2; }
        [ "$(state_of "$s")" = complete ] || { echo "run-shard merge: $s is not complete" >&2; exit 2; }
        summaries+=("$s")
    done
    local rc=0
    "$clustersim" fuzz --merge "$results/merged.json" "${summaries[@]}" || rc=$?
    [ "$rc" -le 1 ] || exit "$rc"
    local first=${seeds%%..*} last=${seeds##*..} got
    got=$(field_of "$results/merged.json" seeds)
    if [ "$got" != $((last - first + 1)) ]; then
        echo "run-shard merge: the shards ran $got seeds, the range $seeds has $((last - first + 1))" >&2
        exit 2
    fi
    echo "merged: $results/merged.json"
}

case "${1:-shard}" in
    shard) run_shard ;;
    merge) merge ;;
    *) echo "usage: run-shard.sh [shard|merge] (settings in the environment, see the header)" >&2; exit 2 ;;
esac
