#!/usr/bin/env bash
# scripts/check-install.sh BUILD_DIR: `make install` and the man pages,
# without the slow PGO build of `make all`: installs BUILD_DIR's binaries
# with scripts/install.sh into a temporary prefix (and once more under a
# DESTDIR), checks every file and its mode, runs each installed binary, and
# uninstalls leaving no file behind; renders every page of man/ with groff
# and fails on any warning; and checks that the pages have not drifted from
# the binaries:
#   - every option `X --help` lists (clustersim: per command) is a .TP tag of
#     X's page (clustersim.1: of its `.SS "clustersim CMD"` subsection or of
#     OPTIONS), and every option tagged there is named in `X --help`;
#   - clusterctl's commands are the first words of its COMMANDS tags;
#   - every key the scenario loader accepts in a section (asked of the
#     binary: an unknown key is refused with the list of the accepted ones)
#     is a tag of the matching subsection of clustersim-scenario.5, and
#     every key tagged there is accepted.
# A self-test then removes one option or key from a copy of a page (and adds
# one that does not exist) and requires the drift check to fail each time.
set -euo pipefail
build=${1:?usage: check-install.sh BUILD_DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "$build" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL check-install: $*" >&2; exit 1; }
command -v groff > /dev/null || fail "groff is missing (scripts/deps.sh installs groff-base)"
version=$(sed -n 's/^#define CS_VERSION "\(.*\)"$/\1/p' "$root/config/version.h")

# ---- the install -----------------------------------------------------------

# The files an install must hold, "MODE PATH" (PATH under the prefix),
# worked out here from the source tree rather than from install.sh.
expected_files() {
    local f rel
    for f in clustersim clusterd clusterctl; do echo "755 bin/$f"; done
    for f in "$root"/man/*.[158]; do echo "644 share/man/man${f##*.}/$(basename "$f")"; done
    (cd "$root" && find scenarios -type f \( -name '*.yaml' -o -name README.md \) ! -path 'scenarios/invalid/*') |
        while IFS= read -r rel; do echo "644 share/clustersim/$rel"; done
    (cd "$root" && find deploy -type f) | while IFS= read -r rel; do
        if [ -x "$root/$rel" ]; then echo "755 share/clustersim/$rel"; else echo "644 share/clustersim/$rel"; fi
    done
    for f in "$root"/README.md "$root"/CHANGELOG.md "$root"/LICENSE; do
        echo "644 share/doc/clustersim/$(basename "$f")"
    done
    for f in "$root"/docs/*.md; do echo "644 share/doc/clustersim/docs/$(basename "$f")"; done
    echo "644 share/clustersim/install-manifest"
}

check_installed() { # DEST PREFIX: the files, their modes and contents, nothing more
    local dest=$1 prefix=$2 mode rel got n=0
    while read -r mode rel; do
        [ -f "$dest/$rel" ] || fail "$dest/$rel was not installed"
        got=$(stat -c %a "$dest/$rel")
        [ "$got" = "$mode" ] || fail "$dest/$rel has mode $got, wanted $mode"
        case $rel in
            share/clustersim/scenarios/*|share/clustersim/deploy/*) cmp -s "$root/${rel#share/clustersim/}" "$dest/$rel" ||
                fail "$dest/$rel differs from its source" ;;
        esac
        n=$((n + 1))
    done < "$tmp/expected"
    got=$(find "$dest" -type f | wc -l)
    [ "$got" -eq "$n" ] || fail "$dest holds $got files, wanted $n: $(cd "$dest" && find . -type f | sort |
        sed 's|^\./||' | grep -vxF -f <(awk '{print $2}' "$tmp/expected") | head -5)"
    [ ! -e "$dest/share/clustersim/scenarios/invalid" ] || fail "scenarios/invalid/ was installed"
    local page
    for page in "$dest"/share/man/man*/*; do
        ! grep -q '@[A-Z]*@' "$page" || fail "$page keeps a placeholder: $(grep -m1 '@[A-Z]*@' "$page")"
        grep -q "^\.TH .*\"clustersim $version\"" "$page" || fail "$page does not name version $version"
        # every path under the prefix that the page names was installed
        local path
        for path in $(sed 's/\\-/-/g; s/\\f[BIRP]//g; s/\\&//g' "$page" | grep -oE "$prefix/[A-Za-z0-9_./-]*" |
                sed 's/[.,]*$//' | sort -u); do
            [ -e "$dest${path#"$prefix"}" ] || fail "$page names $path, which the install does not hold"
        done
    done
}

check_binaries() { # DEST
    local bin out
    for bin in clustersim clusterd clusterctl; do
        out=$("$1/bin/$bin" --version) || fail "$1/bin/$bin --version exited $?"
        [ "$out" = "$bin $version" ] || fail "$1/bin/$bin --version printed '$out', wanted '$bin $version'"
    done
    if command -v man > /dev/null; then
        for bin in clustersim clusterd clusterctl clustersim-scenario; do
            man -M "$1/share/man" -w "$bin" > /dev/null 2>&1 || fail "man -M $1/share/man cannot find $bin"
        done
    fi
}

check_uninstalled() { # DEST
    local left
    left=$(find "$1" \( -type f -o -type l \) | head -5)
    [ -z "$left" ] || fail "uninstall left files behind: $left"
    [ ! -e "$1/share/clustersim" ] && [ ! -e "$1/share/doc/clustersim" ] ||
        fail "uninstall left share/clustersim or share/doc/clustersim"
}

# groff -ww (PostScript and terminal) and man --warnings (80 columns) say
# nothing about PAGE.
render_ok() { # PAGE
    local dev out
    for dev in ps utf8; do
        out=$(groff -man -ww -z -T"$dev" "$1" 2>&1) || fail "groff -T$dev failed on $1: $out"
        [ -z "$out" ] || fail "groff -T$dev warns on $1: $out"
    done
    if command -v man > /dev/null; then
        out=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 > /dev/null) || fail "man -l failed on $1: $out"
        [ -z "$out" ] || fail "man --warnings warns on $1: $out"
    fi
}

