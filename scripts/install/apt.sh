#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the lab and the tests need, once (idempotent; `apt-get update`
# runs only when something is missing). Usage: scripts/install/apt.sh [lab|test]
#   lab:  redis-server, stress-ng (the stress drills), gcc and libc6-dev (the clock drills' wall-clock shim), a PostgreSQL server of whichever major version the distribution ships
#         (Debian 12: 15, Ubuntu 24.04: 16; none is installed when one already is), util-linux, procps
#   test: lab + prometheus, chromium, docker.io, docker-compose (the example workflow's `docker compose`), stress-ng,
#         iproute2, iptables, nftables
set -euo pipefail
profile=${1:-test}
case "$profile" in lab|test) ;; *) echo "apt: unknown profile '$profile' (lab or test)" >&2; exit 2 ;; esac
packages=(redis-server util-linux procps stress-ng gcc libc6-dev)
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
# Ubuntu's package starts redis-server on 6379 (and postgresql on 5432): the lab's default ports. A service
# this script just installed is stopped and disabled (the lab runs its own); one that was there before is
# left alone, and `lab up` names the port that is taken.
for unit in redis-server postgresql; do
  if [[ " ${missing[*]} " == *" $unit "* ]] && command -v systemctl >/dev/null 2>&1 \
      && systemctl is-active --quiet "$unit" 2>/dev/null; then
    systemctl disable --now "$unit" >/dev/null 2>&1 && echo "apt: stopped the $unit service the package started"
  fi
done
echo "apt: done"
