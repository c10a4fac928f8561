"""Postgres outage: the API stays up, POST /orders says 503 + Retry-After, the trader reconnects by itself,
nothing accepted is lost or duplicated."""
from __future__ import annotations

from lab_helpers import get, order, post, sql, start_service, stop_service, wait_for


def test_postgres_outage_and_recovery(lab_factory):
    lab = lab_factory()
    assert post(lab, "/orders", json=order("pg-before")).status_code == 202
    stop_service(lab, "postgres")

    assert get(lab, "/health").status_code == 200
    assert get(lab, "/health").json()["status"] == "healthy"
    refused = post(lab, "/orders", json=order("pg-during"))
    assert refused.status_code == 503
    assert refused.headers.get("Retry-After") == "1"
    assert "Postgres" in refused.json()["detail"] and "nothing was accepted" in refused.json()["detail"]
    assert get(lab, "/orders").status_code == 503
    ready = get(lab, "/ready")
    assert ready.status_code == 200, ready.text  # readiness = leader + heartbeats only (contract)

    start_service(lab, "postgres")
    accepted = wait_for(lambda: (r := post(lab, "/orders", json=order("pg-during"))).status_code == 202 and r, 30,
                        "POST /orders to work again")
    assert accepted.json()["duplicate"] is False
    again = post(lab, "/orders", json=order("pg-during"))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert post(lab, "/orders", json=order("pg-after")).status_code == 202

    assert sql(lab, "SELECT client_order_id, count(*) FROM orders GROUP BY 1 HAVING count(*) > 1") == []
    assert sorted(r[0] for r in sql(lab, "SELECT client_order_id FROM orders")) == ["pg-after", "pg-before", "pg-during"]
    wait_for(lambda: sql(lab, "SELECT count(*) FROM orders WHERE status = 'COMPLETE'") == [(3,)], 20,
             "all three orders to fill")
    assert get(lab, "/ready").status_code == 200
