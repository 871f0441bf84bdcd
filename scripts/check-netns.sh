#!/bin/bash
# scripts/check-netns.sh CLUSTERD: gossip discovery between real daemons,
# each in its own network namespace (veth pairs on a bridge, 10.77.0.1-3),
# run by `make test`: authenticated UDP multicast heartbeats form a full
# mesh.  (Partitions, heals and contested names between real daemons run as
# scenarios: scripts/check-real.sh.)  Skipped, with a message, where
# namespaces cannot be made (no root, no CAP_NET_ADMIN).  Everything it
# creates is removed on exit.
set -u
bin=${1:?usage: check-netns.sh CLUSTERD [CLUSTERCTL]}
ctl=${2:-$(dirname "$bin")/clusterctl}
dir=build/netns-check
tag=cs$$
rm -rf "$dir"
mkdir -p "$dir"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
    for i in 1 2 3; do ip netns del "$tag-$i" 2> /dev/null; ip link del "$tag-v$i" 2> /dev/null; done
    ip link del "$tag-br" 2> /dev/null
}
trap cleanup EXIT
fail() { echo "FAIL check-netns: $*"; for f in "$dir"/*.log; do echo "--- $f"; tail -n 12 "$f"; done; exit 1; }
if ! ip netns add "$tag-probe" 2> /dev/null; then
    echo "skip netns: cannot create network namespaces here (needs root and CAP_SYS_ADMIN/CAP_NET_ADMIN)"
    exit 0
fi
ip netns del "$tag-probe"

ip link add "$tag-br" type bridge && ip link set "$tag-br" up || fail "cannot create a bridge"
for i in 1 2 3; do
    ip netns add "$tag-$i" &&
        ip link add "$tag-v$i" type veth peer name eth0 netns "$tag-$i" &&
        ip link set "$tag-v$i" master "$tag-br" && ip link set "$tag-v$i" up &&
        ip -n "$tag-$i" addr add "10.77.0.$i/24" dev eth0 && ip -n "$tag-$i" link set eth0 up &&
        ip -n "$tag-$i" link set lo up && ip -n "$tag-$i" route add 224.0.0.0/4 dev eth0 ||
        fail "cannot set up namespace $i"
done
. "$(dirname "$0")/wait-for.sh"
sees() { "$ctl" -s "$dir/n$1.sock" members 2> /dev/null | grep -q "^app@10.77.0.$2 .*link up *tracker$"; }
mesh() { sees 1 2 && sees 1 3 && sees 2 1 && sees 2 3 && sees 3 1 && sees 3 2; }

# Gossip discovery: authenticated UDP multicast heartbeats across the bridge.
for i in 1 2 3; do
    ip netns exec "$tag-$i" "$bin" --name "app@10.77.0.$i" --secret s3cret --gossip default --tick-timeout 2s \
        --control "$dir/n$i.sock" > "$dir/gossip-n$i.log" 2>&1 &
    pids+=($!)
    disown $!
done
wait_for 20 mesh || fail "no full mesh from gossip heartbeats"
echo "ok   gossip: three daemons found each other through UDP multicast heartbeats"
