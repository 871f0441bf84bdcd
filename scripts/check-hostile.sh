#!/bin/bash
# scripts/check-hostile.sh CLUSTERD: hostile input against real daemons on
# loopback (127.0.0.1..3; the attacker connects from 127.0.0.9), run by
# `make test` on the plain and the sanitizer build:
#   1. the issue-19 loop (HELLO claiming a member's name, a REPLY of 16 zero
#      bytes, two other connections, the same HELLO again) 300 times against
#      n1 while n3 restarts: n1 survives (ASan clean), n1 and n2 never lose
#      each other, n3 rejoins, the refusals are counted in /metrics;
#   2. 40 connections announcing 16 MiB frames are closed after 1 KiB and
#      the daemon's memory stays flat;
#   3. HTTP: with 1,000 idle connections open, /livez and /healthz answer;
#      a 1 MB URL gets 414 and a 200 KB header 431, promptly;
#   4. a daemon limited to 64 descriptors with 120 idle connections keeps
#      its control socket answering and does not spin;
#   5. the control socket: mode 0600 under umask 000, another user is
#      refused, a path owned by someone else is never replaced;
#   6. registry names with quotes, backslashes, non-ASCII and non-UTF-8
#      bytes: every control answer is valid JSON with the name back, and
#      /state still answers.
# Every process it starts is killed on exit, by PID.
set -u
bin=${1:?usage: check-hostile.sh CLUSTERD}
ctl=$(dirname "$bin")/clusterctl
dir=build/hostile-check-$(basename "$(dirname "$bin")")
rm -rf "$dir"
mkdir -p "$dir"
chmod 755 "$dir"
port=$((24000 + $$ % 6000))
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done; }
trap cleanup EXIT
fail() { echo "FAIL check-hostile: $*"; for f in "$dir"/*.log; do echo "--- $f"; tail -n 15 "$f"; done; exit 1; }
. "$(dirname "$0")/wait-for.sh"
hostile() { python3 "$(dirname "$0")/hostile.py" "$@"; }
peers=app@127.0.0.1,app@127.0.0.2,app@127.0.0.3
start() { # index [extra flags...]
    local i=$1; shift
    "$bin" --name "app@127.0.0.$i" --port "$port" --secret s3cret --static "$peers" --grace 2s \
        --control "$dir/n$i.sock" --http-port $((port + 10 + i)) --setup-timeout 2s "$@" \
        >> "$dir/n$i.log" 2>&1 &
    pids+=($!)
    disown $!
    eval "pid$i=$!"
}
has() { "$ctl" -s "$dir/n$1.sock" members 2> /dev/null | grep -q "^app@127.0.0.$2 .*link up *tracker$"; }
mesh() { has 1 2 && has 1 3 && has 2 1 && has 2 3 && has 3 1 && has 3 2; }

start 1; start 2; start 3
wait_for 20 mesh || fail "no full mesh within 20 s"
echo "hostile: three daemons on 127.0.0.1..3 port $port"

# 1. The loop, with a genuine restart of n3 in the middle.
downs_before=$(grep -c "nodedown\|disconnected from app@127.0.0.2" "$dir/n1.log")
hostile loop 127.0.0.1 "$port" app@127.0.0.2 300 > "$dir/loop.out" 2>&1 &
loop_pid=$!
pids+=($loop_pid)
sleep 0.5
kill -9 "$pid3"; sleep 0.3; start 3
wait "$loop_pid" || fail "the attack loop failed: $(cat "$dir/loop.out")"
kill -0 "$pid1" 2> /dev/null || fail "n1 died under the issue-19 loop"
wait_for 15 mesh || fail "n3 did not rejoin during the attack"
has 1 2 && has 2 1 || fail "n1 and n2 lost each other"
grep -q "ERROR: AddressSanitizer\|runtime error" "$dir"/n*.log && fail "a sanitizer report"
metrics=$(curl -s -m 3 "http://127.0.0.1:$((port + 11))/metrics")
auth=$(echo "$metrics" | sed -n 's/^clusterd_rejected_frames_total{reason="auth_failed"} //p')
[ "${auth:-0}" -ge 300 ] || fail "n1 counted ${auth:-none} failed proofs, expected 300"
echo "ok   issue-19 loop x300 during a restart of n3: n1 alive, mesh kept, $auth failed proofs counted"

# 2. Frames announced as 16 MiB before any proof.
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid1/status"; }
before=$(rss)
closed=$(hostile bigframes 127.0.0.1 "$port" 40 | sed -n 's/^closed //p')
after=$(rss)
[ "${closed:-0}" -eq 40 ] || fail "only ${closed:-0} of 40 oversized announcements were closed"
[ $((after - before)) -lt 16384 ] || fail "n1 grew by $((after - before)) KiB under 40 oversized frames"
echo "ok   40 connections announcing 16 MiB frames closed; n1 grew $((after - before)) KiB"

# 3. HTTP under 1,000 idle connections, and oversized requests.
hport=$((port + 11))
hostile idle 127.0.0.1 "$hport" 1000 127.0.0.5 6 > "$dir/idle.out" &
idle_pid=$!
pids+=($idle_pid)
wait_for 10 grep -q opened "$dir/idle.out" || fail "the idle clients did not start"
live=$(curl -s -m 2 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$hport/livez")
ready=$(curl -s -m 2 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$hport/healthz")
# /healthz answers 200 when tracking, 503 while it syncs after n3's restart: either is an answer.
[ "$live" = 200 ] && { [ "$ready" = 200 ] || [ "$ready" = 503 ]; } || fail "with 1,000 idle connections: /livez $live, /healthz $ready"
wait "$idle_pid"
out=$(hostile http 127.0.0.1 "$hport")
echo "$out" | grep -q "^HTTP/1.1 414" || fail "a 1 MB URL got: $out"
echo "$out" | grep -q "^HTTP/1.1 431" || fail "a 200 KB header got: $out"
echo "ok   HTTP: /livez and /healthz answer beside $(sed -n 's/opened //p' "$dir/idle.out") idle connections; 414 and 431 in time"

# 4. Out of descriptors.
kill -9 "$pid2"
# Its port is free once it is gone (a zombie no longer holds it).
exited() { [ ! -e "/proc/$1" ] || grep -q "^State:.*Z" "/proc/$1/status" 2> /dev/null; }
wait_for 5 exited "$pid2" || fail "n2 did not die of SIGKILL"
(ulimit -n 64; exec "$bin" --name app@127.0.0.2 --port "$port" --secret s3cret --static "$peers" \
    --control "$dir/n2.sock" --setup-timeout 2s >> "$dir/n2-fd.log" 2>&1) &
pid2=$!
pids+=($pid2)
wait_for 10 test -S "$dir/n2.sock" || fail "the fd-limited daemon did not start"
hostile idle 127.0.0.2 "$port" 120 127.0.0.6 4 > "$dir/idle2.out" &
pids+=($!)
sleep 1.5
cpu0=$(awk '{print $14 + $15}' "/proc/$pid2/stat")
"$ctl" -s "$dir/n2.sock" status > /dev/null || fail "the control socket stopped answering at 64 descriptors"
sleep 2
cpu1=$(awk '{print $14 + $15}' "/proc/$pid2/stat")
[ $((cpu1 - cpu0)) -lt 50 ] || fail "the fd-limited daemon used $((cpu1 - cpu0)) ticks in 2 s (spinning)"
echo "ok   64 descriptors, 120 idle connections: control socket answers, $((cpu1 - cpu0)) CPU ticks in 2 s"

# 5. The control socket.
kill -9 "$pid3"
(umask 000; exec "$bin" --name app@127.0.0.3 --port "$port" --secret s3cret --static "$peers" \
    --control "$dir/n3.sock" >> "$dir/n3.log" 2>&1) &
pid3=$!
pids+=($pid3)
wait_for 10 test -S "$dir/n3.sock" || fail "n3 did not start under umask 000"
mode=$(stat -c %a "$dir/n3.sock")
[ "$mode" = 600 ] || fail "the control socket has mode $mode under umask 000"
if id nobody > /dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    chmod 755 "$dir"
    runuser -u nobody -- "$ctl" -s "$dir/n3.sock" status > /dev/null 2>&1 && fail "another user could use the control socket"
fi
touch "$dir/squat.sock"
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then chown nobody "$dir/squat.sock"; fi
"$bin" --name app@127.0.0.4 --port "$port" --secret s3cret --static "$peers" --control "$dir/squat.sock" \
    > "$dir/squat.log" 2>&1 && fail "clusterd replaced a path it does not own"
grep -q "refusing to replace it" "$dir/squat.log" || fail "no clear refusal: $(cat "$dir/squat.log")"
echo "ok   control socket: 0600 under umask 000, other users refused, squatted path refused"

# 6. Names no answer may break on, through the control socket and /state.
python3 - "$dir/n1.sock" <<'PY' || fail "a control answer about a hostile name was not valid JSON or lost the name"
import json, socket, sys
def ask(line):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(sys.argv[1])
    s.sendall(line)
    data = b""
    while not data.endswith(b"\n"):
        data += s.recv(4096)
    return json.loads(data)
for raw, want in ((b'my"pro\\c caf\xc3\xa9', 'my"pro\\c caf\u00e9'), (b"bad\xffbyte", "bad\u00ffbyte")):
    a = ask(b"register\t" + raw + b"\t\t0\n")
    assert a["name"] == want and a["status"] == "ok", a
    assert ask(b"whereis\t" + raw + b"\n")["name"] == want
PY
code=$(curl -s -m 3 -o "$dir/state.txt" -w "%{http_code}" "http://127.0.0.1:$((port + 11))/state")
[ "$code" = 200 ] && grep -q "registered: " "$dir/state.txt" || fail "/state after hostile names: $code"
echo "ok   hostile names through the control socket (valid JSON, names back; a non-UTF-8 byte as U+00FF) and /state"
