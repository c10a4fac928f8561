"""Every drill FAILS (non-zero exit, test_result FAIL, the right reason) against each lab defect it
exists to catch, and still leaves the lab restored and the ledger empty."""
import html as htmllib
import json
from pathlib import Path

import pytest

from chaosaitrapp.targets.answers import redis_answers

from .checks import assert_lab_whole
from .kit import run_drill, start_lab

CASES = [
    # drill, defect, substrings that must appear among the failure reasons
    ("leader_lock", "never_pause", ["orchestrator-paused failed", "check time_to_detect_pause"]),
    ("leader_lock", "never_reacquire", ["ready-again failed", "check time_to_recover_ready"]),
    ("leader_lock", "stale_heartbeats", ["ready-again failed"]),
    ("leader_lock", "ready_lies", ["ready-answers-503 failed", "check ready_while_not_leader failed"]),
    ("rate_limit_spike", "duplicate_orders", ["no-duplicate-client-order-id"]),
    ("postgres_blip", "duplicate_orders", ["no-duplicate-client-order-id"]),
]


@pytest.mark.parametrize("drill,defect,expected", CASES, ids=[f"{d}-{x}" for d, x, _ in CASES])
def test_drill_fails_against_defect(drill, defect, expected, tmp_path):
    lab = start_lab(defects=[defect])
    try:
        run = run_drill(drill, lab, tmp_path)
        assert run.code != 0, f"{drill} passed against {defect}:\n{run.output[-3000:]}"
        assert run.fields["test_result"] == "FAIL"
        assert run.extension["verdict"] == "FAIL"
        assert run.journal["status"] == "failed"
        reasons = " | ".join(run.reasons)
        for part in expected:
            assert part in reasons, f"expected {part!r} among the reasons: {reasons}"
        page = Path(run.extension["evidence"]["report"]).read_text()
        assert '<div class="big">FAIL</div>' in page
        why = htmllib.unescape(page[page.index('id="why"'):page.index('id="facts"')])
        for part in expected:
            assert part.replace("check ", "").split()[0] in why, f"the report's 'why' section lacks {part!r}"
        if defect not in ("never_reacquire", "stale_heartbeats"):
            assert_lab_whole(lab, tmp_path)
        else:  # the lab cannot recover by design; its dependencies and the ledger must be restored anyway
            assert redis_answers("127.0.0.1", lab.state.services["redis"].port)
            ledger = tmp_path / "state" / "ledger.json"
            assert not ledger.exists() or json.loads(ledger.read_text())["entries"] == []
    finally:
        lab.down()
