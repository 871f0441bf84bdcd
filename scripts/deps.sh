#!/usr/bin/env bash
# scripts/deps.sh: installs the Debian packages the build and tests need,
# only those that are missing (apt-get update runs once, only if needed).
# Usage: scripts/deps.sh [extra-package...]
set -euo pipefail
need=(gcc make pkg-config libyaml-dev libcmocka-dev libxxhash-dev libjansson-dev libsodium-dev libc-ares-dev libmicrohttpd-dev libmimalloc-dev dnsmasq-base nftables iproute2 python3 gnuplot-nox "$@")
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
