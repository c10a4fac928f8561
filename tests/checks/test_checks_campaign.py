"""The campaign's history checks on synthetic timelines: recovery after each group of overlapping faults
(pass with per-group figures, fail when /ready is not back in time or drops again before the next group,
unknown when the timeline ends too soon); no placement past the lease during a Redis fault; nothing left
injected; and unknown, never pass, without a campaign."""
from __future__ import annotations

from dataclasses import replace

from chaosaitrapp.campaign.catalogue import BY_NAME
from chaosaitrapp.checks.campaign import (
    campaign_faults_recovered,
    campaign_no_order_past_lease,
    campaign_nothing_left,
    groups,
)
from chaosaitrapp.checks.timeline import Timeline


def fault(fid, kind, start, end):
    marks = {"kind": "event", "event": "campaign_fault", "fault": fid, "fault_kind": kind, "target": kind,
             "resources": list(BY_NAME[kind].resources)}
    return [{**marks, "t": start, "phase": "start"}, {**marks, "t": end, "phase": "end"}]


def timeline(faults, ready=None, broker=None, ended=None, end=30.0) -> Timeline:
    records = [{"kind": "meta", "t": 0.0, "drill": "campaign"}]
    for f in faults:
        records += fault(*f)
    for t, value in ready or []:
        records.append({"kind": "sample", "t": t, "ready": value})
    for record in broker or []:
        records.append({"kind": "broker", "what": "order", "status": 200, **record})
    if ended is not None:
        records.append({"kind": "event", "event": "campaign_ended", "t": end - 1, **ended})
    records.append({"kind": "end", "t": end})
    return Timeline.from_records(records)


def samples(*spans):
    """``(from, to, value)`` spans as samples every 0.1 s."""
    out = []
    for start, stop, value in spans:
        t = start
        while t < stop - 1e-9:
            out.append((round(t, 2), value))
            t += 0.1
    return out


FAULTS = [("f001", "redis_stop", 2.0, 5.0), ("f002", "broker_token_invalidated", 4.0, 7.0),
          ("f003", "postgres_stop", 15.0, 18.0)]


def test_overlapping_faults_form_one_group():
    assert [ids for _, _, ids in groups([{"id": i, "start": s, "end": e} for i, _, s, e in FAULTS], 30.0)] == \
        [["f001", "f002"], ["f003"]]


def test_recovery_after_each_group_within_the_limit_passes_with_figures(limits):
    ready = samples((0, 2.5, True), (2.5, 8.0, False), (8.0, 30, True))
    result = campaign_faults_recovered(timeline(FAULTS, ready), limits)
    assert result.status == "pass", result
    assert result.figures["f001+f002_recover_s"] == 1.0 and result.figures["f001+f002_detect_s"] == 0.5
    assert result.figures["f003_recover_s"] == 0.0 and "f003_detect_s" not in result.figures
    assert "2 fault group(s) (3 faults)" in result.reason


def test_recovery_later_than_the_limit_fails_naming_the_group(limits):
    ready = samples((0, 2.5, True), (2.5, 14.9, False), (14.9, 30, True))
    result = campaign_faults_recovered(timeline(FAULTS, ready), limits)
    assert result.status == "fail" and "after faults f001+f002 ended" in result.reason, result
    assert result.value == 7.9 and result.limit == limits.recover_s == 7.6


def test_a_relapse_before_the_next_group_is_no_recovery(limits):
    ready = samples((0, 7.5, True), (7.5, 16.0, False), (16.0, 30, True))
    result = campaign_faults_recovered(timeline(FAULTS, ready), limits)
    assert result.status == "fail" and "not back for good after faults f001+f002" in result.reason, result


def test_a_timeline_that_ends_before_the_deadline_is_unknown(limits):
    ready = samples((0, 15.5, True), (15.5, 19.0, False))
    result = campaign_faults_recovered(timeline(FAULTS, ready, end=19.0), limits)
    assert result.status == "unknown" and "before /ready had to be back" in result.reason, result


def test_no_campaign_is_unknown_for_every_campaign_check(limits):
    empty = timeline([], samples((0, 10, True)))
    for check in (campaign_faults_recovered, campaign_no_order_past_lease, campaign_nothing_left):
        assert check(empty, limits).status == "unknown", check.__name__


def test_a_placement_past_the_lease_during_a_redis_fault_fails(limits):
    faults = [("f001", "redis_stop", 2.0, 8.0)]
    # lease window: TTL 3 - refresh 1 = 2 s after the stop began: from t=4 on no order may reach the broker
    late = timeline(faults, broker=[{"t": 3.5, "tag": "a"}, {"t": 5.0, "tag": "b"}])
    result = campaign_no_order_past_lease(late, limits)
    assert result.status == "fail" and "during f001 (redis_stop)" in result.reason and "t=5.00" in result.reason
    fine = campaign_no_order_past_lease(timeline(faults, broker=[{"t": 3.5, "tag": "a"}, {"t": 9, "tag": "b"}]),
                                        limits)
    assert fine.status == "pass", fine
    assert campaign_no_order_past_lease(timeline(faults), limits).status == "unknown"


def test_a_redis_fault_shorter_than_the_lease_leaves_nothing_to_judge_and_says_so(limits):
    result = campaign_no_order_past_lease(timeline([("f001", "redis_stop", 2.0, 3.5)], broker=[{"t": 3.0}]), limits)
    assert result.status == "pass" and "no Redis fault of the campaign outlasted the lease" in result.reason


def test_the_lease_unknown_is_unknown(limits):
    limits = replace(limits, lock_ttl=None, unknown={"lock_ttl": "the lock TTL was neither given nor learned"})
    result = campaign_no_order_past_lease(timeline([("f001", "redis_stop", 2.0, 8.0)], broker=[]), limits)
    assert result.status == "unknown" and "neither given nor learned" in result.reason


def test_nothing_left_fails_on_errors_faults_never_ended_and_ledger_entries(limits):
    ok = timeline(FAULTS, ended={"outstanding": 0, "errors": []})
    assert campaign_nothing_left(ok, limits).status == "pass"
    bad = timeline(FAULTS, ended={"outstanding": 2, "errors": ["f002 (broker_token_invalidated) could not be "
                                                               "injected: proxy down"]})
    result = campaign_nothing_left(bad, limits)
    assert result.status == "fail" and "proxy down" in result.reason and "2 fault(s) still in the ledger" in \
        result.reason
    records = [r for r in timeline(FAULTS, ended={"outstanding": 0}).to_records()
               if not (r.get("fault") == "f003" and r.get("phase") == "end")]
    result = campaign_nothing_left(Timeline.from_records(records), limits)
    assert result.status == "fail" and "f003 never ended" in result.reason
    assert campaign_nothing_left(timeline(FAULTS), limits).status == "unknown"


def test_a_group_followed_too_soon_by_the_next_is_judged_with_it(limits):
    faults = FAULTS[:2] + [("f003", "postgres_stop", 9.0, 10.0)]
    ready = samples((0, 2.5, True), (2.5, 11.0, False), (11.0, 30, True))
    result = campaign_faults_recovered(timeline(faults, ready), limits)
    assert result.status == "pass", result
    assert result.figures["f001+f002+f003_recover_s"] == 1.0 and "f001+f002_recover_s" not in result.figures
