#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the lab and the tests need, once (idempotent; `apt-get update`
# runs only when something is missing). Usage: scripts/install/apt.sh [lab|test]
#   lab:  redis-server, stress-ng (the stress drills), a PostgreSQL server of whichever major version the distribution ships
#         (Debian 12: 15, Ubuntu 24.04: 16; none is installed when one already is), util-linux, procps
#   test: lab + prometheus, chromium, docker.io, docker-compose (the example workflow's `docker compose`), stress-ng,
#         iproute2, iptables, nftables
set -euo pipefail
profile=${1:-test}
case "$profile" in lab|test) ;; *) echo "apt: unknown profile '$profile' (lab or test)" >&2; exit 2 ;; esac
packages=(redis-server util-linux procps stress-ng)
if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
  packages+=(postgresql)  # the distribution's own major version
fi
if [ "$profile" = test ]; then
  packages+=(prometheus chromium docker.io docker-compose stress-ng iproute2 iptables nftables)
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
