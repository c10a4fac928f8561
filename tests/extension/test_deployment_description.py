"""A deployment described once: the file format, its checks, the precedence of its values (explicit
environment > description > experiment defaults), the whole of a --var-file read, secrets as references;
and the lock timing learned from the lock key when nobody gave it."""
import json
import threading
import time

import pytest

from chaosaitrapp.config import api_key, known_secrets
from chaosaitrapp.deployment.description import DEPLOYMENT_ENV, apply, cli_vars, var_files
from chaosaitrapp.deployment.timing import infer_lock_timing, learn_in_background, learn_lock_timing, target_timing
from chaosaitrapp.description import Description, dump, load, parse
from chaosaitrapp.errors import ConfigError


def write(tmp_path, data, name="deployment.yaml"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if name.endswith(".json") else
                    "\n".join(["configuration:"] + [f"  {k}: {json.dumps(v)}" for k, v in data.get(
                        "configuration", {}).items()]) + "\n" + (
                        "secrets:\n  aitrapp:\n" + "".join(f"    {k}: {json.dumps(v)}\n" for k, v in data[
                            "secrets"].items()) if data.get("secrets") else ""))
    return path


@pytest.fixture
def described(tmp_path, monkeypatch):
    path = write(tmp_path, {"configuration": {"api": "http://127.0.0.1:18100", "redis_target": "docker:cache",
                                              "lock_ttl": 6, "partition_seconds": 4},
                            "secrets": {"api_key": {"type": "env", "key": "TEAM_API_KEY"}}})
    monkeypatch.setenv(DEPLOYMENT_ENV, str(path))
    for name in ("API", "REDIS_TARGET", "LOCK_TTL", "PARTITION_SECONDS", "REDIS_CONTAINER"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_the_description_beats_the_experiments_defaults(described):
    cfg = {"api": "http://localhost:8000", "redis_target": "auto", "outage_seconds": 3}
    done = apply(cfg, {}, argv=[])
    assert cfg["api"] == "http://127.0.0.1:18100" and cfg["redis_target"] == "docker:cache"
    assert cfg["lock_ttl"] == 6 and cfg["partition_seconds"] == 4, "keys the experiment does not declare are applied"
    assert cfg["outage_seconds"] == 3, "what the description does not say stays the experiment's"
    assert str(described) in done.summary() and "redis_target" in done.applied


def test_an_explicit_environment_variable_or_var_beats_the_description(described, monkeypatch):
    monkeypatch.setenv("LOCK_TTL", "9")
    cfg = {"lock_ttl": "9"}
    done = apply(cfg, {}, argv=["chaos", "run", "--var", "partition_seconds=8", "x.json"])
    assert cfg["lock_ttl"] == "9" and "lock_ttl" in done.overridden
    assert "partition_seconds" in done.overridden and "partition_seconds" not in cfg
    assert cli_vars(["chaos", "run", "--var=API=http://x", "--var", "a=b"]) == ["api", "a"]


def test_an_explicitly_named_container_beats_the_descriptions_redis_target(described, monkeypatch):
    monkeypatch.setenv("REDIS_CONTAINER", "other-redis")
    cfg = {"redis_target": "auto"}
    done = apply(cfg, {}, argv=[])
    assert cfg["redis_target"] == "auto" and "redis_target" in done.overridden


def test_secrets_are_references_resolved_in_memory(described, monkeypatch):
    monkeypatch.setenv("TEAM_API_KEY", "k3y-value-of-the-team")
    secrets = {}
    done = apply({}, secrets, argv=[])
    assert done.secrets == ["api_key"] and secrets == {}, "kept in memory, not in Chaos Toolkit's secrets"
    assert api_key() == "k3y-value-of-the-team" and "k3y-value-of-the-team" in known_secrets()
    assert "k3y-value-of-the-team" not in described.read_text()


def test_a_var_file_is_read_whole_and_env_names_are_accepted(tmp_path, monkeypatch):
    monkeypatch.delenv(DEPLOYMENT_ENV, raising=False)
    monkeypatch.delenv("NET_PROXY", raising=False)
    path = write(tmp_path, {"configuration": {"NET_PROXY": "http://127.0.0.1:8004"}}, "vars.json")
    cfg = {}
    argv = ["chaos", "run", "--var-file", str(path), "x.json"]
    assert var_files(argv) == [path]
    done = apply(cfg, {}, argv=argv)
    assert cfg == {"net_proxy": "http://127.0.0.1:8004"} and done.path == str(path)


@pytest.mark.parametrize("data,message", [
    ({"configuration": {"heartbeat_mx": 5}}, "did you mean 'heartbeat_max'"),
    ({"configuration": {"api_key": "abc"}}, "not a setting"),
    ({"configuration": {"lock_redis": "redis://:hunter2@127.0.0.1:6379/0"}}, "carries a password"),
    ({"secrets": {"aitrapp": {"api_key": "plain-value"}}}, "must be a reference"),
    ({"secrets": {"aitrapp": {"broker_token": {"type": "env", "key": "X"}}}}, "unknown secret"),
    ({"configurations": {}}, "unknown top-level key"),
])
def test_bad_descriptions_are_refused_naming_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        parse(data)


def test_a_named_description_that_cannot_be_read_refuses(tmp_path, monkeypatch):
    bad = tmp_path / "broken.yaml"
    bad.write_text("configuration: [unclosed\n")
    monkeypatch.setenv(DEPLOYMENT_ENV, str(bad))
    with pytest.raises(ConfigError, match="not valid YAML"):
        apply({}, {}, argv=[])


def test_dump_and_load_round_trip_with_comments(tmp_path):
    original = Description({"api": "http://127.0.0.1:8000", "lock_ttl": 30.0, "replicas": "http://127.0.0.1:8010"},
                           {"database_url": {"type": "env", "key": "DATABASE_URL"}}, provider="target init")
    path = dump(original, tmp_path / "d.yaml")
    text = path.read_text()
    assert text.startswith("# aitrapp-deployment: 1") and "# the AITRAPP API" in text
    again = load(path)
    assert again.configuration == original.configuration and again.secrets == original.secrets
    assert again.provider == "target init"


def test_lock_timing_is_inferred_from_the_refreshes_each_read_dates():
    # a 6 s lease (EX 6) refreshed every 2 s (at -1, 1, 3), read every 0.5 s: each read dates the refresh before it
    reads = [(0.0, 5000), (0.5, 4500), (1.0, 5990), (1.5, 5490), (2.0, 4990), (2.5, 4490), (3.0, 5990), (3.5, 5490)]
    assert infer_lock_timing(reads) == (6.0, 2.0)
    assert infer_lock_timing(reads[:3]) == (6.0, 2.0), "two refreshes dated, the reads between dense enough"
    assert infer_lock_timing(reads[:2]) is None, "one refresh dated: its period cannot be told yet"
    # a lease of 2.5 s (PX): not rounded to the second when the reads came right after the refresh
    fine = [(0.0, 1000), (0.1, 2450), (0.2, 2350), (0.3, 2250), (0.4, 2150), (0.5, 2050), (0.6, 2470)]
    assert infer_lock_timing(fine) == (2.5, 0.5)
    assert infer_lock_timing([(0, None), (1, 5000)]) is None
    # a holder that sleeps 2 s after its own work: refreshes 2.15 s apart are its configured 2 s
    slow = [(0.05, 5990), (0.6, 5440), (1.0, 5040), (1.5, 4540), (2.15, 3890), (2.2, 5990), (2.3, 5890)]
    assert infer_lock_timing(slow) == (6.0, 2.0)
    # 2.5 s apart is not 2 s run long: rounded to 0.1 s
    half = [(0.05, 5990), (0.8, 5240), (1.6, 4440), (2.3, 3740), (2.55, 5990)]
    assert infer_lock_timing(half) == (6.0, 2.5)


def test_reads_too_sparse_for_the_period_learn_nothing_rather_than_a_wrong_period():
    """A slow reader (docker exec under load) reading every second a lock refreshed every 0.5 s sees each read
    date a refresh a second after the last: that must not become a 1 s (or 5 s) period."""
    sparse = [(0.3 + k, 2700) for k in range(8)]
    assert infer_lock_timing(sparse) is None
    far = [(0.0, 2900), (0.1, 2800), (0.2, 2700), (5.0, 2950), (5.1, 2850)]  # two refreshes, nothing between
    assert infer_lock_timing(far) is None, "a refresh between them could have been missed"


def test_learning_stops_at_the_first_refresh_or_the_deadline():
    class Reader:
        label = "fake"

        def __init__(self, pttls):
            self.pttls = list(pttls)

        def read(self, key):
            return "holder", self.pttls.pop(0) if self.pttls else 1000

    now = [0.0]
    clock = lambda: now[0]  # noqa: E731
    sleep = lambda s: now.__setitem__(0, now[0] + s)  # noqa: E731
    assert learn_lock_timing(Reader([2500, 2000, 2990, 2490, 1990, 2990]), "k", 10, 0.5, clock, sleep) == (3.0, 1.5)
    assert learn_lock_timing(Reader([]), "k", 2, 0.5, clock, sleep) is None


def test_timing_learned_in_the_background_is_waited_for_by_whoever_asks(monkeypatch):
    """The evidence control learns the lock timing beside the pre-flight and the steady state; an activity that
    asks for the timing meanwhile gets what was learned, never the "unknown" of a cache not yet written."""
    for name in ("LOCK_TTL", "LOCK_REFRESH", "LOCK_LEARN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    gate = threading.Event()
    began = time.monotonic()

    class Holder:
        """A lock of TTL 3 s refreshed every 0.2 s; the first read waits for ``gate``."""

        label = "simulated holder"

        def read(self, key):
            gate.wait(10)
            return "holder", int(3000 - ((time.monotonic() - began) % 0.2) * 1000)

    cfg = {"api": "http://127.0.0.1:18977", "lock_learn_timeout": 5}
    pending = learn_in_background(cfg, Holder())
    threading.Timer(0.2, gate.set).start()
    asked = target_timing(cfg)  # asked while the learner is held at its first read
    assert (asked.lock_ttl, asked.lock_refresh) == (3.0, 0.2)
    assert asked.sources["lock_ttl"].startswith("learned from PTTL")
    assert (pending().lock_ttl, pending().lock_refresh) == (3.0, 0.2)


def test_a_learning_that_raises_raises_where_it_is_waited_for():
    class Broken:
        label = "broken"

        def read(self, key):
            raise RuntimeError("no such lock")

    pending = learn_in_background({"api": "http://127.0.0.1:18978", "lock_learn_timeout": 5}, Broken())
    with pytest.raises(RuntimeError, match="no such lock"):
        pending()
