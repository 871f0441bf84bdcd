#!/bin/bash
# scripts/check-walkthrough.sh BUILD_DIR: the README's walkthroughs, run on
# local daemons (BUILD_DIR/clusterd and BUILD_DIR/clusterctl) with their
# outputs asserted, text and --json alike (the JSON parsed by python3):
#   1. "The node daemon": three daemons on loopback addresses with static
#      discovery; register my_proc on node 1 (ok, a handle printed
#      unsigned), the same on node 2 (already_started, the same handle),
#      increment from node 3, read 1 from node 2; members, status (text and
#      structured), whereis --json; /healthz and /state;
#   2. "Deploying on Kubernetes", with SIGTERM for `kubectl delete pod`:
#      register-started my_counter from node 1 (the name's ring owner
#      starts it), increment from node 2, read 1 from node 2; SIGTERM the
#      owner: it leaves gracefully and exits 0, the other two agree that
#      my_counter now runs on one of them (a new handle) with its count
#      kept (1), and the plain my_proc lives exactly as long as node 1;
#   3. the deleted pod's replacement (a fourth daemon, a new address)
#      joins: every node agrees on one owner of my_counter (the ring may
#      hand it to the newcomer), whose count is still 1;
#   4. node 1 leaves too (when the owner was another node): the plain
#      my_proc is gone everywhere, my_counter still answers 1.
# (The process name's owner on the ring is whichever node its hash gives,
# not the node the command ran on: step 2 stops that owner, as the README
# has `kubectl delete pod` delete the pod that whereis names.)
# Daemons run on 127.0.0.71..74 (one port, HTTP bound to each address), with
# XDG_RUNTIME_DIR in a temporary directory so that `clusterctl -n NODE`
# finds their default control sockets as in the README.  Every daemon it
# starts is stopped by PID on exit; the temporary directory is removed.
set -euo pipefail
build=${1:?usage: check-walkthrough.sh BUILD_DIR}
bin=$build/clusterd
ctl=$build/clusterctl
tmp=$(mktemp -d)
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
port=$((30000 + $$ % 2000))
declare -A pid=()
cleanup() {
    for p in "${pid[@]}"; do { kill -9 "$p" && wait "$p"; } 2> /dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL check-walkthrough: $*"
    for f in "$tmp"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
    exit 1
}
. "$(dirname "$0")/wait-for.sh"

node() { echo "app@127.0.0.7$1"; }
peers=$(node 1),$(node 2),$(node 3),$(node 4)
start() { # index
    "$bin" --name "$(node "$1")" --port "$port" --secret s3cret --http-port $((port + $1)) \
        --http-bind "127.0.0.7$1" --static "$peers" --grace 10s >> "$tmp/n$1.log" 2>&1 &
    pid[$1]=$!
}
# clusterctl as the README runs it: -n NODE, the default socket.
ctl() { # index args...
    local i=$1
    shift
    "$ctl" -n "$(node "$i")" "$@"
}
# json_ok JSON EXPR: EXPR (python, the parsed JSON is d; it may span lines) holds.
json_ok() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' \
        "$1" "$2"
}
# json_get JSON EXPR: prints EXPR of the parsed JSON d.
json_get() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
expect() { # WHAT GOT WANT
    [ "$2" = "$3" ] || fail "$1: got '$2', wanted '$3'"
}
expect_json() { # WHAT JSON EXPR
    json_ok "$2" "$3" || fail "$1: $2 does not satisfy $3"
}
tracking() { # index peers-expected
    local s
    s=$(ctl "$1" --json status 2> /dev/null) &&
        json_ok "$s" "d['tracker']['state'] == 'tracking' and len(d['tracker']['nodes']) == $2"
}
# A handle: the unsigned decimal value of 64 bits, as a string.
is_handle='isinstance(d["handle"], str) and d["handle"].isdigit() and 0 < int(d["handle"]) < 2**64'

echo "walkthrough: three daemons on 127.0.0.71..73 port $port"
for i in 1 2 3; do start "$i"; done
all_tracking() { tracking 1 2 && tracking 2 2 && tracking 3 2; }
wait_for 30 all_tracking ||
    fail "the three trackers did not reach tracking with two nodes each"

