"""A drill run with an API key, a database password, a Redis password, a broker api secret and an
access token set leaves no trace of any of them in any file it wrote (evidence log, timeline, metrics
snapshots, journals, report, Chaos Toolkit's own log, the ledger, the watchdog log) nor in the lab's
logs and state; nor does their percent-encoded form."""
import secrets
from urllib.parse import quote

import pytest

from .kit import run_drill, start_lab


@pytest.fixture(scope="module")
def secret_values():
    return {"key": "key-" + secrets.token_hex(12), "password": "pw-" + secrets.token_hex(12),
            "token": "tok-" + secrets.token_hex(12), "redis": "rd/pw+" + secrets.token_hex(8),
            "kite_secret": "ks-" + secrets.token_hex(12)}


@pytest.fixture(scope="module")
def keyed_lab(secret_values):
    lab = start_lab(api_key=secret_values["key"], db_password=secret_values["password"])
    yield lab
    lab.down()


def test_no_secret_in_any_output(keyed_lab, secret_values, tmp_path):
    pg = keyed_lab.state.services["postgres"].port
    redis_port = keyed_lab.state.services["redis"].port
    env = {"API_KEY": secret_values["key"], "KITE_ACCESS_TOKEN": secret_values["token"],
           "KITE_API_SECRET": secret_values["kite_secret"],
           "REDIS_URL": f"redis://:{quote(secret_values['redis'], safe='')}@127.0.0.1:{redis_port}/0",
           "DATABASE_URL": f"postgresql://trader:{secret_values['password']}@127.0.0.1:{pg}/aitrapp"}
    for drill in ("leader_lock", "postgres_blip", "rate_limit_spike"):
        run = run_drill(drill, keyed_lab, tmp_path, env)
        assert run.code == 0, f"{drill} failed with the key set: {run.extension.get('reasons')}\n{run.output[-2000:]}"
        assert secret_values["key"] not in run.output and secret_values["password"] not in run.output
    # the key was really needed and really sent: without it the API refuses the drill
    refused = run_drill("leader_lock", keyed_lab, tmp_path / "nokey", {"WAIT_READY_TIMEOUT": "2"})
    assert refused.code != 0 and any("401" in r for r in refused.reasons)

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    lab_files = [p for p in (keyed_lab.directory / "logs").rglob("*") if p.is_file()] + [keyed_lab.directory / "lab.json"]
    assert len(written) > 20, [p.name for p in written]
    names = {p.name for p in written}
    assert "chaostoolkit.log" in names and any(n.endswith(".timeline.jsonl") for n in names)
    assert any(n.endswith(".html") for n in names) and any(n.endswith(".prom") for n in names)
    for path in written + lab_files:
        data = path.read_bytes()
        for name, value in secret_values.items():
            for form in {value, quote(value, safe="")}:
                assert form.encode() not in data, f"the {name} leaked into {path}"
