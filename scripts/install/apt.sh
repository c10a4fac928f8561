#!/usr/bin/env bash
# Install the Debian packages the lab and the tests need, once (idempotent; apt-get update only
# when something is missing). Usage: scripts/install/apt.sh [lab|test]
#   lab:  redis-server, postgresql-15 (server binaries), util-linux (setsid)
#   test: lab + prometheus, chromium, docker.io, stress-ng, iproute2
set -euo pipefail
profile=${1:-test}
packages=(redis-server postgresql-15 util-linux procps)
if [ "$profile" = test ]; then
  packages+=(prometheus chromium docker.io stress-ng iproute2)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "apt: all of ${packages[*]} already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "apt: missing ${missing[*]}; run as root or install them yourself" >&2
  exit 1
fi
echo "apt: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian starts no services in this environment; if a distro unit started one, the lab uses its own.
echo "apt: done"