# 1. The node daemon's walkthrough (README, "The node daemon").
out=$(ctl 1 register my_proc --counter 0) || fail "register on node 1: $out"
handle=$(sed -n "s/^ok on $(node 1) (\([0-9]*\))\$/\1/p" <<< "$out")
[ -n "$handle" ] || fail "register on node 1 printed: $out"
j=$(ctl 1 --json whereis my_proc)
expect_json "whereis --json on node 1" "$j" "d['result'] == 'ok' and d['node'] == '$(node 1)' and $is_handle"
expect "the handle in text and JSON" "$(json_get "$j" "d['handle']")" "$handle"
# A person types slower than a registration travels; the script waits for it.
wait_for 5 ctl 2 whereis my_proc > /dev/null || fail "node 2 never saw my_proc"
expect "register on node 2" "$(ctl 2 register my_proc --counter 0)" "already_started on $(node 1) ($handle)"
j=$(ctl 2 --json register my_proc --counter 0)
expect_json "register --json on node 2" "$j" \
    "d == {'result': 'already_started', 'name': 'my_proc', 'node': '$(node 1)', 'handle': '$handle'}"
expect "increment from node 3" "$(ctl 3 call my_proc increment)" "ok on $(node 1)"
# The increment is a message to node 1; the read from node 2 may overtake it.
reads() { [ "$(ctl "$1" call "$2" value)" = "$3" ]; } # index name expected-line
wait_for 5 reads 2 my_proc "ok on $(node 1) (1)" ||
    fail "node 2 read: $(ctl 2 call my_proc value)"
j=$(ctl 2 --json call my_proc value)
expect_json "call value --json on node 2" "$j" \
    "d == {'result': 'ok', 'name': 'my_proc', 'node': '$(node 1)', 'value': 1}"
members=$(ctl 1 members)
expect "members on node 1" "$(awk '{print $1, $2, $3, $4}' <<< "$members" | sort | tr '\n' ';')" \
    "$(node 2) link up tracker;$(node 3) link up tracker;"
j=$(ctl 1 --json members)
expect_json "members --json on node 1" "$j" \
    "sorted(d, key=lambda p: p['name']) == [{'name': '$(node 2)', 'link': 'up', 'tracker': True},
                                            {'name': '$(node 3)', 'link': 'up', 'tracker': True}]"
status=$(ctl 1 status)
[[ $status == "{:tracking, %TrackerState{"*"registered: 1}}" ]] || fail "status on node 1: $status"
j=$(ctl 1 --json status)
expect_json "status --json on node 1" "$j" "d['node'] == '$(node 1)' and d['settled'] and not d['stopping']
    and d['links'] == {'up': 2, 'handshaking': 0} and d['membership']['mode'] == 'fixed'
    and d['tracker']['mode'] == 'fixed' and d['tracker']['state'] == 'tracking' and d['tracker']['running']
    and sorted(d['tracker']['nodes']) == ['$(node 2)', '$(node 3)'] and d['tracker']['pending_sync_reqs'] == []
    and d['tracker']['ring'] == ['$(node 1)', '$(node 2)', '$(node 3)'] and d['tracker']['registered'] == 1
    and d['tracker']['clock'].startswith('{') and len(d['tracker']['registry_digest']) == 16
    and isinstance(d['tracker']['counters']['handoffs_sent'], int)"
python3 - "$port" <<'PY' || fail "/healthz or /state of node 1"
import sys, urllib.request
base = "http://127.0.0.71:%d" % (int(sys.argv[1]) + 1)
assert urllib.request.urlopen(base + "/healthz", timeout=3).read() == b"ok\n"
assert urllib.request.urlopen(base + "/state", timeout=3).read().startswith(b"{:tracking, %TrackerState{")
PY
echo "ok   node daemon walkthrough: register ok ($handle), already_started with that handle on node 2," \
    "increment from node 3, value 1 on node 2; members, status, whereis in text and JSON; /healthz, /state"

# 2. The Kubernetes walkthrough: kubectl delete pod is a SIGTERM and a
# graceful leave within the grace period.
j=$(ctl 1 --json register-started my_counter --counter 0)
expect_json "register-started --json from node 1" "$j" \
    "d['result'] == 'ok' and d['node'] in ('$(node 1)', '$(node 2)', '$(node 3)') and $is_handle"
owner=$(json_get "$j" "d['node'][-1]")
old_handle=$(json_get "$j" "d['handle']")
expect "increment from node 2" "$(ctl 2 call my_counter increment)" "ok on $(node "$owner")"
wait_for 5 reads 2 my_counter "ok on $(node "$owner") (1)" ||
    fail "node 2 read: $(ctl 2 call my_counter value)"
echo "ok   register-started from node 1: started on its ring owner $(node "$owner"); node 2 increments and reads 1"

