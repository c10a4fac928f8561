"""The Prometheus probe against a real Prometheus server (Debian's) scraping the lab."""
import shutil
import signal
import subprocess

import pytest
import requests

from chaosaitrapp.errors import MetricsError
from chaosaitrapp.metrics.probes import prometheus_query
from chaosaitrapp.waiting import wait_until

from .kit import free_ports, start_lab


@pytest.fixture(scope="module")
def lab():
    lab = start_lab()
    yield lab
    lab.down()


@pytest.fixture(scope="module")
def prometheus(lab, tmp_path_factory):
    binary = shutil.which("prometheus")
    assert binary, "prometheus is not installed (apt-get install prometheus): the Prometheus probe test needs it"
    work = tmp_path_factory.mktemp("prometheus")
    target = lab.api.split("://", 1)[1]
    (work / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: aitrapp\n    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: ['{target}']\n")
    port = free_ports(1)[0]
    log = open(work / "prometheus.log", "wb")
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        return requests.get(url + "/-/ready", timeout=1).status_code == 200

    try:
        ready = wait_until(up, bool, timeout=60, interval=0.2, what="prometheus ready")
        assert ready.held, f"prometheus did not start: {(work / 'prometheus.log').read_text()[-2000:]}"
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_prometheus_query_reads_the_leader_gauge(prometheus):
    config = {"prometheus_url": prometheus}
    result = wait_until(lambda: prometheus_query('trader_is_leader{job="aitrapp"}', config), lambda r: bool(r),
                        timeout=30, interval=0.5, what="the first scrape")
    assert result.held, f"no sample scraped: {result.last_error}"
    assert result.value[0]["value"] == 1.0 and "instance_id" in result.value[0]["metric"]
    depth = prometheus_query('trader_throttle_queue_depth{type="order_placement"}', config)
    assert depth and depth[0]["value"] == 0.0


def test_prometheus_query_errors_are_clear(prometheus, monkeypatch):
    with pytest.raises(MetricsError, match="query 'trader_is_leader{' failed"):
        prometheus_query("trader_is_leader{", {"prometheus_url": prometheus})
    monkeypatch.delenv("PROMETHEUS_URL", raising=False)
    with pytest.raises(MetricsError, match="needs PROMETHEUS_URL"):
        prometheus_query("up", {})
    with pytest.raises(MetricsError, match="Prometheus at http://127.0.0.1:1"):
        prometheus_query("up", {"prometheus_url": "http://127.0.0.1:1"})
