"""The split-brain history checker on hand-made and generated histories: valid, overlapping (with and
without fencing tokens), stale token, duplicate, lost, indeterminate; and the checkers on timelines."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from chaosaitrapp.checks.history import analyse
from chaosaitrapp.checks.limits import Limits
from chaosaitrapp.checks.split_brain import (
    fencing_tokens_monotonic,
    history_of,
    one_leader_at_a_time,
    one_placer_at_a_time,
    orders_once_across_replicas,
)
from chaosaitrapp.checks.timeline import Timeline


def placed(t, instance, tag, fence=None, status=200, order_id=None, dropped=False):
    return {"t": t, "instance": instance, "tag": tag, "fence": fence, "status": status,
            "order_id": order_id or f"o-{tag}-{t}", "dropped": dropped}


def test_a_clean_handover_has_no_finding():
    history = [placed(0.1, "A", "t1", 1), placed(0.2, "A", "t2", 1), placed(4.0, "B", "t3", 2), placed(4.1, "B", "t4", 2)]
    result = analyse(history, ["t1", "t2", "t3", "t4"])
    assert result.findings == [] and result.fenced and result.instances == ["A", "B"] and result.accepted == 4


def test_an_old_grant_after_a_newer_one_began_is_an_overlap_and_a_stale_token():
    history = [placed(0.1, "A", "t1", 1), placed(4.0, "B", "t2", 2), placed(4.5, "A", "t3", 1)]
    result = analyse(history, ["t1", "t2", "t3"])
    overlap = result.of("overlap")
    assert [(o.instance, o.tag, o.window_s) for o in overlap] == [("A", "t3", 0.5)]
    assert "grant 1 after B traded under grant 2" in overlap[0].detail
    assert [s.tag for s in result.of("stale_fence")] == ["t3"]


def test_without_tokens_the_old_leader_placing_after_the_new_one_began_is_an_overlap():
    history = [placed(0.1, "A", "t1"), placed(4.0, "B", "t2"), placed(4.1, "B", "t3"), placed(4.6, "A", "t4")]
    result = analyse(history, [], lease_s=3.0)
    assert not result.fenced
    assert [(o.instance, o.tag) for o in result.of("overlap")] == [("A", "t4")]
    # a failback long after the new leader's lease could have ended is not a split brain
    later = history[:3] + [placed(9.0, "A", "t4")]
    assert analyse(later, [], lease_s=3.0).of("overlap") == []


def test_duplicates_lost_and_indeterminate_orders():
    history = [placed(0.1, "A", "t1", order_id="1"), placed(4.0, "B", "t1", order_id="2"),  # twice at the broker
               placed(0.2, "A", "t2", status=None, dropped=True)]  # its answer never came
    result = analyse(history, ["t1", "t2", "t3"])
    assert [d.tag for d in result.of("duplicate")] == ["t1"]
    assert result.indeterminate == ["t2"]  # unknown fate: never lost, never ok
    assert [lost.tag for lost in result.of("lost")] == ["t3"]


@st.composite
def handovers(draw):
    """Successive leaders, each under a newer grant, each trading only in its own era."""
    eras = draw(st.integers(min_value=1, max_value=5))
    history, t, tags = [], 0.0, []
    for era in range(eras):
        for _ in range(draw(st.integers(min_value=1, max_value=8))):
            t += draw(st.floats(min_value=0.001, max_value=1.0))
            tag = f"t{len(tags)}"
            tags.append(tag)
            history.append(placed(round(t, 3), f"I{era % 3}{era}", tag, era + 1))
        t += draw(st.floats(min_value=0.5, max_value=5.0))
    return history, tags


@settings(max_examples=200, deadline=None)
@given(handovers())
def test_generated_clean_histories_have_no_finding(case):
    history, tags = case
    result = analyse(history, tags, lease_s=30.0)
    assert result.findings == [] and result.indeterminate == []


@settings(max_examples=200, deadline=None)
@given(handovers(), st.data())
def test_a_placement_under_an_older_grant_inside_a_later_era_is_always_found(case, data):
    history, tags = case
    fences = sorted({p["fence"] for p in history})
    if len(fences) < 2:
        return
    newer = data.draw(st.sampled_from(fences[1:]))
    era = [p for p in history if p["fence"] == newer]
    old = next(p for p in history if p["fence"] == newer - 1)
    t = era[0]["t"] + 0.0005  # right after the newer leader's first order
    stale = placed(t, old["instance"], "late", newer - 1)
    result = analyse(history + [stale], tags + ["late"], lease_s=30.0)
    assert any(f.tag == "late" for f in result.of("overlap"))
    assert any(f.tag == "late" for f in result.of("stale_fence"))


def timeline(orders, samples=(), acknowledged=()):
    records = [{"kind": "meta", "drill": "split_brain_pause"}]
    records += [{"kind": "sample", "t": t, **fields} for t, fields in samples]
    records.append({"kind": "event", "t": 0.0, "event": "fault_injected", "target": "orders",
                    "accepted_ids": list(acknowledged)})
    records.append({"kind": "end", "t": 10.0})
    records += [{"kind": "broker", "what": "order", "by": "upstream", **o} for o in orders]
    records.append({"kind": "broker", "what": "collected", "t": 10.0})
    return Timeline.from_records(records)


def record(t, instance, tag, fence=None, status=200, sent=None):
    return {"t": t + 0.01, "arrived_t": t, "sent_t": sent if sent is not None else t, "instance": instance,
            "tag": tag, "fence": fence, "status": status, "order_id": f"{tag}-{t}"}


LIMITS = Limits(detect_s=5.0, recover_s=10.0, lock_ttl=3.0)


def test_the_checkers_on_a_timeline_that_split():
    orders = [record(0.1, "A", "c1"), record(4.0, "B", "c2"), record(4.2, "B", "c1"),
              record(0.3, "A", "c2", sent=4.5)]  # held on the wire, it left for the broker at 4.5
    tl = timeline(orders, acknowledged=["c1", "c2"])
    assert [h["t"] for h in history_of(tl)] == [0.1, 4.0, 4.2, 4.5]
    placer = one_placer_at_a_time(tl, LIMITS)
    assert placer.status == "fail" and placer.figures == {"overlap_orders": 1.0, "overlap_s": 0.5}
    assert "A t=4.500" in placer.reason
    assert orders_once_across_replicas(tl, LIMITS).status == "fail"
    assert fencing_tokens_monotonic(tl, LIMITS).status == "unknown"  # no tokens: cannot be judged


def test_the_checkers_on_a_fenced_handover():
    orders = [record(0.1, "A", "c1", 1), record(4.0, "B", "c2", 2), record(0.3, "A", "c3", 1, status=403, sent=4.5)]
    tl = timeline(orders, acknowledged=["c1", "c2"])
    assert one_placer_at_a_time(tl, LIMITS).status == "pass"  # the stale token was refused, not accepted
    assert fencing_tokens_monotonic(tl, LIMITS).status == "pass"
    assert orders_once_across_replicas(tl, LIMITS).status == "pass"


def test_missing_evidence_is_unknown():
    empty = Timeline.from_records([{"kind": "meta"}, {"kind": "end", "t": 1.0}])
    for checker in (one_placer_at_a_time, fencing_tokens_monotonic, orders_once_across_replicas, one_leader_at_a_time):
        assert checker(empty, LIMITS).status == "unknown"
    anonymous = timeline([record(0.1, None, "c1")], acknowledged=["c1"])
    assert "names its instance" in one_placer_at_a_time(anonymous, LIMITS).reason


def test_two_leaders_at_once_beyond_the_read_skew_fail():
    def run(both):
        rows = [(0.1 * k, {"replica_leaders": {"r0": 1.0, "r1": 0.0}, "latency_ms": 5}) for k in range(5)]
        rows += [(0.5 + 0.1 * k, {"replica_leaders": {"r0": 1.0, "r1": 1.0}, "latency_ms": 5}) for k in range(both)]
        rows += [(2.0 + 0.1 * k, {"replica_leaders": {"r0": 0.0, "r1": 1.0}, "latency_ms": 5}) for k in range(5)]
        return timeline([], rows)
    assert one_leader_at_a_time(run(0), LIMITS).status == "pass"
    handover = one_leader_at_a_time(run(1), LIMITS)  # one sample at the handover: read skew
    assert handover.status == "pass" and "1 sample(s) at a handover excused" in handover.reason
    split = one_leader_at_a_time(run(4), LIMITS)
    assert split.status == "fail" and "r0, r1 all reported leader 1" in split.reason and split.value == 4
