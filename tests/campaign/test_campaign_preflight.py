"""The campaign's offline pre-flight: a campaign of more orders than ``GET /orders`` may list is refused unless
the target's database is known (its orders are then followed in the ``orders`` table); a shorter one, or one
with the database given, is not refused for it. Which families a campaign draws from is judged on the target as
the drill will see it: its deployment description included."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from chaosaitrapp import config
from chaosaitrapp.campaign.catalogue import campaign_families
from chaosaitrapp.campaign.preflight import default_families, problems
from chaosaitrapp.campaign.schedule import LISTED_ORDERS, make_schedule, schedule_text
from chaosaitrapp.cli.campaign import campaign
from chaosaitrapp.declare import ActivityCall
from chaosaitrapp.description import Description, dump


def call(tmp_path, rate: float, minutes: float) -> ActivityCall:
    path = tmp_path / "campaign.schedule.json"
    path.write_text(schedule_text(make_schedule(3, minutes, ["dependencies"], rate=rate)), encoding="utf-8")
    return ActivityCall("campaign", "action", "method", "chaosaitrapp.campaign.actions", "run_campaign",
                        {"schedule": str(path)})


@pytest.fixture(autouse=True)
def no_database(monkeypatch):
    """No database known: none in the environment, none a deployment description provided in this process."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("ORDERS_DATABASE", raising=False)
    monkeypatch.setattr(config, "_PROVIDED", {})


def test_more_orders_than_the_list_shows_need_the_database(tmp_path):
    found = problems([call(tmp_path, 10, 2)], {}, {}, online=False)
    assert len(found) == 1 and "offers 1200 orders" in found[0] and f"above {LISTED_ORDERS}" in found[0], found
    assert "DATABASE_URL" in found[0] and "orders_database" in found[0], found


def test_with_the_database_or_fewer_orders_nothing_is_said_of_it(tmp_path):
    assert problems([call(tmp_path, 10, 2)], {"orders_database": "postgresql://u@127.0.0.1:5/db"}, {},
                    online=False) == []
    assert problems([call(tmp_path, 1.5, 2)], {}, {}, online=False) == []


def test_by_default_a_family_whose_needs_the_target_lacks_is_left_out_saying_why(monkeypatch):
    monkeypatch.delenv("CLOCK_FILE", raising=False)
    families, left = default_families({})
    assert "clock" not in families and "dependencies" in families and "CLOCK_FILE" in left["clock"], left
    families, left = default_families({"clock_file": "/run/trader.offset"})
    assert families == campaign_families() and left == {}


@pytest.mark.parametrize("how", ["AITRAPP_DEPLOYMENT", "--var-file"])
def test_the_campaign_command_judges_needs_on_the_deployment_description(tmp_path, monkeypatch, how):
    monkeypatch.delenv("CLOCK_FILE", raising=False)
    monkeypatch.delenv("AITRAPP_DEPLOYMENT", raising=False)
    monkeypatch.setenv("AITRAPP_REPORTS_DIR", str(tmp_path / "reports"))
    description = tmp_path / "deployment.yaml"
    dump(Description({"api": "http://127.0.0.1:9", "clock_file": str(tmp_path / "trader.offset")}, {},
                     provider="the test"), description)
    args = ["--seed", "173", "--minutes", "1", "--schedule-only", "--out", str(tmp_path / "c")]
    if how == "AITRAPP_DEPLOYMENT":
        monkeypatch.setenv("AITRAPP_DEPLOYMENT", str(description))
    else:
        args += ["--var-file", str(description)]
    done = CliRunner().invoke(campaign, args)
    assert done.exit_code == 0, done.output
    assert "family clock not drawn from" not in done.output
    assert '"clock_' in (tmp_path / "c" / "campaign.schedule.json").read_text()
