#!/usr/bin/env bash
# scripts/demo.sh: `make demo`, a tour of the harness for a newcomer.
# Usage: scripts/demo.sh CLUSTERSIM
set -euo pipefail
bin=${1:?usage: demo.sh CLUSTERSIM}
out=build/demo
mkdir -p "$out"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Three pods of a headless service start at once (scenarios/ping-dns-3.yaml)"
echo "Each pod polls the service's DNS A records, connects to every peer it finds,"
echo "and pings it. The run is simulated: 20 virtual seconds take a millisecond."
"$bin" run scenarios/ping-dns-3.yaml --verbose --trace "$out/ping-dns-3.jsonl"

say "2. The same run, event by event, for pod n2 around its first DNS answer"
"$bin" replay "$out/ping-dns-3.jsonl" --node n2 --from 1s --to 1.006s

say "3. Determinism: a run is a function of (scenario, seed, build)"
"$bin" replay "$out/ping-dns-3.jsonl" --check
"$bin" run scenarios/ping-dns-3.yaml --seeds 1..3 --check-determinism

say "4. Faults: a partition cuts n1 off for 10 s, then heals"
"$bin" run scenarios/ping-partition-heal.yaml --seeds 1..3

say "5. Speed: the 100-node cluster with every network fault on"
"$bin" bench scenarios/bench/ping-100-faults.yaml --min-seconds 1

echo
echo "Traces and reports of this demo are in $out/. Next: README.md, scenarios/README.md."
