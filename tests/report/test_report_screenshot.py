"""The drill report as a person sees it: rendered by headless Chromium, the PNG inspected."""
from pathlib import Path

import pytest
from PIL import Image
from report_fixtures import API_KEY, make_journal, screenshot

from chaosaitrapp.report import write_drill_report
from chaosaitrapp.report.chart import BAD, FAULT, GOOD, HEARTBEAT_COLORS, NODATA
from chaosaitrapp.testing.synthetic import leader_lock, rate_limit_spike

pytestmark = pytest.mark.browser  # headless Chromium: `make test` installs it, the fast tier leaves it out


def rgb(hex_colour: str):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def shoot(tmp_path: Path, scenario, name: str) -> Image.Image:
    journal = make_journal(scenario, tmp_path)
    html = write_drill_report(journal, journal["extensions"][0]["evidence"]["timeline"], tmp_path / f"{name}.html",
                              secrets=[API_KEY])
    png = screenshot(html, tmp_path / f"{name}.png")
    image = Image.open(png).convert("RGB")
    assert image.size == (1280, 2000)
    return image


def colour_counts(image: Image.Image) -> dict:
    return {colour: count for count, colour in image.getcolors(maxcolors=1 << 24)}


def near(image: Image.Image, colour, box, tolerance=6) -> int:
    """Pixels within ``tolerance`` per channel of ``colour`` inside ``box``."""
    region = image.crop(box)
    return sum(count for count, c in region.getcolors(maxcolors=1 << 24)
               if all(abs(a - b) <= tolerance for a, b in zip(c, colour)))


def test_pass_report_renders_with_chart_bands(tmp_path):
    image = shoot(tmp_path, leader_lock(), "pass")
    counts = colour_counts(image)
    assert len(counts) > 200, f"only {len(counts)} distinct colours: blank or broken page"
    assert counts.get(rgb(GOOD), 0) > 5000, "green band colour missing"
    assert counts.get(rgb(BAD), 0) > 2000, "red band colour missing (the outage)"
    assert counts.get(rgb(FAULT), 0) > 1000, "fault window strip missing"
    assert near(image, rgb("#1e8449"), (1100, 20, 1220, 100)) > 5000, "PASS banner is not at the top"
    lines = sum(near(image, rgb(c), (0, 0, 1280, 2000), tolerance=20) for c in HEARTBEAT_COLORS.values())
    assert lines > 500, "heartbeat lines missing"
    assert counts.get(rgb(NODATA), 0) < counts[rgb(GOOD)], "bands mostly without data"


def test_fail_report_renders_red_banner_first(tmp_path):
    image = shoot(tmp_path, leader_lock(flaps=[(7.5, 7.9)], duration=10), "fail")
    counts = colour_counts(image)
    assert len(counts) > 200
    assert near(image, rgb("#c0392b"), (1100, 20, 1220, 100)) > 5000, "FAIL banner is not at the top"
    assert counts.get(rgb(GOOD), 0) > 5000 and counts.get(rgb(BAD), 0) > 2000


def test_rate_limit_report_renders_the_queue(tmp_path):
    image = shoot(tmp_path, rate_limit_spike(), "rate")
    assert near(image, rgb("#34495e"), (0, 0, 1280, 2000), tolerance=16) > 300, "queue depth line missing"
