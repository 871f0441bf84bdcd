#!/bin/bash
# scripts/check-metrics.sh CLUSTERD [CLUSTERCTL]: clusterd's /metrics and
# JSON log lines on loopback (127.0.0.61..65, one port below the ephemeral
# range; HTTP on the next port of each node's own address):
#   0. the checker's self-test: broken expositions and log lines rejected;
#   1. a fixed-mode pair (61 logging JSON, 62 text) tracks; a name
#      registered on 61 through clusterctl reaches 62; two scrapes of each
#      pass scripts/check-metrics.py (format and conventions, build_info
#      with the version `clusterd --version` prints, process_* > 0, syncs
#      started >= completed and > 0, a handshake counted, no counter going
#      down between the scrapes), and the counters that tell of the
#      registration, the scrapes and the links say so;
#   2. a swarm-mode pair (63 logging JSON, 64) the same;
#   3. a node with the tracker off: a valid exposition without the
#      tracker's families;
#   4. SIGTERM: every daemon exits 0 (under ASan with detect_leaks=1, a
#      leak fails it), and every line 61 and 63 wrote parses as a JSON
#      object with ts, level, node, component and msg.
# Every process it starts is killed on exit, even on failure; its
# temporary directory is removed.
set -euo pipefail
bin=${1:?usage: check-metrics.sh CLUSTERD [CLUSTERCTL]}
ctl=${2:-$(dirname "$bin")/clusterctl}
here=$(dirname "$0")
check="$here/check-metrics.py"
dir=$(mktemp -d /tmp/check-metrics.XXXXXX)
# Below Linux's ephemeral range (32768 and up by default), away from the
# ports check-daemon.sh and check-hostile.sh take (20000..29999).
port=$((12000 + $$ % 6000))
http=$((port + 1))
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
fail() {
    echo "FAIL check-metrics: $*"
    for f in "$dir"/*.log "$dir"/*.txt; do [ -e "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
    exit 1
}
. "$here/wait-for.sh"

"$check" --self-test > "$dir/self-test.out" || { cat "$dir/self-test.out"; fail "the checker's self-test"; }
sed 's/^/     /' "$dir/self-test.out"
version=$("$bin" --version | sed -n 's/^clusterd //p')
[ -n "$version" ] || fail "clusterd --version printed no version"

declare -A pid
start() { # index tracker log-format peer-indices... (more options in $extra)
    local i=$1 tracker=$2 format=$3 peers="" p
    shift 3
    for p in "$@"; do peers="$peers${peers:+,}app@127.0.0.$p"; done
    "$bin" --name "app@127.0.0.$i" --port "$port" --secret m3trics --static "$peers" --tracker "$tracker" \
        --sync-nodes-timeout 1s --grace 5s --control "$dir/n$i.sock" --http-bind "127.0.0.$i" \
        --http-port "$http" --log-format "$format" ${extra:-} > "$dir/n$i.log" 2>&1 &
    pid[$i]=$!
    pids+=($!)
}
get() { # index path: the body, or a failure
    curl -sf --max-time 3 "http://127.0.0.$1:$http$2"
}
ready() { # indices...: every one answers /healthz 200 (its tracker tracks)
    local i
    for i in "$@"; do get "$i" /healthz > /dev/null || return 1; done
}
scrape() { # index file
    get "$1" /metrics > "$dir/$2" || fail "GET /metrics of 127.0.0.$1 failed"
}
metric() { # file sample: its value (the sample written exactly, labels included)
    awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' "$dir/$1"
}
checked() { # file [check-metrics.py options]
    local f=$1
    shift
    "$check" "$@" "$dir/$f" || fail "$f: $(cat "$dir/$f" | wc -l) lines did not pass check-metrics.py"
}
registered() { # index count
    [ "$(get "$1" /metrics | awk '$1 == "clusterd_registrations" { print $2 }')" = "$2" ]
}

echo "metrics: fixed-mode pair on 127.0.0.61..62 port $port, HTTP $http"
extra="--log-level debug" start 61 fixed json 61 62 # (debug: replies name the names)
start 62 fixed text 61 62
wait_for 20 ready 61 62 || fail "the fixed-mode pair did not reach tracking"
reply=$("$ctl" -s "$dir/n61.sock" register metrics_proc --counter 0) || fail "register on 61: $reply"
case $reply in ok\ on\ app@127.0.0.61*) ;; *) fail "register on 61 answered: $reply" ;; esac
wait_for 10 registered 62 1 || fail "the registration did not reach 62"
# A name that JSON must escape (a quote, a backslash, a byte that is not
# UTF-8): 61 logs its reply at debug level.
odd=$'q"uote\\back\xffbyte'
"$ctl" -s "$dir/n61.sock" register "$odd" --counter 0 > /dev/null || fail "register of an odd name on 61"
wait_for 10 registered 62 2 || fail "the odd name did not reach 62"
"$ctl" -s "$dir/n61.sock" unregister "$odd" > /dev/null || fail "unregister of an odd name on 61"
wait_for 10 registered 62 1 || fail "the odd name's unregistration did not reach 62"
for i in 61 62; do scrape $i "f$i-a.txt"; done
sleep 0.5
for i in 61 62; do
    scrape $i "f$i-b.txt"
    checked "f$i-a.txt" --clusterd --version "$version" --tracking --handshakes 1
    checked "f$i-b.txt" --clusterd --version "$version" --tracking --handshakes 1 --previous "$dir/f$i-a.txt"
    [ "$(metric "f$i-b.txt" 'clusterd_build_info{version="'"$version"'",tracker="fixed",membership="fixed"}')" = 1 ] \
        || fail "127.0.0.$i: build_info does not name the fixed tracker"
    [ "$(metric "f$i-b.txt" clusterd_links)" = 1 ] || fail "127.0.0.$i: clusterd_links is not 1"
    [ "$(metric "f$i-b.txt" clusterd_registrations)" = 1 ] || fail "127.0.0.$i: clusterd_registrations is not 1"
    # The scrape before it was answered 200: counted by the next one.
    ok=$(metric "f$i-b.txt" 'clusterd_http_requests_total{code="200"}')
    [ "$ok" != absent ] && [ "$ok" -ge 1 ] || fail "127.0.0.$i: the 200 answers were not counted ($ok)"
done
copies=$(metric f62-b.txt clusterd_remote_copies_total)
[ "$copies" != absent ] && [ "$copies" -ge 1 ] || fail "62 merged the registration but counts $copies remote copies"
echo "ok   fixed mode: two scrapes of each node valid; syncs, handshakes, the registration and the scrapes counted"

echo "metrics: swarm-mode pair on 127.0.0.63..64"
start 63 swarm json 63 64
start 64 swarm text 63 64
wait_for 20 ready 63 64 || fail "the swarm-mode pair did not reach tracking"
for i in 63 64; do
    scrape $i "s$i.txt"
    checked "s$i.txt" --clusterd --version "$version" --tracking --handshakes 1
    [ "$(metric "s$i.txt" 'clusterd_tracker_state{state="tracking"}')" = 1 ] || fail "127.0.0.$i is not tracking"
    [ "$(metric "s$i.txt" 'clusterd_build_info{version="'"$version"'",tracker="swarm",membership="fixed"}')" = 1 ] \
        || fail "127.0.0.$i: build_info does not name the swarm tracker"
done
echo "ok   swarm mode: valid; syncs started >= completed > 0 on both"

echo "metrics: a node with the tracker off on 127.0.0.65"
start 65 off text 65
wait_for 10 get 65 /livez > /dev/null || fail "127.0.0.65 did not answer /livez"
scrape 65 o65.txt
checked o65.txt --clusterd --version "$version"
[ "$(metric o65.txt clusterd_syncs_started_total)" = absent ] || fail "the tracker is off, yet its syncs are listed"
echo "ok   tracker off: valid, no tracker families"

# A graceful stop: each exits 0 within 10 s (a leak under ASan does not).
for i in "${!pid[@]}"; do kill -TERM "${pid[$i]}"; done
for i in "${!pid[@]}"; do
    rc=0
    wait_for 10 bash -c "! kill -0 ${pid[$i]} 2> /dev/null" || fail "127.0.0.$i did not exit within 10 s of SIGTERM"
    wait "${pid[$i]}" || rc=$?
    [ "$rc" = 0 ] || fail "127.0.0.$i exited $rc after SIGTERM"
done
echo "ok   SIGTERM: every daemon exited 0"
for i in 61 63; do
    "$check" --json-log "$dir/n$i.log" || fail "the log of 127.0.0.$i (--log-format json)"
done
python3 - "$dir/n61.log" <<'PY' || fail "61's JSON log lost what its lines say"
import json, sys
lines = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
def has(component, start):
    return any(o["component"] == component and o["msg"].startswith(start) for o in lines)
assert has("libcluster:epmd", "connected to app@127.0.0.62"), "no connection line"
assert has("swarm", "[tracker:init] started (fixed mode)"), "no tracker start (component of '[swarm on NODE]')"
assert has("clusterd", "listening on port"), "no line of the daemon's own"
assert any(o["level"] == "debug" and 'register q"uote\\back\u00ffbyte -> ok' in o["msg"] for o in lines), \
    "the odd name's reply is not in the log, escaped and read back"
PY
head -n 1 "$dir/n62.log" | grep -Eq '^[0-9-]{10}T[0-9:.]{12}Z \[info\] \[app@127\.0\.0\.62\] ' \
    || fail "62's default log is not the text format"
echo "ok   --log-format json: every line one JSON object with ts, level, node, component, msg; text by default"
