"""Benchmark: the leader-lock drill (`chaos run experiments/leader_lock.json`) against the seed-style shell
drill (bench/seed_style_leader_lock.sh: curl, a poll every second), on the same target, whose every answer
takes ``--latency`` (45 ms) more: a fast lab's trader behind a delaying HTTP proxy, its Redis a process
(``process:PIDFILE``, as a real deployment's; the drill is not told it is the lab's).

    .venv/bin/python bench/drill_speed.py [--rounds 3] [--latency 0.045] [--warm]

``--warm``: the drills share one state directory that an untimed drill filled first, so each finds the
target's lock timing learned (cached for a day: a team's second run of the day); without it every drill
learns it from the lock key (about half a refresh period, 0.25 s on the fast lab, overlapping the pre-flight
and the steady state).

Prints per round the wall time of each, the drill's "target" time (the target's own detection plus
recovery, from the timeline: fault to the first sample of the /ready 200 that stayed) and "beyond" (wall
minus target), the drill's phases (median), then the medians and the ratio drill / shell. Asserts nothing. Goals (issue 20): ratio
<= 0.4, beyond <= 1 s.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from drill_timings import phases_of  # noqa: E402
from drills.kit import CHAOS, drill_env, settle, start_lab  # noqa: E402


class DelayingProxy:
    """A keep-alive HTTP proxy on loopback that holds every answer of ``upstream`` back by ``delay`` s."""

    def __init__(self, upstream: str, delay: float) -> None:
        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                time.sleep(delay)  # the target's latency: what this benchmark sets
                try:
                    answer = session.request(self.command, upstream + self.path, data=body, headers=headers,
                                             timeout=30)
                    status, raw, kind = answer.status_code, answer.content, answer.headers.get("Content-Type", "")
                except requests.RequestException:
                    status, raw, kind = 502, b"{}", "application/json"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_DELETE = _forward  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def redis_commands(pidfile: str, argv: list, cwd: str, work: Path) -> dict:
    """Shell commands that stop the Redis of ``pidfile`` (and wait for it to exit) and start it again as it
    ran (detached, writing the pidfile), for the shell drill's REDIS_STOP / REDIS_START."""
    stop = work / "stop-redis.sh"
    stop.write_text(f'pid=$(cat {shlex.quote(pidfile)}); kill "$pid"\n'
                    f'while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done\n')
    start = work / "start-redis.sh"
    launch = (f"from pathlib import Path; from chaosaitrapp.targets.process import launch_detached; "
              f"launch_detached({argv!r}, Path({pidfile!r}), cwd={cwd!r})")
    start.write_text(f"cd {shlex.quote(str(ROOT))} && {shlex.quote(sys.executable)} -c {shlex.quote(launch)}\n")
    return {"REDIS_STOP": f"bash {stop}", "REDIS_START": f"bash {start}"}


def run_shell(env: dict) -> dict:
    began = time.time()
    proc = subprocess.run(["bash", str(ROOT / "bench" / "seed_style_leader_lock.sh")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
    return {"wall": time.time() - began, "verdict": proc.stdout.strip().splitlines()[-1] if proc.stdout else "?"}


def run_chaos(env: dict) -> dict:
    reports = Path(env["AITRAPP_REPORTS_DIR"])
    reports.mkdir(parents=True, exist_ok=True)
    began = time.time()
    proc = subprocess.run([CHAOS, "--no-version-check", "run", "--journal-path", str(reports / "leader_lock_journal.json"),
                           str(ROOT / "experiments" / "leader_lock.json")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL)
    ended = time.time()
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
    row = phases_of(began, ended, reports)
    journal = json.loads((reports / "leader_lock_journal.json").read_text())
    row["activities"] = {r["activity"]["name"]: _seconds(r["end"]) - _seconds(r["start"])
                         for r in journal["run"] + journal["rollbacks"]}
    return row


def _seconds(stamp: str) -> float:
    """A journal's timestamp (ISO, UTC) in seconds since the epoch."""
    return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.045)
    parser.add_argument("--warm", action="store_true", help="the lock timing learned by an untimed drill first")
    args = parser.parse_args()
    # as `make venv` leaves the package: byte-compiled (with PYTHONDONTWRITEBYTECODE set, every drill would
    # compile its ~70 modules again, about 0.09 s)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "chaosaitrapp")], check=True)
    lab = start_lab(profile="fast")
    proxy = DelayingProxy(lab.api, args.latency)
    redis = lab.state.services["redis"]
    shared = Path(tempfile.mkdtemp(prefix="bench-speed-state-")) if args.warm else None
    rows = []
    try:
        for round_ in range(-1 if args.warm else 0, args.rounds):
            for kind in ("chaos", "shell") if round_ >= 0 else ("chaos",):
                settle(lab)
                work = Path(tempfile.mkdtemp(prefix="bench-speed-"))
                env = drill_env(None, work, {"NONINTERACTIVE": "1", "API": proxy.url, "DETECT_TIMEOUT": "30",
                                             "WAIT_READY_TIMEOUT": "90", "REDIS_TARGET": f"process:{redis.pidfile}",
                                             "REDIS_URL": lab.state.redis_url,
                                             "AITRAPP_LAB_DIR": str(work / "no-lab-here")})
                env.pop("REDIS_CONTAINER", None)
                if shared is not None:
                    env["AITRAPP_CHAOS_STATE"] = str(shared)
                if kind == "chaos":
                    row = run_chaos(env)
                else:
                    env.update(redis_commands(redis.pidfile, list(redis.argv or []), redis.cwd or str(ROOT), work))
                    row = run_shell(env)
                row.update(kind=kind, round=round_)
                if round_ >= 0:
                    rows.append(row)
                shutil.rmtree(work, ignore_errors=True)
    finally:
        proxy.close()
        lab.down()
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)
    fmt = lambda v: f"{v:7.2f}" if isinstance(v, float) else f"{'-':>7}"  # noqa: E731
    print(f"{'round':>5} {'kind':6} {'verdict':8} {'wall':>7} {'target':>7} {'beyond':>7}")
    for row in rows:
        print(f"{row['round']:5d} {row['kind']:6} {row['verdict']:8} {row['wall']:7.2f} {fmt(row.get('target'))} "
              f"{fmt(row.get('beyond'))}")
    phases = ("startup", "controls", "steady_before", "method", "steady_after", "rollbacks", "evidence_exit")
    print("\nthe drill's phases (median s): " + ", ".join(
        f"{name} {statistics.median(r[name] for r in rows if r['kind'] == 'chaos'):.2f}" for name in phases))
    names = next(r["activities"] for r in rows if r["kind"] == "chaos")
    print("each activity (median s): " + ", ".join(
        f"{name} {statistics.median(r['activities'][name] for r in rows if r['kind'] == 'chaos'):.3f}"
        for name in names))
    chaos = [r["wall"] for r in rows if r["kind"] == "chaos"]
    shell = [r["wall"] for r in rows if r["kind"] == "shell"]
    beyond = [r["beyond"] for r in rows if r["kind"] == "chaos" and r.get("beyond") is not None]
    print(f"\nlatency {args.latency * 1000:.0f} ms per answer, {args.rounds} rounds, lock timing "
          f"{'cached' if args.warm else 'learned each time'}: drill median "
          f"{statistics.median(chaos):.2f} s, shell median {statistics.median(shell):.2f} s, ratio "
          f"{statistics.median(chaos) / statistics.median(shell):.2f}; beyond the target's own detect + recover: "
          f"median {statistics.median(beyond):.2f} s, max {max(beyond):.2f} s")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    sys.exit(main())
