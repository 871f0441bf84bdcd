#!/usr/bin/env bash
# scripts/fidelity-startup.sh: writes a scenario that emulates N BEAM VMs
# started at once on one machine with 2 cores (the real Swarm 3.4 start-up
# experiments of docs/fidelity.md), for sweeping the start-up model:
# every VM needs W3 ms of CPU to reach Swarm's tracker start, of which
# libcluster starts (and connects once, as its Epmd strategy does) after
# W2 ms; N VMs share 2 cores, so each reaches those points N/2 times later
# (at least once as late), give or take EPS percent.
# Usage: scripts/fidelity-startup.sh N W2_MS W3_MS EPS_PCT [LATMIN LATMAX] > f.yaml
#        clustersim run f.yaml --seeds 1..2000 --quiet
set -euo pipefail
N=$1; W2=$2; W3=$3; E=$4; LMIN=${5:-50us}; LMAX=${6:-150us}
F100=$(( N * 100 / 2 )); [ $F100 -lt 100 ] && F100=100
BMIN=$(( W2 * F100 / 100 * (100 - E) / 100 )); BMAX=$(( W2 * F100 / 100 * (100 + E) / 100 ))
D=$(( (W3 - W2) * F100 / 100 )); J=$(( W3 * F100 / 100 * 2 * E / 100 ))
cat <<Y
name: fid2-$N
cluster:
  basename: app
  nodes: $N
  protocol: cluster
  membership:
    mode: libcluster
    secret: s
    topologies:
      - {name: epmd, strategy: static}
  tracker:
    mode: swarm
    start_delay: ${D}ms
    start_jitter: ${J}ms
network:
  latency: {dist: uniform, min: $LMIN, max: $LMAX}
timeline:
  - at: 0s
    start: {nodes: all, boot: {dist: uniform, min: ${BMIN}ms, max: ${BMAX}ms}}
expect:
  - stuck_fraction: {min: 0, max: 1}
limits:
  duration: 60s
  stop_when_settled: true
Y