kill -TERM "${pid[$owner]}"
gone() { ! kill -0 "$1" 2> /dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2> /dev/null; }
wait_for 15 gone "${pid[$owner]}" || fail "$(node "$owner") still runs 15 s after SIGTERM"
rc=0
wait "${pid[$owner]}" || rc=$?
[ "$rc" = 0 ] || fail "$(node "$owner") exited $rc after SIGTERM"
unset "pid[$owner]"
survivors=()
for i in 1 2 3; do if [ "$i" != "$owner" ]; then survivors+=("$i"); fi; done
a=${survivors[0]} b=${survivors[1]}
# Both survivors name one owner among themselves, with one new handle.
moved() {
    local ja jb
    ja=$(ctl "$a" --json whereis my_counter) && jb=$(ctl "$b" --json whereis my_counter) &&
        json_ok "$ja" "d['node'] in ('$(node "$a")', '$(node "$b")')" && [ "$ja" = "$jb" ]
}
wait_for 10 moved ||
    fail "after the owner's leave: $(ctl "$a" --json whereis my_counter) / $(ctl "$b" --json whereis my_counter)"
j=$(ctl "$a" --json whereis my_counter)
expect_json "whereis after the leave" "$j" "$is_handle and d['handle'] != '$old_handle'"
new_owner=$(json_get "$j" "d['node'][-1]")
for i in "$a" "$b"; do
    expect "the count read on node $i after the leave" "$(ctl "$i" call my_counter value)" \
        "ok on $(node "$new_owner") (1)"
done
j=$(ctl "$new_owner" --json status)
expect_json "status --json of the new owner" "$j" "d['tracker']['counters']['handoffs_taken'] >= 1
    and d['tracker']['nodes'] == ['$(node $([ "$new_owner" = "$a" ] && echo "$b" || echo "$a"))']"
# The plain register: my_proc runs on node 1 and ends with it.
plain_gone() { # index...
    local i j
    for i in "$@"; do
        j=$(ctl "$i" --json whereis my_proc) && fail "my_proc outlived node 1: $j"
        expect_json "whereis my_proc after node 1 left" "$j" \
            "d == {'result': 'not_found', 'name': 'my_proc', 'node': None, 'handle': None}"
    done
}
if [ "$owner" = 1 ]; then
    plain_gone "$a" "$b"
    plain="my_proc (plain register) went with node 1"
else
    expect "my_proc while node 1 runs" "$(ctl "$a" whereis my_proc)" "ok on $(node 1) ($handle)"
    plain="my_proc (plain register) stays on node 1, which still runs"
fi
echo "ok   SIGTERM to the owner: it exits 0; my_counter moved to $(node "$new_owner") (new handle)," \
    "count kept (1); $plain"

# 3. The replacement pod: a new address joins; the ring may hand my_counter to it.
start 4
live=("$a" "$b" 4)
live_tracking() { tracking "$a" 2 && tracking "$b" 2 && tracking 4 2; }
wait_for 30 live_tracking ||
    fail "the replacement did not join: $(ctl 4 --json status 2>&1)"
agreed() {
    local first="" j i
    for i in "${live[@]}"; do
        j=$(ctl "$i" --json whereis my_counter) || return 1
        [ -z "$first" ] && first=$j
        [ "$j" = "$first" ] || return 1
    done
}
wait_for 10 agreed || fail "the live nodes do not agree on my_counter's owner"
j=$(ctl 4 --json call my_counter value)
expect_json "the count read from the replacement" "$j" "d['result'] == 'ok' and d['value'] == 1"
echo "ok   the replacement $(node 4) joined; my_counter on $(json_get "$j" "d['node']"), count still 1"

# 4. Node 1 leaves too (when it still runs): the plain my_proc ends with it,
# my_counter stays registered with its count wherever it runs.
if [ -n "${pid[1]:-}" ]; then
    kill -TERM "${pid[1]}"
    wait_for 15 gone "${pid[1]}" || fail "$(node 1) still runs 15 s after SIGTERM"
    unset "pid[1]"
    live=("${!pid[@]}")
    wait_for 10 agreed || fail "after node 1 left, the live nodes do not agree on my_counter's owner"
    plain_gone "${live[@]}"
    for i in "${live[@]}"; do
        j=$(ctl "$i" --json call my_counter value)
        expect_json "the count read on node $i after node 1 left" "$j" "d['result'] == 'ok' and d['value'] == 1"
    done
    echo "ok   node 1 left: my_proc (plain register) went with it; my_counter on $(json_get "$j" "d['node']"), count 1"
fi

for i in "${!pid[@]}"; do kill -TERM "${pid[$i]}"; done
for i in "${!pid[@]}"; do
    wait_for 15 gone "${pid[$i]}" || fail "$(node "$i") still runs 15 s after SIGTERM"
done
if grep -l "AddressSanitizer\|LeakSanitizer\|runtime error" "$tmp"/*.log; then
    fail "a sanitizer reported an error (see the logs above)"
fi
echo "ok   walkthroughs: every daemon left gracefully"
