"""A signal that lands while the crash drill kills the trader: Chaos Toolkit interrupts the action and plays the
rollbacks at once, and ``end_crash`` must wait until the killed pid is gone (until then the trader still answers
and a start finds it running) and start it again (CI caught a trader left dead by a SIGINT there). The seams faked: the proxy's hit count, the kill itself (it
raises the interrupt), and the restore the ledger would run."""
from __future__ import annotations

from typing import Any, List

import pytest

from chaosaitrapp.crash import actions


class _Target:
    """A trader whose kill is interrupted after its SIGKILL left (as a KeyboardInterrupt lands in a wait)."""

    driver = "the driver"

    def __init__(self) -> None:
        self.kills, self.awaited = 0, []

    def describe(self) -> str:
        return "process:/run/trader.pid"

    def kill(self, noted=None) -> int:
        self.kills += 1
        noted(4242)
        raise KeyboardInterrupt

    def wait_gone(self, pid: int, timeout: float) -> None:
        self.awaited.append(pid)


def test_a_rollback_after_an_interrupted_kill_starts_the_trader_again(monkeypatch):
    target = _Target()
    restored: List[Any] = []
    monkeypatch.setattr(actions, "_ARMED", [actions.Armed("queue_full", target, "fault-1", 0.0)])
    monkeypatch.setattr(actions.ProxyClient, "from_configuration", classmethod(lambda cls, configuration: object()))
    monkeypatch.setattr(actions, "_hits", lambda client, fault_id: 1)
    monkeypatch.setattr(actions, "restore_faults", lambda name, driver, timeout: restored.append(name) or 1)
    monkeypatch.setattr(actions, "clear_broker_faults", lambda *args, **kwargs: {"cleared": 0})
    monkeypatch.setattr(actions, "target_lock_reader", lambda configuration, secrets: None)
    with pytest.raises(KeyboardInterrupt):
        actions.crash_trader(timeout=1)
    assert target.kills == 1
    ended = actions.end_crash(timeout=1)
    assert ended["started"] == ["process:/run/trader.pid"] and restored == ["process:/run/trader.pid"]
    assert target.awaited == [4242], "the restart did not wait for the killed pid to be gone"


def test_a_rollback_before_the_kill_leaves_the_trader_as_it_runs(monkeypatch):
    target = _Target()
    restored: List[Any] = []
    monkeypatch.setattr(actions, "_ARMED", [actions.Armed("queue_full", target, "fault-1", 0.0)])
    monkeypatch.setattr(actions, "restore_faults", lambda name, driver, timeout: restored.append(name) or 1)
    monkeypatch.setattr(actions, "clear_broker_faults", lambda *args, **kwargs: {"cleared": 0})
    ended = actions.end_crash(timeout=1)
    assert ended["started"] == [] and restored == ["process:/run/trader.pid"] and target.kills == 0
    assert target.awaited == []
