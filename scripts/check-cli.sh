#!/bin/bash
# scripts/check-cli.sh BUILD: the command line, as `make test` runs it:
# every command of clustersim, clusterd and clusterctl answers --help with
# its usage (exit 0) and each binary --version; a mistyped option or
# command gets "did you mean" and exit status 2; --opt=value works like
# --opt value; --quiet says a failure in a few lines; clusterd takes
# durations as files do (1.5s); the set-up as a user without sudo names the
# command to run as root.
set -u
build=${1:?usage: check-cli.sh BUILD}
sim=$build/clustersim
fail() { echo "FAIL check-cli: $*"; exit 1; }
for cmd in run agree replay explore fuzz shrink bench; do
    out=$("$sim" "$cmd" --help 2>&1) || fail "clustersim $cmd --help exited $?"
    grep -q "^usage: clustersim $cmd" <<< "$out" || fail "clustersim $cmd --help printed: $out"
done
for bin in clusterd clusterctl; do
    out=$("$build/$bin" --help 2>&1) || fail "$bin --help exited $?"
    grep -q "^usage: $bin" <<< "$out" || fail "$bin --help printed: $out"
done
for bin in clustersim clusterd clusterctl; do
    "$build/$bin" --version | grep -Eq "^$bin [0-9]+\.[0-9]+\.[0-9]+$" || fail "$bin --version"
done
expect_refusal() { # WANT CMD...
    local want=$1 out rc
    shift
    out=$("$@" 2>&1)
    rc=$?
    [ $rc -eq 2 ] && grep -qF -- "$want" <<< "$out" || fail "$* exited $rc with: $out (wanted: $want)"
}
expect_refusal "did you mean '--seed'?" "$sim" run scenarios/ping-dns-3.yaml --sede 3
expect_refusal "did you mean 'run'?" "$sim" rnu scenarios/ping-dns-3.yaml
expect_refusal "--seeds expects a range A..B" "$sim" run scenarios/ping-dns-3.yaml --seeds=x
expect_refusal "--quiet takes no value" "$sim" run scenarios/ping-dns-3.yaml --quiet=1
expect_refusal "did you mean '--grace'?" "$build/clusterd" --name a@127.0.0.1 --graec 2s
expect_refusal "did you mean 'whereis'?" "$build/clusterctl" -s /nonexistent whreis x
expect_refusal "'scenarios/ping-dns-3.yaml' is a scenario" "$sim" replay scenarios/ping-dns-3.yaml
"$sim" run scenarios/ping-dns-3.yaml --seed=3 --quiet > /dev/null || fail "--seed=3 was not taken"
"$sim" run scenarios/ping-dns-3.yaml --seeds=1..2 --quiet > /dev/null || fail "--seeds=1..2 was not taken"
# --quiet: a failing run is its line, one line per failed expectation, and its replay command.
out=$("$sim" run scenarios/seed-setup-swarm.yaml --seed 1 --quiet)
[ "$(grep -c "^FAIL seed-setup-swarm" <<< "$out")" = 1 ] && grep -q "^     replay: " <<< "$out" &&
    ! grep -q "last events\|stuck nodes" <<< "$out" && [ "$(wc -l <<< "$out")" -le 4 ] ||
    fail "run --quiet printed for a failing seed: $out"
# clusterd takes 1.5s (the project's one duration parser), and refuses it with a reason when it is not one.
expect_refusal "--grace expects a positive duration" "$build/clusterd" --name a@127.0.0.1 --static a@127.0.0.1 --grace 1.5q
out=$(timeout 2 "$build/clusterd" --name a@127.0.0.1 --static a@127.0.0.1 --grace 1.5s --port 1 --control /nonexistent/x 2>&1)
grep -q "grace" <<< "$out" && fail "clusterd refused --grace 1.5s: $out"
# set-up as a user without root and without sudo: the exact command to run as root, exit 1
if [ "$(id -u)" -eq 0 ] && ! command -v sudo > /dev/null; then
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups scripts/deps.sh no-such-package-for-check-cli 2>&1)
    rc=$?
    [ $rc -eq 1 ] && grep -qF "apt-get update && apt-get install -y --no-install-recommends no-such-package-for-check-cli" <<< "$out" \
        || fail "deps.sh as a user without sudo exited $rc with: $out"
fi
# one version everywhere: the binaries, the README and the changelog's latest entry
v=$("$sim" --version | cut -d' ' -f2)
grep -q "^Version $v (" README.md || fail "README.md does not say 'Version $v'"
[ "$(grep -m1 '^## [0-9]' CHANGELOG.md | cut -d' ' -f2)" = "$v" ] || fail "CHANGELOG.md's latest entry is not $v"
echo "ok   command line: --help on 7 clustersim commands, clusterd and clusterctl; --version on 3 binaries; did-you-mean and one wording for refusals; --opt=value; clusterd --grace 1.5s"