# Installs into DEST (DESTDIR + PREFIX) and checks it; the expected list is
# read just before (deploy/ may be edited while this runs).
install_and_check() { # DESTDIR PREFIX
    expected_files > "$tmp/expected"
    DESTDIR=$1 "$root/scripts/install.sh" "$build" "$2" > /dev/null
    check_installed "$1$2" "$2"
}

install_and_check "" "$tmp/prefix"
check_binaries "$tmp/prefix"
install_and_check "" "$tmp/prefix" # again, over itself
"$root/scripts/install.sh" --uninstall "$tmp/prefix" > /dev/null
check_uninstalled "$tmp/prefix"
install_and_check "$tmp/stage" /usr/local
grep -q '/usr/local/share/clustersim/scenarios' "$tmp/stage/usr/local/share/man/man1/clustersim.1" ||
    fail "the staged clustersim.1 does not name /usr/local (PREFIX) as its home"
for page in "$tmp"/stage/usr/local/share/man/man*/*; do render_ok "$page"; done
DESTDIR="$tmp/stage" "$root/scripts/install.sh" --uninstall /usr/local > /dev/null
check_uninstalled "$tmp/stage/usr/local"
echo "ok   install: $(wc -l < "$tmp/expected") files with their modes into a prefix and under DESTDIR, binaries print $version, uninstall leaves none"

# ---- rendering -------------------------------------------------------------

pages=("$root"/man/*.[158])
for page in "${pages[@]}"; do render_ok "$page"; done
echo "ok   man pages: ${#pages[@]} render with groff -man -ww and man --warnings, as written and as installed in /usr/local, without a warning"

# ---- drift between the pages and the binaries ------------------------------

# The tag lines (after .TP and .TQ) of a page, or of its .SH / .SS section
# titled $2, as text: font and hyphen escapes and the macro name removed.
tags() { # PAGE [TITLE]
    awk -v want="${2:-}" '
        /^\.S[HS] / { t = $0; sub(/^\.S[HS] +/, "", t); gsub(/"/, "", t); on = (want == "" || t == want); tag = 0; next }
        want == "" { on = 1 }
        on && tag { print; tag = 0; next }
        on && /^\.T[PQ]/ { tag = 1 }' "$1" |
        sed -E 's/\\f[BIRP]//g; s/\\-/-/g; s/\\&//g; s/\\\|//g; s/^\.[A-Z]+ +//; s/"//g'
}
# The options named in text on stdin, one per line: --long and -x.
options() {
    tr -c 'A-Za-z0-9\n-' ' ' | tr ' ' '\n' | grep -E '^(--[a-z][a-z0-9-]*|-[A-Za-z])$' | sort -u || true
}
# The options a --help lists, which the page must document: its usage line
# and the option column of the shared parser's table (config/cli_opts.c:
# "  -o, --out FILE   help"), so that options named in its prose (replay's
# "clustersim run --trace") do not count; a help without that table is read
# whole.  An option the page documents must only be named somewhere in the
# --help (options, on the whole text).
help_options() {
    local text
    text=$(cat)
    if grep -qE '^  --?[A-Za-z]' <<< "$text"; then
        { grep '^usage:' <<< "$text"; grep -oE '^  (-[A-Za-z], )?--[a-z][a-z0-9-]*' <<< "$text"; } | options
    else
        options <<< "$text"
    fi
}
# The first word of each tag, as a key: "ping_interval: duration" -> ping_interval.
keys() { awk '{ print $1 }' | sed -E 's/[^A-Za-z0-9_].*//' | grep . | sort -u || true; }

