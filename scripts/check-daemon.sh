#!/bin/bash
# scripts/check-daemon.sh CLUSTERD: real-socket smoke test of the node daemon
# on loopback addresses (127.0.0.1..4, one free port), run by `make test`:
#   1. three daemons with static discovery form a full mesh;
#   2. the seed walkthrough through clusterctl: register my_proc on n1,
#      the same on n2 answers already_started with n1's handle, increment
#      from n3, read 1 from n2;
#   3. a daemon with the wrong secret is refused by all and joins no one;
#   4. kill -9 of one daemon: the others see it go; restarted on the same
#      address, it is connected again;
#   5. SIGTERM: every daemon leaves gracefully and exits within 5 s.
# Kubernetes DNS discovery, pods replaced with new addresses and the
# start-up storms run as scenarios against real daemons (scripts/check-real.sh,
# `clustersim run --real`); this script keeps what a scenario cannot say:
# bad input, backpressure, HTTP errors, configuration files.
# Every process it starts is killed on exit, even on failure.
set -u
bin=${1:?usage: check-daemon.sh CLUSTERD [CLUSTERCTL]}
ctl=${2:-$(dirname "$bin")/clusterctl}
dir=build/daemon-check-$(basename "$(dirname "$bin")") # one a build: builds checked at once do not share it
rm -rf "$dir"
mkdir -p "$dir"
# Below Linux's ephemeral range (32768 and up by default): a listening port
# in it can collide with the local port of some outgoing connection.
port=$((20000 + $$ % 10000))
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done; }
trap cleanup EXIT
fail() { echo "FAIL check-daemon: $*"; for f in "$dir"/*.log; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
peers=app@127.0.0.1,app@127.0.0.2,app@127.0.0.3
start() { # index secret log
    "$bin" --name "app@127.0.0.$1" --port "$port" --secret "$2" --static "$peers" --grace 5s \
        --control "$dir/n$1.sock" --http-port $((port + 10 + $1)) --setup-timeout 2s \
        >> "$dir/$3.log" 2>&1 &
    pids+=($!)
    disown $!
    eval "pid$1=$!"
}
. "$(dirname "$0")/wait-for.sh"
connected() { # log peer-index: the log says it connected to that peer (after the last restart)
    grep -q "connected to app@127.0.0.$2\$" "$dir/$1.log"
}
mesh() { connected n1 2 && connected n1 3 && connected n2 1 && connected n2 3 && connected n3 1 && connected n3 2; }

echo "daemon: three daemons on 127.0.0.1..3 port $port"
start 1 s3cret n1
start 2 s3cret n2
start 3 s3cret n3
wait_for 15 mesh || fail "no full mesh within 15 s"
echo "ok   full mesh"

tracking() { "$ctl" -s "$dir/n$1.sock" status | grep -q '^{:tracking'; }
wait_for 15 bash -c "$(declare -f tracking); ctl=$ctl dir=$dir; tracking 1 && tracking 2 && tracking 3" \
    || fail "the trackers did not reach tracking"
r1=$("$ctl" -s "$dir/n1.sock" register my_proc --counter 0) || fail "register on n1: $r1"
handle=$(echo "$r1" | sed -n 's/^ok on app@127.0.0.1 (\([0-9-]*\))$/\1/p')
[ -n "$handle" ] || fail "register on n1 answered: $r1"
sleep 0.5
r2=$("$ctl" -s "$dir/n2.sock" register my_proc --counter 0)
[ "$r2" = "already_started on app@127.0.0.1 ($handle)" ] || fail "register on n2 answered: $r2"
"$ctl" -s "$dir/n3.sock" call my_proc increment > /dev/null || fail "increment from n3 failed"
sleep 0.5
r3=$("$ctl" -s "$dir/n2.sock" call my_proc value)
[ "$r3" = "ok on app@127.0.0.1 (1)" ] || fail "the value read from n2 is: $r3"
# A malformed control request gets an error line; the daemon keeps serving.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(b"register\tx\t\tnot-a-number\n")
assert b"\"error\"" in s.recv(4096)
' "$dir/n1.sock" || fail "a malformed control request was not refused with an error"
"$ctl" -s "$dir/n1.sock" whereis my_proc > /dev/null || fail "the control socket stopped serving"
echo "ok   counter walkthrough: n1 registers, n2 gets already_started, n3 increments, n2 reads 1"

# A control client that pipelines 1,000,000 requests and reads nothing for a
# while: the daemon stops reading it (backpressure) instead of buffering its
# answers without bound, keeps serving other clients, and delivers every
# answer once the client reads.
python3 - "$dir/n1.sock" "$pid1" "$ctl" <<'PY' || fail "a control client that does not read stalled or bloated the daemon"
import socket, subprocess, sys, threading, time
path, pid, ctl = sys.argv[1], sys.argv[2], sys.argv[3]
def rss_mib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
n = 1000000
before = rss_mib()
s = socket.socket(socket.AF_UNIX)
s.connect(path)
sender = threading.Thread(target=s.sendall, args=(b"whereis\tmy_proc\t\t0\n" * n,))
sender.start()
time.sleep(2)
t0 = time.time()
other = subprocess.run([ctl, "-s", path, "whereis", "my_proc"], capture_output=True, timeout=10)
waited = time.time() - t0
assert other.returncode == 0, other
assert waited < 2, "another client waited %.1f s" % waited
grown = rss_mib() - before
assert grown < 24, "the daemon grew by %.0f MiB holding answers nobody reads" % grown
s.settimeout(20)
got = 0
while got < n:
    chunk = s.recv(1 << 20)
    assert chunk, "the daemon closed the connection after %d answers" % got
    got += chunk.count(b"\n")
sender.join()
assert got == n, got
print("     (grew %.1f MiB while unread; other client answered in %.3f s)" % (grown, waited))
PY
echo "ok   a control client that reads nothing: backpressure, other clients served, all 1,000,000 answers delivered"

# HTTP: /healthz, /metrics, /state; bad requests get an error, the daemon
# keeps serving.
python3 - $((port + 11)) <<'PY' || fail "the HTTP endpoints did not answer as expected"
import http.client, socket, sys
port = int(sys.argv[1])
def get(path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    c.request(method, path)
    r = c.getresponse()
    return r.status, r.read().decode()
assert get("/healthz") == (200, "ok\n"), get("/healthz")
status, body = get("/metrics")
assert status == 200 and "clusterd_links 2" in body and 'clusterd_tracker_state{state="tracking"} 1' in body, body
assert "clusterd_registrations 1" in body, body
status, body = get("/state")
assert status == 200 and body.startswith("{:tracking, %TrackerState{"), body
assert get("/nope")[0] == 404
assert get("/healthz", "POST")[0] == 405
s = socket.create_connection(("127.0.0.1", port), timeout=3)
s.sendall(b"GARBAGE\r\n\r\n")
reply = s.recv(4096)
assert reply == b"" or reply.startswith(b"HTTP/1.1 4"), reply
s = socket.create_connection(("127.0.0.1", port), timeout=3)
s.sendall(b"GET /healthz HTTP/9.9\r\n\r\n")
assert s.recv(4096).startswith(b"HTTP/1.1 505"), "a bad version is not refused"
assert get("/healthz")[0] == 200
PY
echo "ok   HTTP: /healthz 200 once tracking, /metrics and /state answer, bad requests refused"

# Bad input on the peer port: an oversized frame, garbage frames, a frame cut
# short, a stalled handshake; each link is closed with a counted reason, the
# cluster goes on.
python3 - "$port" $((port + 11)) <<'PY' || fail "bad input on the peer port was not refused and counted"
import http.client, socket, struct, sys, time
peer, http_port = int(sys.argv[1]), int(sys.argv[2])
def metric(name):
    c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=3)
    c.request("GET", "/metrics")
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    raise AssertionError("no metric " + name)
def closed(s):
    s.settimeout(3)
    try:
        while s.recv(4096):
            pass
        return True
    except (ConnectionResetError, socket.timeout):
        return False
oversized = 'clusterd_rejected_frames_total{reason="oversized_frame"}'
malformed = 'clusterd_rejected_frames_total{reason="malformed"}'
before_o, before_m = metric(oversized), metric(malformed)
s = socket.create_connection(("127.0.0.1", peer))
s.sendall(struct.pack(">I", 0x7FFFFFFF) + b"x" * 16)
assert closed(s), "an oversized frame did not close the link"
s = socket.create_connection(("127.0.0.1", peer))
s.sendall(struct.pack(">I", 5) + b"\xff\xfe\xfd\xfc\xfb")
assert closed(s), "a garbage frame did not close the link"
s = socket.create_connection(("127.0.0.1", peer))
s.sendall(struct.pack(">I", 100) + b"short")
s.close()
time.sleep(0.3)
assert metric(oversized) == before_o + 1, "the oversized frame was not counted"
assert metric(malformed) >= before_m + 1, "the garbage frame was not counted"
assert metric("clusterd_links") == 2, "the cluster lost its links"
# Slow loris: a connection that starts a frame and never finishes its
# handshake is closed at the set-up timeout (2 s here), counted.
before = metric("clusterd_setup_timeouts_total")
s = socket.create_connection(("127.0.0.1", peer))
s.sendall(b"\x00\x00")            # half a length prefix, then nothing
s.settimeout(6)
start = time.time()
assert s.recv(1) == b"", "the daemon sent something to a stalled peer"
took = time.time() - start
assert took < 5, "closed only after %.1f s" % took
assert metric("clusterd_setup_timeouts_total") == before + 1, "the set-up timeout was not counted"
PY
"$ctl" -s "$dir/n1.sock" call my_proc value | grep -q "(1)" || fail "the daemon stopped serving after bad input"
echo "ok   peer port: oversized, garbage and truncated frames closed and counted; a stalled handshake closed at the set-up timeout"

start 4 wrong-secret n4
sleep 3
grep -q "connected to" "$dir/n4.log" && fail "the daemon with the wrong secret joined"
grep -qi "secret\|auth" "$dir/n1.log" "$dir/n2.log" "$dir/n3.log" "$dir/n4.log" || fail "no refusal was logged"
kill -9 "$pid4"
echo "ok   the wrong secret is refused"

before=$(wc -l < "$dir/n1.log")
kill -9 "$pid3"
# n1 notices: it logs something about n3 again (a failed reconnect attempt).
lost() { tail -n +$((before + 1)) "$dir/n1.log" | grep -q "app@127.0.0.3"; }
wait_for 10 lost || fail "n1 did not notice n3's death"
mv "$dir/n3.log" "$dir/n3-first.log"
start 3 s3cret n3
wait_for 15 bash -c "grep -q 'connected to app@127.0.0.1\$' $dir/n3.log && grep -q 'connected to app@127.0.0.2\$' $dir/n3.log" \
    || fail "the restarted n3 did not reconnect"
echo "ok   kill -9 noticed; the restarted daemon reconnected"

kill -TERM "$pid1" "$pid2" "$pid3"
gone() { ! kill -0 "$pid1" 2> /dev/null && ! kill -0 "$pid2" 2> /dev/null && ! kill -0 "$pid3" 2> /dev/null; }
wait_for 5 gone || fail "daemons still running 5 s after SIGTERM"
grep -q "stopped" "$dir/n1.log" || fail "n1 did not log its stop"
echo "ok   SIGTERM: all three left and exited"

# Configuration files (config/cluster_file.h: membership, tracker); a bad
# one is refused with file:line:column and exit status 2, and so is a
# scenario's cluster section (the daemon reads no simulator schema).
printf 'membership:\n  tick_timeout: 5x\n' > "$dir/bad.yaml"
"$bin" --name app@127.0.0.1 --config "$dir/bad.yaml" > "$dir/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q "bad.yaml:2:17: expected a duration" "$dir/bad.txt" || fail "a bad config file: $(cat "$dir/bad.txt")"
printf 'cluster:\n  nodes: 3\n' > "$dir/scenario.yaml"
"$bin" --name app@127.0.0.1 --config "$dir/scenario.yaml" > "$dir/bad.txt" 2>&1
[ $? -eq 2 ] && grep -q "scenario.yaml:1:1: unknown key 'cluster'" "$dir/bad.txt" || fail "a scenario as config: $(cat "$dir/bad.txt")"
cat > "$dir/good.yaml" <<EOF
membership:
  secret: from-the-file
  topologies:
    - {strategy: static, hosts: [$peers], polling_interval: 1s}
tracker: {mode: fixed, sync_nodes_timeout: 1s, batch_window: 20ms}
EOF
for i in 1 2 3; do
    "$bin" --name "app@127.0.0.$i" --port "$port" --config "$dir/good.yaml" --control "$dir/n$i.sock" \
        > "$dir/config-n$i.log" 2>&1 &
    pids+=($!)
    disown $!
    eval "pid$i=$!"
done
sees() { "$ctl" -s "$dir/n$1.sock" members 2> /dev/null | grep -q "^app@127.0.0.$2 .*link up *tracker$"; }
view_mesh() { sees 1 2 && sees 1 3 && sees 2 1 && sees 2 3 && sees 3 1 && sees 3 2; }
wait_for 15 view_mesh || fail "no full mesh from a configuration file"
# That file batches replication (batch_window): names registered on n1 and
# n2 reach every node over real links, in batch frames.
for k in 1 2 3 4 5; do
    "$ctl" -s "$dir/n1.sock" register "cfg_a$k" --counter $k > /dev/null || fail "register cfg_a$k on n1"
    "$ctl" -s "$dir/n2.sock" register "cfg_b$k" --counter $k > /dev/null || fail "register cfg_b$k on n2"
done
batched() { for k in 1 2 3 4 5; do for n in 1 2 3; do
    "$ctl" -s "$dir/n$n.sock" whereis "cfg_a$k" | grep -q '^ok on app@127.0.0.1' || return 1
    "$ctl" -s "$dir/n$n.sock" whereis "cfg_b$k" | grep -q '^ok on app@127.0.0.2' || return 1; done; done; }
wait_for 10 batched || fail "batched registrations did not reach every node"
kill -TERM "$pid1" "$pid2" "$pid3"
wait_for 5 gone || fail "daemons still running 5 s after SIGTERM"
echo "ok   config files: a bad one and a scenario refused with file:line:column (exit 2); a good one forms the mesh and replicates in batches"

if grep -l "AddressSanitizer\|LeakSanitizer\|runtime error" "$dir"/*.log; then
    fail "a sanitizer reported an error (see the logs above)"
fi
