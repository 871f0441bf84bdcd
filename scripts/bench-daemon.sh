#!/bin/bash
# scripts/bench-daemon.sh BINDIR: the real-socket benchmark (make bench):
# three clusterd on 127.0.0.1-3, each loaded through its control socket by
# `clusterctl bench` (pipelined); registrations per second cluster-wide
# (until every node holds every name), whereis per second through one
# control socket, peak memory per node with 1,000,000 names in all; then
# the in-process C API figures (bench-registry).  Also the CPU seconds per
# million registrations of the daemons (from /proc/PID/stat, from the first
# request until every node holds every name) and of the loaders (the
# shell's `times` for its waited children): the loaders and the daemons
# share the machine's cores, so the CPU a registration costs bounds the
# wall rate.  Run by scripts/bench.sh; BENCH_DAEMON_DIR (default
# build/bench-daemon) holds the sockets and logs.
#   bench-daemon.sh BINDIR [--many K]
# --many K: the loaders send up to K names a request line (`clusterctl bench
# --many K`, DEPTH K * 256 names in flight), and the rows say so; without
# it, a line a name (256 in flight), as before.
set -u
d=${1:?usage: bench-daemon.sh BINDIR [--many K]}
many=1
if [ $# -gt 1 ]; then
    [ $# -eq 3 ] && [ "$2" = --many ] && [ "$3" -ge 1 ] 2> /dev/null || { echo "usage: bench-daemon.sh BINDIR [--many K]" >&2; exit 2; }
    many=$3
fi
if [ "$many" -gt 1 ]; then
    load=(256 --many "$many"); load[0]=$((256 * many)); how=", $many names a request line"
else
    load=(); how=
fi
dir=${BENCH_DAEMON_DIR:-build/bench-daemon}
rm -rf "$dir"; mkdir -p "$dir"
port=$((20000 + $$ % 10000)) # below the ephemeral range (see check-daemon.sh)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done' EXIT
trap 'exit 143' TERM INT
for i in 1 2 3; do
    "$d/clusterd" --name "app@127.0.0.$i" --port $port --secret bench --sync-nodes-timeout 1s --log-level warn \
        --static app@127.0.0.1,app@127.0.0.2,app@127.0.0.3 --control "$dir/n$i.sock" > "$dir/n$i.log" 2>&1 &
    pids+=($!)
done
sleep 3
names() { "$d/clusterctl" -s "$dir/n$1.sock" status | sed -n 's/.*registered: \([0-9]*\)}}$/\1/p'; }
# CPU ticks (user + system) of the daemons so far.
daemon_ticks() { local t=0 p; for p in "${pids[@]}"; do t=$((t + $(sed 's/.*) //' /proc/$p/stat | awk '{print $12 + $13}'))); done; echo $t; }
# User + system seconds of this shell's waited children so far (`times`
# runs in this shell: a command substitution's subshell has no children).
children_cpu() {
    times > "$dir/times"
    awk 'NR == 2 {split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$dir/times"
}
per=$((1000000 / 3 + 1))
ticks0=$(daemon_ticks)
children_cpu > "$dir/loaders-cpu0"
start=$(date +%s.%N)
loaders=()
for i in 1 2 3; do
    "$d/clusterctl" -s "$dir/n$i.sock" bench register $per "n$i-" "${load[@]}" > "$dir/bench-$i.txt" &
    loaders+=($!)
done
for i in 1 2 3; do
    wait "${loaders[$((i-1))]}" || { echo "bench-daemon: clusterctl bench register on node $i failed:"; cat "$dir/bench-$i.txt"; exit 1; }
done
answered=$(date +%s.%N)
children_cpu > "$dir/loaders-cpu1"
total=$((per * 3))
deadline=$((SECONDS + 120))
until [ "$(names 1)" = "$total" ] && [ "$(names 2)" = "$total" ] && [ "$(names 3)" = "$total" ]; do
    [ $SECONDS -lt $deadline ] || { echo "bench-daemon: the nodes hold $(names 1), $(names 2), $(names 3) names, not $total, after 120 s"; exit 1; }
    sleep 0.05
done
agreed=$(date +%s.%N)
ticks1=$(daemon_ticks)
python3 - "$start" "$answered" "$agreed" "$total" "$((ticks1 - ticks0))" "$(getconf CLK_TCK)" \
    "$(cat "$dir/loaders-cpu0")" "$(cat "$dir/loaders-cpu1")" "$how" <<'PY'
import sys
s, a, g, n, ticks, hz, l0, l1 = map(float, sys.argv[1:9])
how = sys.argv[9]
print("real sockets, 3 nodes on loopback%s: %d registrations answered in %.2f s (%.0f/s cluster-wide),"
      " on every node after %.2f s (%.0f/s)" % (how, n, a - s, n / (a - s), g - s, n / (g - s)))
print("real sockets%s, CPU per million registrations: daemons %.2f s (3 together), loaders %.2f s (3 together)"
      % (how, ticks / hz / n * 1e6, (l1 - l0) / n * 1e6))
PY
"$d/clusterctl" -s "$dir/n2.sock" bench whereis 300000 n1- "${load[@]}" | sed 's/^/real sockets, /'
for i in 1 2 3; do
    echo "peak memory of node $i with $total names: $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' /proc/${pids[$((i-1))]}/status)"
done
hwm=$(for p in "${pids[@]}"; do awk '/VmHWM/ {print $2}' /proc/$p/status; done | sort -n | tail -1)
echo "peak memory per name, the largest node: $(awk -v k="$hwm" -v n="$total" 'BEGIN {printf "%.1f", k * 1024 / n}') bytes (VmHWM / names held)"
"$d/bench-registry" 1000000
