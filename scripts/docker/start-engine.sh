#!/bin/sh
# Start a Docker engine for chaosaitrapp, unless one already answers.
#
# Usage: scripts/docker/start-engine.sh [LOGFILE]
#
#   LOGFILE   where dockerd's output goes (default $CHAOSAITRAPP_DOCKERD_LOG or
#             /var/log/chaosaitrapp-dockerd.log); the pidfile is $CHAOSAITRAPP_DOCKERD_PIDFILE
#             (default /run/chaosaitrapp-dockerd.pid).
#   DOCKERD_WAIT  seconds to wait for `docker info` to answer (default 60).
#   DOCKERD   the dockerd binary (default: dockerd on PATH, else /usr/sbin/dockerd).
#
# Idempotent: when `docker info` already works, that engine is left alone and the script exits 0.
# Otherwise dockerd is started in the background as `dockerd --bridge=none --iptables=false`
# (no bridge, no iptables rules: every container must use host networking), and the script
# polls `docker info` until it answers or the deadline passes, then prints the time it took.
# On failure it prints the tail of the log and exits 1. It never installs anything: install
# docker.io (Debian) first.
set -u

LOG="${1:-${CHAOSAITRAPP_DOCKERD_LOG:-/var/log/chaosaitrapp-dockerd.log}}"
PIDFILE="${CHAOSAITRAPP_DOCKERD_PIDFILE:-/run/chaosaitrapp-dockerd.pid}"
WAIT="${DOCKERD_WAIT:-60}"

now() { date +%s.%N; }
# alive PID: the process exists and is not a zombie (`kill -0` also succeeds on a zombie, which is
# what a SIGKILLed dockerd stays when nobody reaps it, and dockerd then refuses its pidfile).
alive() {
    [ -n "$1" ] || return 1
    state="$(sed -E 's/.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
# drop_stale FILE: remove a pidfile whose process is gone (or a zombie).
drop_stale() {
    if [ -s "$1" ] && ! alive "$(cat "$1")"; then
        rm -f "$1"
    fi
}
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

if ! command -v docker >/dev/null 2>&1; then
    echo "start-engine: the docker client is not installed (apt-get install docker.io)" >&2
    exit 1
fi

if docker info >/dev/null 2>&1; then
    echo "start-engine: a Docker engine already answers; leaving it alone"
    exit 0
fi

if [ -z "${DOCKERD:-}" ]; then
    DOCKERD="$(command -v dockerd 2>/dev/null || true)"
    [ -z "$DOCKERD" ] && [ -x /usr/sbin/dockerd ] && DOCKERD=/usr/sbin/dockerd
fi
if [ -z "$DOCKERD" ] || [ ! -x "$DOCKERD" ]; then
    echo "start-engine: dockerd is not installed${DOCKERD:+ at $DOCKERD} (apt-get install docker.io), cannot start an engine" >&2
    exit 1
fi

# A pidfile of ours naming a live dockerd: it is still starting, do not start a second one.
if [ -s "$PIDFILE" ] && alive "$(cat "$PIDFILE")" \
   && grep -q dockerd "/proc/$(cat "$PIDFILE")/cmdline" 2>/dev/null; then
    echo "start-engine: dockerd (pid $(cat "$PIDFILE")) already started by us; waiting for it"
    PID="$(cat "$PIDFILE")"
else
    mkdir -p "$(dirname "$LOG")" "$(dirname "$PIDFILE")"
    # dockerd (and its containerd) write their own pidfiles; a stale one blocks the start.
    drop_stale /var/run/docker.pid
    drop_stale /var/run/docker/containerd/containerd.pid
    # Its own session: the engine outlives this script and whatever runs it (CI step, pytest
    # under `timeout`, a terminal), and no signal to their process group reaches it.
    nohup setsid "$DOCKERD" --bridge=none --iptables=false --ip6tables=false \
        >>"$LOG" 2>&1 </dev/null &
    PID=$!
    echo "$PID" >"$PIDFILE"
    echo "start-engine: started dockerd (pid $PID), log $LOG"
fi

T0="$(now)"
DEADLINE=$(( $(date +%s) + WAIT ))
while :; do
    if docker info >/dev/null 2>&1; then
        # dockerd's own pidfile has the authoritative pid (setsid may have forked).
        if [ -s /var/run/docker.pid ] && alive "$(cat /var/run/docker.pid)"; then
            echo "$(cat /var/run/docker.pid)" >"$PIDFILE"
        fi
        echo "start-engine: engine answers after $(elapsed "$T0") s"
        exit 0
    fi
    if ! alive "$PID" && [ -s /var/run/docker.pid ] && alive "$(cat /var/run/docker.pid)"; then
        PID="$(cat /var/run/docker.pid)"
    fi
    if ! alive "$PID"; then
        echo "start-engine: dockerd (pid $PID) exited before answering; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        exit 1
    fi
    if [ "$(date +%s)" -ge "$DEADLINE" ]; then
        echo "start-engine: dockerd (pid $PID) did not answer \`docker info\` within ${WAIT}s; last lines of $LOG:" >&2
        tail -n 30 "$LOG" >&2
        exit 1
    fi
    sleep 0.1  # poll interval (DEADLINE above)
done
