"""The README's tables stay current with the code: settings, drills, defects; and the generated reference."""
import re
from pathlib import Path

from chaosaitrapp.docs import GENERATED_SECTIONS, activity_reference, settings_table
from chaosaitrapp.lab.defects import KNOWN_DEFECTS
from chaosaitrapp.suite import bundled_drills

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def section(start: str, end: str) -> str:
    return README[README.index(start) + len(start):README.index(end)]


def test_the_generated_sections_are_current():
    """`make docs` writes them (:data:`chaosaitrapp.docs.GENERATED_SECTIONS`): the settings table and the list
    of every probe and action."""
    for name, make in GENERATED_SECTIONS.items():
        start = README.index(f"<!-- {name}:")
        body = README[README.index("-->\n", start) + 4:README.index(f"<!-- /{name} -->")]
        assert body.strip() == make().strip(), f"README's {name} is stale: run `make docs`"
    assert settings_table().strip() in README and "`wait_feed_loss_noticed`" in README


def test_every_bundled_drill_and_defect_is_in_the_readme():
    drills = section("## The drills", "## Configuration")
    for drill in bundled_drills():
        assert f"| `{drill}` |" in drills, f"{drill} missing from the drills table"
    defects = section("Defects, for testing the tests", "## Activities")
    for defect in KNOWN_DEFECTS:
        assert f"| `{defect}` |" in defects, f"defect {defect} missing from the defects table"


def test_activity_reference_is_current():
    assert (ROOT / "docs" / "activities.md").read_text().strip() == activity_reference().strip(), \
        "docs/activities.md is stale: run `make docs`"


def test_readme_chaos_commands_skip_the_version_check():
    for line in re.findall(r"^.*(?<![-\w])chaos (?:--\S+ )*run\b.*$", README, re.M):
        if "`chaos run`" in line:  # prose naming the command
            continue
        assert "--no-version-check" in line, f"README runs chaos without --no-version-check: {line}"
