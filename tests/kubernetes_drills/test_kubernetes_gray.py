"""The gray failures on Kubernetes: redis_stall and postgres_hang act on Redis and Postgres themselves, through the
secrets a description of the cluster maps to its own environment variables (here ``REDIS_URL`` as
``K8S_REDIS_URL``: a Service's address), never through the cluster's API; the same verdicts as on the lab."""
from drills.kit import FAST_ENV, ledger_entries, run_drill

SETTINGS = {**FAST_ENV, "WAIT_READY_TIMEOUT": "15", "DETECT_TIMEOUT": "8", "HANG_SECONDS": "10", "ANSWER_MAX": "7"}
CASES = [
    # drill, the check that decides on the defect, words of its reason
    ("redis_stall", "trading_stopped_before_lease_expiry", ""),
    ("postgres_hang", "api_answered_during_hang", "gave no answer within 7s"),
]


def test_the_gray_failures_pass_through_the_secrets_a_kubernetes_description_maps(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory()
    assert "REDIS_URL" not in cluster.env, "the description must be what provides the secret"
    for drill, _, _ in CASES:
        run = run_drill(drill, None, tmp_path / drill, {**SETTINGS, **cluster.env})
        assert run.code == 0 and run.fields["test_result"] == "PASS", f"{drill}: {run.reasons}\n{run.output[-3000:]}"
        assert ledger_entries(tmp_path / drill / "state") == []
    assert not [c for c in cluster.calls() if c.startswith(("PATCH", "DELETE", "POST"))], "a gray failure used the API"


def test_the_gray_failures_fail_through_kubernetes_on_their_defects(cluster_factory, tmp_path):
    deployed, cluster = cluster_factory(defects=["no_redis_timeout", "no_fencing", "db_write_without_timeout"])
    for drill, check, words in CASES:
        run = run_drill(drill, None, tmp_path / drill, {**SETTINGS, **cluster.env})
        assert run.fields["test_result"] == "FAIL", f"{drill}: {run.output[-3000:]}"
        assert run.checks[check]["status"] == "fail" and words in run.checks[check]["reason"], run.checks[check]
        assert ledger_entries(tmp_path / drill / "state") == []
