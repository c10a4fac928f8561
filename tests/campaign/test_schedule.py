"""Campaign schedules drawn from a seed (pure): the same inputs give the same bytes, no two faults ever hold
one resource at once, a schedule file reads back as it was written, and every bad input is refused naming
what is wrong."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from chaosaitrapp.campaign.catalogue import BY_NAME, campaign_families
from chaosaitrapp.campaign.schedule import (
    LEAD_S,
    TAIL_S,
    conflicts,
    load_schedule,
    make_schedule,
    overlapping,
    schedule_text,
)
from chaosaitrapp.errors import ConfigError


def test_one_seed_gives_one_schedule_byte_for_byte_and_another_seed_another():
    first = schedule_text(make_schedule(42, 10, rate=1))
    assert first == schedule_text(make_schedule(42, 10, rate=1))
    assert first != schedule_text(make_schedule(43, 10, rate=1))
    assert first != schedule_text(make_schedule(42, 10, ["dependencies", "broker"], rate=1))


@pytest.mark.parametrize("seed", range(40))
def test_no_two_faults_hold_one_resource_at_once_and_each_fits_its_bounds(seed):
    schedule = make_schedule(seed, 5, rate=1, overlap=0.9)
    assert schedule.faults, "a five-minute campaign schedules faults"
    assert conflicts(schedule) == []
    for fault in schedule.faults:
        spec = BY_NAME[fault.kind]
        assert spec.min_s <= fault.seconds <= spec.max_s
        assert LEAD_S <= fault.start and fault.end <= schedule.length_s - TAIL_S
    for a_id, b_id in overlapping(schedule):
        a, b = (next(f for f in schedule.faults if f.id == i) for i in (a_id, b_id))
        assert not set(BY_NAME[a.kind].resources) & set(BY_NAME[b.kind].resources), (a, b)


def test_campaigns_overlap_faults_and_draw_from_every_family():
    schedule = make_schedule(7, 10, overlap=0.5)
    assert len(overlapping(schedule)) >= 3
    assert {BY_NAME[f.kind].family for f in schedule.faults} == set(campaign_families())


def test_a_schedule_file_reads_back_as_it_was_written():
    schedule = make_schedule(9, 2, ["dependencies", "broker"], rate=4)
    again = load_schedule(schedule_text(schedule))
    assert again == schedule and schedule_text(again) == schedule_text(schedule)


@pytest.mark.parametrize("kwargs, words", [
    ({"families": ["dependencies", "clockwork"]}, "unknown campaign family clockwork"),
    ({"minutes": 0}, "--minutes must be above 0"),
    ({"rate": 500}, "--rate must be above 0 and at most 50"),
    ({"rate": 50, "minutes": 10}, "offers 30000 orders; a campaign offers at most 20000"),
    ({"overlap": 2}, "--overlap must be between 0 and 1"),
    ({"seed": "abc"}, "--seed must be a whole number"),
])
def test_bad_campaign_values_are_refused_naming_them(kwargs, words):
    arguments = {"seed": 1, "minutes": 1, **kwargs}
    with pytest.raises(ConfigError) as err:
        make_schedule(**arguments)
    assert words in str(err.value)


def _edited(change) -> str:
    document = json.loads(schedule_text(make_schedule(9, 2, ["dependencies"])))
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize("text, words", [
    ("{not json", "not JSON"),
    (json.dumps({"format": 99}), "not a campaign schedule of format 1"),
    (_edited(lambda d: d["faults"][0].update(kind="meteor")), "unknown kind 'meteor'"),
    (_edited(lambda d: d["faults"][0].update(start=500)), "do not fit in the campaign"),
    (_edited(lambda d: d["faults"][1].update(start=d["faults"][0]["start"], kind=d["faults"][0]["kind"])),
     "at once"),
    (_edited(lambda d: d.pop("seed")), "a field is missing or malformed"),
])
def test_a_bad_schedule_file_is_refused_naming_what_is_wrong(text, words):
    with pytest.raises(ConfigError) as err:
        load_schedule(text, "replay.json")
    assert "replay.json" in str(err.value) and words in str(err.value)


def test_two_stops_of_one_dependency_at_once_are_a_conflict():
    schedule = make_schedule(9, 2, ["dependencies"])
    first = schedule.faults[0]
    clash = replace(schedule, faults=(first, replace(first, id="x", start=first.start + 0.5)))
    assert any("both hold" in p for p in conflicts(clash))
