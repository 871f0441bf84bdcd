#!/usr/bin/env bash
# scripts/deps.sh: installs the Debian packages the build and tests need,
# only those that are missing (apt-get update runs once, only if needed).
# Usage: scripts/deps.sh [extra-package...]
set -euo pipefail
need=(gcc make pkg-config curl procps python3-yaml man-db libyaml-dev libcmocka-dev libxxhash-dev libjansson-dev libsodium-dev libc-ares-dev libmicrohttpd-dev libmimalloc-dev dnsmasq-base nftables iproute2 python3 yamllint gnuplot-nox groff-base "$@")
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo > /dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "deps: installing them needs root, and this machine has no sudo; run as root:" >&2
    echo "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "deps: then run the same make command again" >&2
    exit 1
  fi
fi
echo "deps: installing ${#missing[@]} Debian packages (a minute or two on a fresh machine): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# one line per package as it is set up, not apt's whole log
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1 \
  | sed -un -E 's/^(Setting up|E:)/deps:   \1/p'
echo "deps: done"
