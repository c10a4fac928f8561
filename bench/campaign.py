"""Benchmark: a long campaign against a fresh fast lab, and what it costs the drill's own process.

    .venv/bin/python bench/campaign.py [--minutes 10] [--rate 10] [--seed 7]

Brings a lab up in a temporary directory, runs ``aitrapp-chaos campaign --seed S --minutes M --rate R --no-shrink``
over every campaign family (the lab's trader under the clock shim, so the clock family is drawn too), and every 5 s
reads the resident memory of the ``chaos run`` process (the sampler and the order flow live there). Prints the verdict, the faults, the orders accepted, the sampler's rate (samples per
second over the timeline, and the largest gap) and the memory at the start, the peak and the end, with its
growth over the second half; asserts nothing. The goals (issue 23): the sampler at >= 10 Hz throughout, its
process under 200 MB with flat growth.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from chaosaitrapp.lab.runtime import lab_down  # noqa: E402
from chaosaitrapp.testing.lab import make_lab_dir, start_lab  # noqa: E402

BIN = Path(sys.executable).parent


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def chaos_child(parent: int) -> int:
    """The ``chaos`` process under the campaign command (0 until it exists)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"chaos" in (entry / "cmdline").read_bytes():
                    return int(entry.name)
            except (OSError, ValueError, IndexError):
                continue
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-campaign-"))
    directory = make_lab_dir("bench-campaign-lab-")
    state = start_lab(directory, profile="fast", fake_clock=True)
    env = {**os.environ, "AITRAPP_LAB_DIR": str(directory), "API": state.api, "AITRAPP_REPORTS_DIR": str(work / "r"),
           "AITRAPP_CHAOS_STATE": str(work / "state"), "WAIT_READY_TIMEOUT": "15", "DETECT_TIMEOUT": "8",
           "CLOCK_FILE": state.services["trader"].env["AITRAPP_WALL_CLOCK_FILE"]}
    folder = work / "campaign"
    try:
        proc = subprocess.Popen([str(BIN / "aitrapp-chaos"), "campaign", "--seed", str(args.seed), "--minutes",
                                 str(args.minutes), "--rate", str(args.rate), "--no-shrink", "--out", str(folder)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        memory = []
        began = time.monotonic()
        while proc.poll() is None:
            child = chaos_child(proc.pid)
            if child:
                memory.append((round(time.monotonic() - began, 1), round(rss_mb(child), 1)))
            time.sleep(5)
        summary = json.loads((folder / "campaign.json").read_text())
        timeline = next(folder.glob("campaign_*.timeline.jsonl"))
        times = [json.loads(line)["t"] for line in timeline.open() if '"kind":"sample"' in line.replace(" ", "")]
        span = times[-1] - times[0]
        half = [m for t, m in memory if t >= memory[-1][0] / 2] if memory else []
        schedule = json.loads((folder / "campaign.schedule.json").read_text())
        journal = json.loads((folder / "campaign_journal.json").read_text())
        checks = next(e for e in journal["extensions"] if e.get("name") == "chaosaitrapp")["checks"]
        print(json.dumps({
            "verdict": summary["verdict"], "failed": summary["failed"], "faults": len(schedule["faults"]),
            "not_passed": {c["name"]: c["reason"][:300] for c in checks if c["status"] != "pass"},
            "rss_mb_each_minute": [m for t, m in memory if int(t) % 60 < 5],
            "families": sorted({f["kind"] for f in schedule["faults"]}),
            "samples_per_s": round(len(times) / span, 2) if span else None,
            "largest_sample_gap_s": round(max(b - a for a, b in zip(times, times[1:])), 3),
            "rss_mb_first": memory[0][1] if memory else None, "rss_mb_peak": max(m for _, m in memory) if memory else None,
            "rss_mb_last": memory[-1][1] if memory else None,
            "rss_growth_second_half_mb": round(half[-1] - half[0], 1) if len(half) > 1 else None,
            "wall_s": round(time.monotonic() - began, 1), "evidence": str(folder)}, indent=2))
    finally:
        lab_down(directory)


if __name__ == "__main__":
    main()
