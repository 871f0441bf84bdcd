#!/usr/bin/env bash
# deploy/measure-memory.sh BUILD_DIR [NAMES]: the figures the resource
# requests and limits of deploy/k8s/deployment.yaml are sized from.
# Starts three clusterd on 127.0.0.1..3 (static discovery, one free port),
# then prints, from /proc/PID/status:
#   idle      VmRSS of each node once its tracker is tracking, no names;
#   loaded    VmRSS and VmHWM after NAMES registrations (default 1,000,000)
#             made on node 1 (`clusterctl bench register`): node 1 owns every
#             process (the process records and the name), nodes 2 and 3
#             hold replicas of the names only;
# the bytes per registration of each ((RSS - idle) / NAMES), and what a pod
# needs for NAMES names: idle + NAMES/3 owned + 2 NAMES/3 replicated when
# the processes are spread evenly, idle + NAMES owned when one pod holds
# them all.  (Names registered with `register` belong to a process of that
# node: they leave with it, they are not handed off; only `register-started`
# processes are.  So a graceful leave does not move them onto the others.)
# Every process it starts is killed on exit; nothing is left in the tree.
set -euo pipefail
build=${1:?usage: deploy/measure-memory.sh BUILD_DIR [NAMES]}
names=${2:-1000000}
clusterd=$build/clusterd
ctl=$build/clusterctl
# shellcheck source=scripts/wait-for.sh
. "$(dirname "$0")/../scripts/wait-for.sh"
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
port=$((21000 + $$ % 9000))
peers=app@127.0.0.1,app@127.0.0.2,app@127.0.0.3
for i in 1 2 3; do
    "$clusterd" --name "app@127.0.0.$i" --port "$port" --secret measure --static "$peers" \
        --control "$tmp/n$i.sock" --grace 20s --http-port $((port + 10 + i)) --http-bind "127.0.0.$i" \
        > "$tmp/n$i.log" 2>&1 &
    pids+=($!)
done
tracking() { for i in 1 2 3; do "$ctl" -s "$tmp/n$i.sock" status 2> /dev/null | grep -q '^{:tracking' || return 1; done; }
wait_for 30 tracking || { tail -n 5 "$tmp"/*.log; echo "measure-memory: the trackers did not reach tracking" >&2; exit 1; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
per_name() { awk -v a="$1" -v b="$2" -v n="$names" 'BEGIN {printf "%.1f", (b - a) * 1024 / n}'; }
declare -A idle
for i in 1 2 3; do idle[$i]=$(kb "${pids[$((i - 1))]}" VmRSS); done
echo "idle:    VmRSS ${idle[1]} / ${idle[2]} / ${idle[3]} kB (nodes 1 / 2 / 3)"
"$ctl" -s "$tmp/n1.sock" --timeout 120 bench register "$names" m_ > /dev/null
held() { # node $1 holds every registration (its /metrics says so)
    curl -sf "http://127.0.0.$1:$((port + 10 + $1))/metrics" | grep -qx "clusterd_registrations $names"
}
for i in 1 2 3; do wait_for 60 held "$i"; done
for i in 1 2 3; do
    p=${pids[$((i - 1))]}
    rss=$(kb "$p" VmRSS) hwm=$(kb "$p" VmHWM)
    echo "loaded:  node $i VmRSS $rss kB, VmHWM $hwm kB: $(per_name "${idle[$i]}" "$rss") bytes per registration" \
        "($([ "$i" = 1 ] && echo owner || echo replica))"
done
owner=$(per_name "${idle[1]}" "$(kb "${pids[0]}" VmRSS)")
replica=$(per_name "${idle[2]}" "$(kb "${pids[1]}" VmRSS)")
awk -v i="${idle[1]}" -v o="$owner" -v r="$replica" -v n="$names" 'BEGIN {
    printf "sizing:  %d names over 3 pods: %.0f MiB a pod when each owns a third, %.0f MiB when one owns all\n",
        n, (i * 1024 + n * (o + 2 * r) / 3) / 1048576, (i * 1024 + n * o) / 1048576 }'
echo "names:   $names (clusterd $("$clusterd" --version | awk '{print $2}'))"
