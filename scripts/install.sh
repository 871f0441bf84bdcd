#!/usr/bin/env bash
# scripts/install.sh: installs clustersim (what `make install` runs), or
# removes what it installed.
#
#   scripts/install.sh BIN_DIR PREFIX          install, from BIN_DIR's binaries
#   scripts/install.sh --uninstall PREFIX      remove what the install put there
#   scripts/install.sh --list BIN_DIR          print "MODE SOURCE TARGET" per file
#
# DESTDIR (from the environment, default empty) is put before every target
# path, for staged installs and packaging; PREFIX (absolute) is what the
# installed man pages name.  Under DESTDIR/PREFIX:
#   bin/clustersim, bin/clusterd, bin/clusterctl      (0755; clusterd stays in
#       bin/ although its page is in section 8: the image of deploy/ runs it
#       from /usr/local/bin, and users, not only root, run it)
#   share/man/man1, man5, man8: man/*.1, *.5, *.8     (@VERSION@ and @PREFIX@ filled in)
#   share/clustersim/scenarios/: scenarios/ without scenarios/invalid/ (the
#       deliberately broken inputs of scripts/check-invalid.sh)
#   share/clustersim/deploy/: deploy/ as a whole, whatever it holds at the
#       time (an executable keeps 0755)
#   share/doc/clustersim/: README.md, CHANGELOG.md, LICENSE, and docs/*.md in docs/
#   share/clustersim/install-manifest: every file installed, which
#       --uninstall removes (and then the directories of clustersim's own
#       that are left empty; bin/ and share/man/ stay)
set -euo pipefail
umask 022
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MANIFEST=share/clustersim/install-manifest

die() { echo "install.sh: $*" >&2; exit 2; }

usage() {
    die "usage: install.sh BIN_DIR PREFIX | install.sh --uninstall PREFIX | install.sh --list BIN_DIR"
}

# The version the binaries print (config/version.h).
version() {
    sed -n 's/^#define CS_VERSION "\(.*\)"$/\1/p' "$root/config/version.h"
}

# Prints "MODE SOURCE TARGET" for every file to install; TARGET is
# relative to the prefix, SOURCE absolute (BIN_DIR's binaries as given).
list_files() {
    local bin=$1 f rel
    for f in clustersim clusterd clusterctl; do
        echo "0755 $bin/$f bin/$f"
    done
    for f in "$root"/man/*.[158]; do
        echo "0644 $f share/man/man${f##*.}/$(basename "$f")"
    done
    (cd "$root" && find scenarios -path scenarios/invalid -prune -o -type f \( -name '*.yaml' -o -name README.md \) \
        -print | LC_ALL=C sort) | while IFS= read -r rel; do
        echo "0644 $root/$rel share/clustersim/$rel"
    done
    (cd "$root" && find deploy -type f | LC_ALL=C sort) | while IFS= read -r rel; do
        if [ -x "$root/$rel" ]; then echo "0755 $root/$rel share/clustersim/$rel"
        else echo "0644 $root/$rel share/clustersim/$rel"; fi
    done
    for f in "$root"/README.md "$root"/CHANGELOG.md "$root"/LICENSE; do
        echo "0644 $f share/doc/clustersim/$(basename "$f")"
    done
    for f in "$root"/docs/*.md; do # docs/README.md is the index, not the README
        echo "0644 $f share/doc/clustersim/docs/$(basename "$f")"
    done
}

# A man page with its placeholders filled in, installed with `install`.
install_man() { # SOURCE TARGET PREFIX
    local text tmp
    text=$(< "$1")
    text=${text//@VERSION@/$(version)}
    text=${text//@PREFIX@/$3}
    tmp=$(mktemp)
    printf '%s\n' "$text" > "$tmp"
    install -m 0644 "$tmp" "$2"
    rm -f "$tmp"
}

do_install() { # BIN_DIR PREFIX
    local bin=$1 prefix=$2 dest="${DESTDIR:-}$2" mode src rel f count=0
    for f in clustersim clusterd clusterctl; do
        [ -x "$bin/$f" ] || die "$bin/$f is missing or not executable (build it first: make)"
    done
    install -d -m 0755 "$dest/share/clustersim"
    : > "$dest/$MANIFEST.new"
    while read -r mode src rel; do
        install -d -m 0755 "$(dirname "$dest/$rel")"
        case $rel in
            share/man/*) install_man "$src" "$dest/$rel" "$prefix" ;;
            *) install -m "$mode" "$src" "$dest/$rel" ;;
        esac
        echo "$rel" >> "$dest/$MANIFEST.new"
        count=$((count + 1))
    done < <(list_files "$bin")
    echo "$MANIFEST" >> "$dest/$MANIFEST.new"
    chmod 0644 "$dest/$MANIFEST.new"
    mv -f "$dest/$MANIFEST.new" "$dest/$MANIFEST"
    echo "installed $count files under $dest (binaries in $dest/bin; list: $dest/$MANIFEST)"
}

do_uninstall() { # PREFIX
    local dest="${DESTDIR:-}$1" rel count=0 dir
    local -a files
    if [ -f "$dest/$MANIFEST" ]; then
        mapfile -t files < "$dest/$MANIFEST"
    else
        echo "install.sh: no $dest/$MANIFEST: removing what this tree would install" >&2
        mapfile -t files < <(list_files /nonexistent | awk '{print $3}'; echo "$MANIFEST")
    fi
    for rel in "${files[@]}"; do
        case $rel in
            ''|/*|..|../*|*/..|*/../*) die "refusing the manifest entry '$rel'" ;;
        esac
        if [ -e "$dest/$rel" ] || [ -L "$dest/$rel" ]; then
            rm -f "$dest/$rel"
            count=$((count + 1))
        fi
    done
    for dir in share/clustersim share/doc/clustersim; do
        [ -d "$dest/$dir" ] && find "$dest/$dir" -depth -type d -empty -delete
    done
    echo "removed $count files from $dest"
}

check_prefix() {
    case $1 in
        /*) ;;
        *) die "PREFIX must be an absolute path, got '$1'" ;;
    esac
}

case ${1:-} in
    --uninstall) [ $# -eq 2 ] || usage; check_prefix "$2"; do_uninstall "$2" ;;
    --list) [ $# -eq 2 ] || usage; list_files "$2" ;;
    -*|'') usage ;;
    *) [ $# -eq 2 ] || usage; check_prefix "$2"; do_install "$1" "$2" ;;
esac
