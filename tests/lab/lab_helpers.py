"""Helpers for the lab tests: HTTP calls, metrics, SQL, stopping/starting a lab service, waiting."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import psycopg
import requests
from prometheus_client.parser import text_string_to_metric_families

from chaosaitrapp.lab.runtime import processes
from chaosaitrapp.lab.runtime.config import DB_PASSWORD
from chaosaitrapp.targets.answers import service_answers
from chaosaitrapp.targets.labstate import LabState
from chaosaitrapp.testing.waits import holds_for, wait_for  # noqa: F401 (used by the lab tests)


def get(lab: LabState, path: str, **kwargs: Any) -> requests.Response:
    """GET on the lab's API."""
    return requests.get(lab.api + path, timeout=5, **kwargs)


def post(lab: LabState, path: str, **kwargs: Any) -> requests.Response:
    """POST on the lab's API."""
    return requests.post(lab.api + path, timeout=10, **kwargs)


def metrics(lab: LabState, **kwargs: Any) -> Dict[str, Any]:
    """``/metrics`` parsed: family name -> family."""
    text = get(lab, "/metrics", **kwargs).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def sample(lab: LabState, name: str, labels: Optional[Dict[str, str]] = None) -> Optional[float]:
    """The value of sample ``name`` (with ``labels`` included in its labels), or None."""
    for family in metrics(lab).values():
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in (labels or {}).items()):
                return float(s.value)
    return None


def leader(lab: LabState) -> Optional[float]:
    """``trader_is_leader``'s value."""
    return sample(lab, "trader_is_leader")


def sql(lab: LabState, query: str, params: tuple = ()) -> List[tuple]:
    """Rows of ``query`` on the lab's database."""
    url = lab.database_url.replace("trader@", f"trader:{DB_PASSWORD}@", 1)
    with psycopg.connect(url, connect_timeout=3) as conn:
        return list(conn.execute(query, params).fetchall())


def stop_service(lab: LabState, name: str) -> None:
    """Stop lab service ``name`` (its process, by pid)."""
    processes.stop(lab.services[name])
    assert processes.running_pid(lab.services[name]) is None


def start_service(lab: LabState, name: str, timeout: float = 30) -> None:
    """Start lab service ``name`` again from its ServiceSpec and wait until it answers."""
    spec = lab.services[name]
    processes.launch(spec)
    wait_for(lambda: service_answers(spec.check, spec.host, spec.port), timeout, f"{name} to answer")


def order(client_order_id: str, **over: Any) -> Dict[str, Any]:
    """A POST /orders body."""
    body = {"client_order_id": client_order_id, "symbol": "NIFTY", "side": "BUY", "quantity": 50, "price": 22000.0}
    body.update(over)
    return body