problems=0
drift() { echo "  drift: $*" >&2; problems=$((problems + 1)); }
# The items of the list WANTED that the list HAVE lacks (lists: a word a line).
missing() { comm -23 <(sort -u <<< "$1") <(sort -u <<< "$2") | grep . || true; }

drift_clustersim() { # MAN_DIR
    local page=$1/clustersim.1 sim=$build/clustersim cmd help doc global x
    global=$(tags "$page" OPTIONS | options)
    for x in $global; do "$sim" "$x" > /dev/null 2>&1 || drift "clustersim.1 OPTIONS: clustersim $x fails"; done
    local commands
    commands=$("$sim" --help | sed -nE 's/^  ([a-z]+) .*/\1/p' | sort -u)
    for cmd in $commands; do
        help=$("$sim" "$cmd" --help | help_options)
        doc=$(tags "$page" "clustersim $cmd" | options)
        [ -n "$doc" ] || drift "clustersim.1 has no section .SS \"clustersim $cmd\" with its options"
        for x in $(missing "$help" "$doc"$'\n'"$global"); do drift "clustersim $cmd $x: not in clustersim.1"; done
        for x in $(missing "$doc" "$("$sim" "$cmd" --help | options)"); do drift "clustersim.1 documents clustersim $cmd $x, which --help does not list"; done
    done
    for x in $(missing "$(grep -E '^\.SS "clustersim ' "$page" | sed -E 's/^\.SS "clustersim ([a-z]+).*/\1/')" "$commands"); do
        drift "clustersim.1 documents a command $x that clustersim does not have"
    done
    for x in $(missing "$("$sim" --help | help_options)" "$(tags "$page" | options)"); do
        drift "clustersim --help lists $x, not in clustersim.1"
    done
}

drift_daemon() { # MAN_DIR BINARY PAGE
    local help doc x
    help=$("$build/$2" --help | help_options)
    doc=$(tags "$1/$3" | options)
    for x in $(missing "$help" "$doc"); do drift "$2 $x: not in $3"; done
    for x in $(missing "$doc" "$("$build/$2" --help | options)"); do drift "$3 documents $2 $x, which --help does not list"; done
}

drift_clusterctl_commands() { # MAN_DIR
    local help doc x
    # the lines "  command ARGS [| command ARGS]   what it does" before options:
    help=$("$build/clusterctl" --help | sed -n '2,/^options:/p' | grep -E '^  [a-z]' | sed -E 's/   .*//; s/ [|] /\n/g' |
        awk '{ print $1 }' | sort -u)
    doc=$(tags "$1/clusterctl.1" COMMANDS | awk '{ print $1 }' | sort -u)
    for x in $(missing "$help" "$doc"); do drift "clusterctl command $x: not in clusterctl.1 COMMANDS"; done
    for x in $(missing "$doc" "$help"); do
        drift "clusterctl.1 documents a command $x that clusterctl --help does not list"
    done
}

# Scenario sections: "TITLE[,TITLE]|YAML" where YAML has an unknown key the
# loader refuses with the list of the keys it accepts there.
probes=(
    "top level|zz_probe: 1"
    "cluster|cluster: {nodes: 2, zz_probe: 1}"
    "cluster.nodes|cluster: {nodes: [{id: n1, zz_probe: 1}]}"
    "cluster.ping|cluster: {nodes: 2, ping: {zz_probe: 1}}"
    "cluster.membership|cluster: {nodes: 2, protocol: cluster, membership: {zz_probe: 1}}"
    "cluster.tracker|cluster: {nodes: 2, protocol: cluster, tracker: {zz_probe: 1}}"
    "network|cluster: {nodes: 2}\nnetwork: {zz_probe: 1}"
    "network.datagrams|cluster: {nodes: 2}\nnetwork: {datagrams: {zz_probe: 1}}"
    "distributions|cluster: {nodes: 2}\nnetwork: {latency: {dist: fixed, zz_probe: 1}}"
    "dns|cluster: {nodes: 2}\ndns: {zz_probe: 1}"
    "dns.service|cluster: {nodes: 2}\ndns: {service: {name: a, zz_probe: 1}}"
    "dns records|cluster: {nodes: 2}\ndns: {zone: [{name: a, zz_probe: 1}]}"
    "timeline,actions|cluster: {nodes: 2}\ntimeline: [{at: 0s, zz_probe: 1}]"
    "expect|cluster: {nodes: 2}\nexpect: [{zz_probe: 1}]"
    "limits|cluster: {nodes: 2}\nlimits: {zz_probe: 1}"
)
for s in static kubernetes_dns kubernetes_dns_srv dns_poll gossip; do
    probes+=("topologies|cluster: {nodes: 2, protocol: cluster, membership: {topologies: [{strategy: $s, zz_probe: 1}]}}")
