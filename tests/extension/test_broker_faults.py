"""The broker fault table as data: validation names what is wrong, leases expire on their own, a stall
of closed sockets no longer bites; the ticker frame parser; and the actions refuse bad input before
anything reaches the ledger or a proxy."""
from __future__ import annotations

import pytest

from chaosaitrapp.broker.proxy.faults import FaultError, FaultTable, validate
from chaosaitrapp.broker.proxy.state import packet_tokens
from chaosaitrapp.errors import ConfigError, TargetError
from chaosaitrapp.testing.lab import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("kind,params,lease,needle", [
    ("cut_cable", {}, 10, "unknown broker fault 'cut_cable'"),
    ("latency", {"delay_ms": -5}, 10, "delay_ms must be between"),
    ("latency", {"delay": 5}, 10, "unknown parameter(s) ['delay']"),
    ("ws_close", {"code": 4000}, 10, "code must be one of 1000, 1006, 1011"),
    ("ws_stall", {"scope": "some"}, 10, "scope must be one of existing, all"),
    ("partition", {"direction": "sideways"}, 10, "direction must be one of both, requests, replies"),
    ("drop_reply", {"count": 0}, 10, "count must be at least 1"),
    ("rate_limit", {"retry_after": "soon"}, 10, "retry_after must be float"),
    ("token_invalidated", {}, -1, "lease_s must be above 0"),
    ("token_invalidated", {}, 7200, "at most 3600"),
    ("token_invalidated", {}, "long", "lease_s must be a number"),
])
def test_bad_faults_are_refused_naming_what_is_wrong(kind, params, lease, needle):
    with pytest.raises(FaultError) as refused:
        validate(kind, params, lease)
    assert needle in str(refused.value)


def test_defaults_are_filled_in():
    assert validate("drop_reply", None, 5) == {"hold_s": 10.0, "count": 1}
    assert validate("server_error", {"status": 502}, 5) == {"status": 502, "path": "/orders"}
    assert validate("ws_close", {}, 0) == {"code": 1006}  # instant kinds take no lease


def test_held_faults_expire_at_their_lease_and_instant_ones_are_not_kept():
    clock = Clock()
    table = FaultTable(clock=clock)
    held = table.add("rate_limit", {}, 5, fault_id="f-1")
    assert held.id == "f-1" and [f.id for f in table.active()] == ["f-1"]
    assert table.add("ws_close", {"code": 1011}, 1).kind == "ws_close" and len(table.active()) == 1
    clock.now += 5
    assert table.active() == [] and table.expired_total == 1
    with pytest.raises(FaultError):
        table.add("rate_limit", {}, 5, fault_id="has spaces")


def test_a_stall_of_closed_sockets_no_longer_bites():
    table = FaultTable(clock=Clock())
    stall = table.add("ws_stall", {"scope": "existing"}, 60, sockets=[3, 4])
    everything = table.add("ws_stall", {"scope": "all"}, 60)
    assert stall.biting({4, 9}) and not stall.biting({9})
    assert everything.biting(set())
    token = table.add("token_invalidated", {}, 60, old_tokens=["tok-s3cr3t"])
    assert token.describe({1})["biting"] is True and "tok-s3cr3t" not in str(token.describe())
    assert token.describe()["old_token_count"] == 1


def test_packet_tokens_reads_kite_frames():
    ltp = (256265).to_bytes(4, "big") + (2000000).to_bytes(4, "big")
    full = (12335874).to_bytes(4, "big") + bytes(180)
    frame = (2).to_bytes(2, "big") + len(ltp).to_bytes(2, "big") + ltp + len(full).to_bytes(2, "big") + full
    assert packet_tokens(frame) == [256265, 12335874]
    assert packet_tokens(b"\x00") == [] and packet_tokens(b"") == []
    assert packet_tokens((3).to_bytes(2, "big") + (8).to_bytes(2, "big") + ltp) == [256265]  # truncated: what is there


def test_actions_refuse_bad_input_before_touching_ledger_or_proxy(tmp_path, monkeypatch):
    from chaosaitrapp.broker.actions import break_market_data, inject_broker_fault, restore_market_data
    from chaosaitrapp.paths import ledger_path

    dead = f"http://127.0.0.1:{free_port()}"
    cfg = {"broker_proxy": dead}
    for call, needle in ((lambda: inject_broker_fault("cut_cable", configuration=cfg), "unknown broker fault"),
                         (lambda: inject_broker_fault("latency", -3, configuration=cfg), "duration must be"),
                         (lambda: inject_broker_fault("latency", 5, {"delay_ms": 10 ** 9}, configuration=cfg),
                          "delay_ms must be between"),
                         (lambda: break_market_data("melt", configuration=cfg), "mode must be one of"),
                         (lambda: break_market_data("close", 4001, configuration=cfg), "close code must be one of"),
                         (lambda: restore_market_data("later", configuration=cfg), "mode must be one of")):
        with pytest.raises(ConfigError) as refused:
            call()
        assert needle in str(refused.value)
    with pytest.raises(TargetError) as unreachable:
        inject_broker_fault("latency", 5, configuration=cfg)
    assert dead in str(unreachable.value) and "unreachable" in str(unreachable.value)
    assert not ledger_path().exists() or '"entries": []' in ledger_path().read_text().replace("\n", "")
    with pytest.raises(ConfigError) as none_known:
        inject_broker_fault("latency", 5, configuration={"api": dead})
    assert "BROKER_PROXY" in str(none_known.value)
