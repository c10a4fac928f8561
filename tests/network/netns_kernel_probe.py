"""Run by test_kernel_partition.py inside a network namespace the test made (``unshare --net``, loopback
up): real nftables rules through chaosaitrapp.network.kernel, against a real redis-server in the
namespace. Argv: MODE WORKDIR. Prints one JSON line with what it saw.

Modes:
- ``rules``: blackhole (both, to, from), reject, removal, the refusal to touch a table not ours;
- ``watchdog``: a process registers a kernel partition through the action (ledger + watchdog) and is
  SIGKILLed; the watchdog must delete the table within the lease;
- ``drill``: a lab in the namespace, the Redis partition drill with PARTITION_MECHANISM=kernel.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from chaosaitrapp.network import kernel
from chaosaitrapp.testing.lab import free_port
from chaosaitrapp.testing.waits import wait_for

MODE, WORK = sys.argv[1], Path(sys.argv[2])


def connect_result(port: int, timeout: float = 0.6) -> str:
    """``ok``, ``refused`` (reset) or ``hang`` (timed out) for a TCP connect + PING to 127.0.0.1:port."""
    sock = socket.socket()
    sock.settimeout(timeout)
    try:
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"PING\r\n")
        return "ok" if sock.recv(16).startswith(b"+PONG") else "garbled"
    except ConnectionRefusedError:
        return "refused"
    except ConnectionResetError:
        return "reset"
    except socket.timeout:
        return "hang"
    finally:
        sock.close()


def redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: connect_result(port) == "ok", 10, "redis in the namespace")
    return proc


def rules() -> dict:
    port = free_port()
    server = redis(port)
    seen = {"isolated": not kernel.in_initial_netns(), "before": connect_result(port)}
    try:
        for direction in ("both", "to_dependency", "from_dependency"):
            name = kernel.add(f"bh-{direction}", "blackhole", port, direction)
            seen[f"blackhole_{direction}"] = connect_result(port)
            seen[f"tables_{direction}"] = kernel.tables()
            kernel.remove(name)
        began = time.monotonic()
        name = kernel.add("rj", "reject", port)
        seen["reject"] = connect_result(port)
        seen["reject_s"] = round(time.monotonic() - began, 3)
        seen["removed"] = kernel.remove(name)
        seen["removed_again"] = kernel.remove(name)
        seen["after"] = connect_result(port)
        seen["tables_after"] = kernel.tables()
        try:
            kernel.remove("filter")
        except Exception as exc:  # refused: not ours
            seen["foreign_refused"] = str(exc)
    finally:
        server.kill()
    return seen


def watchdog() -> dict:
    port = free_port()
    server = redis(port)
    env = {**os.environ, "AITRAPP_CHAOS_STATE": str(WORK / "state"), "AITRAPP_FAULT_LEASE": "8"}
    code = ("import sys, time\nfrom chaosaitrapp.network.actions import partition\n"
            f"print(partition('redis', 'blackhole', mechanism='kernel', port={port}, duration=60)['target'], flush=True)\n"
            "time.sleep(120)\n")
    try:
        injector = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        target = injector.stdout.readline().strip()
        cut = connect_result(port)
        tables_during = kernel.tables()
        injector.send_signal(signal.SIGKILL)
        injector.wait(10)
        killed = time.monotonic()
        held = wait_for(lambda: kernel.tables() == [], 20, "the watchdog to delete the table")
        log = WORK / "state" / "watchdog.log"
        # the table goes first, the watchdog's line saying so right after: wait for the line too
        wait_for(lambda: log.exists() and (": undone:" in log.read_text() or ": gone:" in log.read_text()), 10,
                 "the watchdog to log its undo")
        return {"target": target, "cut": cut, "tables_during": tables_during, "undone_s": round(time.monotonic() - killed, 3),
                "held": bool(held), "after": connect_result(port),
                "watchdog_log": (WORK / "state" / "watchdog.log").read_text()[-2000:]}
    finally:
        server.kill()


def drill() -> dict:
    from chaosaitrapp.testing.lab import make_lab_dir, start_lab

    lab_dir = make_lab_dir("aitrapp-netns-lab-")
    state = start_lab(lab_dir, profile="fast")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AITRAPP_", "API"))},
           "API": state.api, "AITRAPP_LAB_DIR": str(lab_dir), "AITRAPP_CHAOS_STATE": str(WORK / "state"),
           "AITRAPP_REPORTS_DIR": str(WORK / "reports"), "PARTITION_MECHANISM": "kernel",
           "DETECT_TIMEOUT": "8", "WAIT_READY_TIMEOUT": "10"}
    root = Path(__file__).resolve().parents[2]
    try:
        run = subprocess.run([str(Path(sys.executable).with_name("chaos")), "--no-version-check", "run",
                              "--journal-path", str(WORK / "journal.json"),
                              str(root / "experiments" / "network_partition_redis.json")],
                             env=env, capture_output=True, text=True, timeout=240, cwd=root)
        journal = json.loads((WORK / "journal.json").read_text())
        ext = next(e for e in journal["extensions"] if e["name"] == "chaosaitrapp")
        injected = next(r for r in journal["run"] if r["activity"]["name"] == "partition-redis")
        return {"code": run.returncode, "verdict": ext["verdict"], "reasons": ext["reasons"],
                "mechanism": (injected.get("output") or {}).get("mechanism"),
                "checks": {c["name"]: c["status"] for c in ext["checks"]}, "tables_after": kernel.tables(),
                "tail": (run.stdout + run.stderr)[-1500:]}
    finally:
        from chaosaitrapp.lab.runtime import lab_down

        lab_down(lab_dir)
        shutil.rmtree(lab_dir, ignore_errors=True)


print(json.dumps({"rules": rules, "watchdog": watchdog, "drill": drill}[MODE]()))