done

drift_scenario() { # MAN_DIR
    local page=$1/clustersim-scenario.5 p titles yaml err accepted doc x t
    declare -A union=()
    for p in "${probes[@]}"; do
        titles=${p%%|*} yaml=${p#*|}
        printf '%b\n' "$yaml" > "$tmp/probe.yaml"
        err=$("$build/clustersim" run "$tmp/probe.yaml" 2>&1 > /dev/null) && true
        grep -q "unknown key 'zz_probe'" <<< "$err" || { drift "the probe for '$titles' was not refused as expected: $err"; continue; }
        accepted=$(sed -E 's/.*\(expected //; s/\)$//; s/one of://; s/and one action://' <<< "$err" | tr -s ', ' '\n' | grep . | sort -u)
        doc=$(IFS=,; for t in $titles; do tags "$page" "$t"; done | keys)
        for x in $(missing "$accepted" "$doc"); do drift "scenario key $x ($titles): not in clustersim-scenario.5"; done
        union[$titles]+="$accepted"$'\n'
    done
    for titles in "${!union[@]}"; do
        doc=$(IFS=,; for t in $titles; do tags "$page" "$t"; done | keys)
        for x in $(missing "$doc" "${union[$titles]}"); do
            drift "clustersim-scenario.5 documents a key $x in '$titles' that the loader refuses"
        done
    done
}

drift_all() { # MAN_DIR: fails when a page drifted ($problems says how often)
    problems=0
    drift_clustersim "$1"
    drift_daemon "$1" clusterd clusterd.8
    drift_daemon "$1" clusterctl clusterctl.1
    drift_clusterctl_commands "$1"
    drift_scenario "$1"
    return $((problems > 0))
}

drift_all "$root/man" || fail "$problems places where the man pages and the binaries disagree (above)"
echo "ok   man pages agree with the binaries: every option of clustersim's $(
    "$build/clustersim" --help | sed -nE 's/^  ([a-z]+) .*/\1/p' | sort -u | wc -l) commands, clusterd and clusterctl, clusterctl's commands, ${#probes[@]} scenario sections' keys"

# ---- self-test: the drift check fails when a page drifts --------------------

# Copies man/ and drops the .TP and the tag line that match PATTERN in PAGE.
without_tag() { # PAGE PATTERN
    rm -rf "$tmp/man" && cp -r "$root/man" "$tmp/man"
    PAT=$2 awk '{ line[NR] = $0 }
        END { for (i = 1; i <= NR; i++) {
                  if (line[i] ~ /^\.TP/ && index(line[i + 1], ENVIRON["PAT"])) { i++; continue }
                  print line[i] } }' "$root/man/$1" > "$tmp/man/$1"
    ! cmp -s "$root/man/$1" "$tmp/man/$1" || fail "self-test: no tag '$2' in man/$1"
}
expect_drift() { # WHAT NAME: the check fails, naming NAME
    if drift_all "$tmp/man" 2> "$tmp/drift.txt"; then fail "self-test: the drift check passed with $1"; fi
    grep -qF -- "$2" "$tmp/drift.txt" || fail "self-test: with $1 the drift check said: $(cat "$tmp/drift.txt")"
}
without_tag clusterd.8 '\-\-dns\-poll'
expect_drift "--dns-poll removed from clusterd.8" --dns-poll
without_tag clustersim.1 '\-\-report\-all'
expect_drift "--report-all removed from clustersim.1" --report-all
without_tag clusterctl.1 '\-\-json'
expect_drift "--json removed from clusterctl.1" --json
without_tag clustersim-scenario.5 '"break_detect: "'
expect_drift "break_detect removed from clustersim-scenario.5" break_detect
rm -rf "$tmp/man" && cp -r "$root/man" "$tmp/man"
sed -i 's/^\.SS "clustersim run"$/&\n.TP\n.B \\-\\-no\\-such\\-option\nnothing/' "$tmp/man/clustersim.1"
expect_drift "an option clustersim run does not have added to clustersim.1" --no-such-option
rm -rf "$tmp/man" && cp -r "$root/man" "$tmp/man"
sed -i 's/^\.SS limits$/&\n.TP\n.B no_such_key: 1\nnothing/' "$tmp/man/clustersim-scenario.5"
expect_drift "a limits key the loader refuses added to clustersim-scenario.5" no_such_key
echo "ok   self-test: the drift check fails when an option or a key is removed from a page, or one that does not exist is added"
