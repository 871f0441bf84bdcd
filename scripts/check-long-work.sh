#!/bin/bash
# scripts/check-long-work.sh BUILD: long work shows progress and survives
# Ctrl-C, as `make test` runs it.  Each command is started in its own
# process group (setsid) and the group gets the signal, as a terminal's
# Ctrl-C would deliver it to every process of the job:
#   fuzz over 200,000 of Swarm's join storms on 2 workers, SIGINT: exit
#     130, summary.json written with state "interrupted by SIGINT", every
#     seed counted once, every failing seed's file in it but for the (at most
#     2) seeds the workers had begun, no worker left behind, status lines;
#   explore of a 4-node storm, SIGTERM: exit 143, the search's report says
#     it was interrupted and lists what it found;
#   run --seeds over 100,000 seeds of two files, SIGINT: exit 130 and the
#     counted runs on the last line;
#   short work prints no status line off a terminal; on a terminal (a pty)
#   the line is redrawn in place, and CLUSTERSIM_PROGRESS=off silences it.
set -u
build=${1:?usage: check-long-work.sh BUILD}
sim=$build/clustersim
tmp=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -KILL -- "-$pid" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL check-long-work: $*"; exit 1; }

# start NAME CMD...: the command in a new process group, output to $tmp/NAME.{out,err}
start() {
    local name=$1
    shift
    setsid "$@" > "$tmp/$name.out" 2> "$tmp/$name.err" &
    pid=$!
}
# interrupt SIGNAL AFTER_SECONDS: signals the group, waits; sets $rc
interrupt() {
    sleep "$2"
    kill -"$1" -- "-$pid" || fail "the command ended before the signal: $(cat "$tmp"/*.err)"
    wait "$pid"
    rc=$?
}
# no process of the group may survive it
none_left() {
    sleep 0.2
    if pgrep -g "$pid" > /dev/null; then
        pgrep -a -g "$pid"
        fail "$1: processes of the interrupted run are still alive"
    fi
    pid=""
}

export CLUSTERSIM_PROGRESS=0.5
command -v pgrep > /dev/null || fail "pgrep is missing (procps): the checks for processes left behind need it"
# Swarm's join storms fail on most seeds: the summary must account for the files they leave
start fuzz "$sim" fuzz --profile join-storm --mode swarm --seeds 1..200000 --jobs 2 --shrink 0 --reports 0 --out "$tmp/fuzz"
interrupt INT 3
[ "$rc" -eq 130 ] || fail "fuzz exited $rc after SIGINT (wanted 130): $(tail -3 "$tmp/fuzz.out")"
none_left fuzz
python3 - "$tmp/fuzz" << 'EOF' || fail "fuzz's summary after SIGINT: $(cat "$tmp/fuzz.out")"
import json, os, re, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
assert s["state"] == "interrupted by SIGINT", s["state"]
assert 0 < s["seeds"] < 200000, s["seeds"]
assert s["passed"] + len(s["failures"]) == s["seeds"], (s["passed"], len(s["failures"]), s["seeds"])
listed = [f["seed"] for f in s["failures"]]
assert len(listed) == len(set(listed)), "a seed counted twice"
assert listed, "no failure counted: Swarm's storms fail on most seeds"
# every failing seed's file the workers wrote is in the summary, but for the
# seeds the two workers had begun when they were stopped (abandoned, not counted)
files = {int(m.group(1)) for m in (re.match(r"seed-(\d+)-.*\.yaml$", n) for n in os.listdir(d + "/failures")) if m}
assert set(listed) <= files, sorted(set(listed) - files)
assert len(files - set(listed)) <= 2, ("files of seeds the summary does not count", sorted(files - set(listed)))
EOF
grep -q "interrupted by SIGINT: the seeds above are those finished" "$tmp/fuzz.out" || fail "fuzz did not say it was interrupted"
grep -Eq '^fuzz: [0-9]+/200000 seeds \([0-9.]+ %\), [0-9]+/s, .* elapsed, ETA [0-9:]+$' "$tmp/fuzz.err" \
    || fail "no fuzz status line on stderr: $(head -3 "$tmp/fuzz.err")"
echo "ok   fuzz: SIGINT after 3 s: exit 130, summary.json of $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["seeds"])' "$tmp/fuzz/summary.json") seeds (state interrupted), no worker left, status lines"

start explore "$sim" explore scenarios/explore/join-4-swarm.yaml --out "$tmp/explore"
interrupt TERM 3
[ "$rc" -eq 143 ] || fail "explore exited $rc after SIGTERM (wanted 143): $(tail -3 "$tmp/explore.out")"
none_left explore
grep -Eq '^explored .*search interrupted by SIGTERM$' "$tmp/explore.out" || fail "explore's report: $(head -2 "$tmp/explore.out")"
grep -Eq '^stuck states: [0-9]+$' "$tmp/explore.out" || fail "explore did not report its stuck states"
grep -Eq '^explore: [0-9]+ schedules, [0-9]+/s, [0-9]+ distinct states, [0-9]+ stuck, .* elapsed$' "$tmp/explore.err" \
    || fail "no explore status line: $(head -3 "$tmp/explore.err")"
echo "ok   explore: SIGTERM after 3 s: exit 143, the partial search reported ($(grep -c 'schedule: ' "$tmp/explore.out") stuck schedules written)"

start run "$sim" run scenarios/seed-setup-swarm.yaml scenarios/deadlock-a-swarm.yaml --seeds 1..100000 --quiet
interrupt INT 2
[ "$rc" -eq 130 ] || fail "run exited $rc after SIGINT (wanted 130)"
none_left run
tail -n 1 "$tmp/run.out" | grep -Eq '^runs: [0-9]+ passed, [0-9]+ failed \(interrupted by SIGINT after [0-9]+ runs: the rest was not run\)$' \
    || fail "run's last line: $(tail -n 1 "$tmp/run.out")"
grep -Eq '^run: [0-9]+/200000 runs' "$tmp/run.err" || fail "no run status line: $(head -3 "$tmp/run.err")"
echo "ok   run --seeds: SIGINT after 2 s: exit 130, $(tail -n 1 "$tmp/run.out" | sed 's/ (.*//')"

unset CLUSTERSIM_PROGRESS
"$sim" fuzz --seeds 1..20 --out "$tmp/short" > /dev/null 2> "$tmp/short.err" || fail "a short fuzz failed"
[ ! -s "$tmp/short.err" ] || fail "a short campaign off a terminal printed: $(cat "$tmp/short.err")"
# On a terminal (a pty from script(1)) the line is redrawn in place within a
# second of work; CLUSTERSIM_PROGRESS=off silences exactly that.
tty_run() { script -qec "$1 $sim run scenarios/seed-setup-swarm.yaml --seeds 1..4000 --quiet > /dev/null" /dev/null \
    < /dev/null > "$2" 2>&1; }
tty_run "" "$tmp/tty.out"
grep -aq $'\rrun: [0-9]*/4000 runs' "$tmp/tty.out" || fail "no status line redrawn on a terminal: $(head -c 300 "$tmp/tty.out" | cat -v)"
tty_run "CLUSTERSIM_PROGRESS=off" "$tmp/off.out"
! grep -aq 'run: [0-9]*/4000 runs' "$tmp/off.out" || fail "CLUSTERSIM_PROGRESS=off printed: $(head -c 300 "$tmp/off.out" | cat -v)"
echo "ok   no status line from short work off a terminal; on a terminal it is redrawn in place, and CLUSTERSIM_PROGRESS=off silences it"
