#!/usr/bin/env bash
# scripts/check-deploy.sh BUILD: the deployment files (deploy/, .dockerignore,
# docs/deploy.md) are valid and agree with the binaries in BUILD (clusterd,
# clusterctl, clustersim), offline: no cluster, no container engine.
#   1. yamllint (deploy/.yamllint) over every YAML file in deploy/;
#   2. scripts/check-deploy.py: the structure of each manifest and the
#      cross-checks (flags, ports, selectors, namespace, secret, Job,
#      Dockerfile, .dockerignore, docs), then its --self-test: each mutation
#      of a copy of the files must be caught;
#   3. the Deployment's clusterd container, run here as the kubelet would
#      start it (uid 65534 when root; the manifest's env and args with the
#      downward API filled in; its mounts as directories, ports moved to
#      free ones): /livez and /metrics answer on the HTTP port, clusterctl
#      -n "$CLUSTERD_NAME" with the container's environment (what kubectl
#      exec gets) finds the control socket, SIGTERM ends it well within the
#      termination grace period; under strace, it creates files only in its
#      emptyDir (the root filesystem is read-only in the pod);
#   4. the fuzz Job's script (deploy/fuzz/run-shard.sh) for shards 0..2 of 3
#      and its merge, compared with the unsharded campaign.
# Every process it starts is killed on exit, and its directory removed.
set -euo pipefail
build=${1:?usage: check-deploy.sh BUILD}
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "$build" && pwd)
tmp=$(mktemp -d)
pid='' daemon=''
cleanup() {
    for p in $daemon $pid; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL check-deploy: $*"; [ ! -f "$tmp/clusterd.log" ] || tail -n 20 "$tmp/clusterd.log"; exit 1; }
# shellcheck source=scripts/wait-for.sh
. "$here/wait-for.sh"

echo "deploy: yamllint, structure, cross-checks"
command -v yamllint > /dev/null || fail "yamllint is not installed (scripts/deps.sh)"
(cd "$root" && yamllint --strict -c deploy/.yamllint deploy/) || fail "yamllint"
echo "ok   yamllint: $(cd "$root" && find deploy -name '*.yaml' | wc -l) files"
"$here/check-deploy.py" "$build" || fail "the deployment files (above)"
"$here/check-deploy.py" --self-test "$build" || fail "the self-test (above)"

echo "deploy: the clusterd container, run here"
port=$((20000 + ($$ * 7) % 9000))
http=$((port + 17))
chmod 755 "$tmp"
env_vars=() args=() runtime_dirs=() grace_period=0 # set by --render:
eval "$("$here/check-deploy.py" --render "$build" "$tmp/pod" "$port" "$http")"
as_pod=()
if [ "$(id -u)" = 0 ]; then
    as_pod=(setpriv --reuid 65534 --regid 65534 --clear-groups)
fi
tracer=()
if command -v strace > /dev/null && strace -f -qq -o /dev/null true 2> /dev/null; then
    tracer=(strace -f -qq -o "$tmp/trace" -e "trace=creat,open,openat,mkdir,mkdirat,rename,renameat,renameat2,bind,link,symlink")
fi
(cd "$tmp" && exec "${tracer[@]}" "${as_pod[@]}" env -i "${env_vars[@]}" "$build/clusterd" "${args[@]}") \
    > "$tmp/clusterd.log" 2>&1 &
pid=$!
daemon=$pid
child() { daemon=$(pgrep -P "$pid") && [ -n "$daemon" ]; } # strace's child is the daemon (setpriv and env exec)
[ ${#tracer[@]} = 0 ] || wait_for 5 child || fail "strace started no daemon"
livez() { [ "$(curl -s "http://127.0.0.1:$http/livez")" = ok ]; }
wait_for 10 livez || fail "no /livez on the HTTP port"
curl -s "http://127.0.0.1:$http/metrics" | grep -q '^clusterd_links ' || fail "no clusterd_links in /metrics"
echo "ok   /livez and /metrics answer on the container's HTTP port"
# kubectl exec POD -- sh -c 'clusterctl -n "$CLUSTERD_NAME" status': the container's environment, its user
# shellcheck disable=SC2016 # expanded by the container's shell
out=$(env -i "${env_vars[@]}" PATH="$build:/usr/bin:/bin" "${as_pod[@]}" sh -c 'clusterctl -n "$CLUSTERD_NAME" status') \
    || fail "clusterctl -n \$CLUSTERD_NAME does not find the control socket: $out"
[[ "$out" == "{"* ]] || fail "clusterctl status answered: $out"
echo "ok   clusterctl -n \"\$CLUSTERD_NAME\" with the container's environment finds the control socket"
started=$SECONDS
kill -TERM "$daemon"
wait "$pid" || fail "clusterd exited with status $? on SIGTERM"
pid='' daemon=''
[ $((SECONDS - started)) -lt "$grace_period" ] || fail "the leave took longer than the termination grace period"
echo "ok   SIGTERM: clusterd left and exited in $((SECONDS - started)) s (grace period ${grace_period} s)"
if [ ${#tracer[@]} -gt 0 ]; then
    # Files, directories and sockets the daemon created or tried to: each must be in an emptyDir.
    created=$(grep -E 'O_CREAT|O_WRONLY|O_RDWR|mkdir|rename|bind\(.*AF_UNIX|link\(' "$tmp/trace" \
        | grep -oE '"/[^"]*"' | tr -d '"' | sort -u)
    outside=$(for f in $created; do
        inside=0
        for d in "${runtime_dirs[@]}"; do [[ "$f" == "$d"/* ]] && inside=1; done
        [ "$f" = /dev/null ] || [ $inside = 1 ] || echo "$f"
    done)
    [ -z "$outside" ] || fail "clusterd writes outside its emptyDir (read-only in the pod): $outside"
    [ -n "$created" ] || fail "strace saw no file created at all (the check would be blind)"
    echo "ok   clusterd creates files only in its emptyDir ($(echo "$created" | wc -l) paths)"
else
    echo "skip the write check: no strace (or no ptrace here)"
fi

echo "deploy: the fuzz Job's shard script, 3 shards and the merge"
export CLUSTERSIM=$build/clustersim SHARDS=3 SEEDS=1..30 PROFILE=join-storm MODE=swarm SHRINK=0 RESULTS=$tmp/results
# The unsharded campaign (exit status 1: it found failures) beside the shards.
"$CLUSTERSIM" fuzz --quiet --profile join-storm --mode swarm --seeds 1..30 --shrink 0 --out "$tmp/whole" \
    > "$tmp/whole.txt" &
pid=$!
for k in 0 1 2; do
    JOB_COMPLETION_INDEX=$k "$root/deploy/fuzz/run-shard.sh" > "$tmp/shard-$k.txt" || fail "shard $k: $(cat "$tmp/shard-$k.txt")"
done
"$root/deploy/fuzz/run-shard.sh" merge > "$tmp/merge.txt" || fail "the merge: $(cat "$tmp/merge.txt")"
wait "$pid" || [ $? = 1 ] || fail "the unsharded campaign: $(cat "$tmp/whole.txt")"
pid=
"$here/fuzz-compare.py" "$tmp/whole/summary.json" "$RESULTS/merged.json" || fail "merged != whole"
"$CLUSTERSIM" fuzz --merge "$tmp/partial.json" "$RESULTS"/shard-{0,1}/summary.json > /dev/null || [ $? = 1 ] \
    || fail "merging two shards"
if "$here/fuzz-compare.py" "$tmp/whole/summary.json" "$tmp/partial.json" > /dev/null; then
    fail "the comparison passes a merge of 2 of the 3 shards"
fi
echo "ok   the comparison fails a merge of 2 of the 3 shards"
rm "$RESULTS/shard-1/summary.json"
if "$root/deploy/fuzz/run-shard.sh" merge > "$tmp/merge.txt" 2>&1; then fail "the merge ran without shard 1"; fi
echo "ok   the merge refuses a missing shard"
echo "check-deploy: all ok"
