"""`prometheus_query` sends the credentials it is given (basic auth from the URL, a bearer token from the
``PROMETHEUS_TOKEN`` secret) and never writes them into an error."""
import base64

import pytest

from chaosaitrapp.errors import MetricsError
from chaosaitrapp.metrics.probes import prometheus_query

from .fakeapi import FakeApi

VECTOR = {"status": "success", "data": {"resultType": "vector",
                                        "result": [{"metric": {"__name__": "up"}, "value": [0, "1"]}]}}


def test_basic_auth_from_the_url_and_a_bearer_token_from_the_secret():
    with FakeApi({("GET", "/api/v1/query"): (200, VECTOR)}) as api:
        host = api.url.split("://", 1)[1]
        found = prometheus_query("up", {"prometheus_url": f"http://reader:s3cret-pw@{host}"})
        assert found == [{"metric": {"__name__": "up"}, "value": 1.0}]
        basic = base64.b64encode(b"reader:s3cret-pw").decode()
        assert api.seen[-1][2].get("Authorization") == f"Basic {basic}"
        prometheus_query("up", {"prometheus_url": api.url}, {"prometheus": {"prometheus_token": "tok-123456789"}})
        assert api.seen[-1][2].get("Authorization") == "Bearer tok-123456789"


def test_a_refusal_names_the_server_not_the_credentials():
    with FakeApi({("GET", "/api/v1/query"): (401, {"status": "error", "error": "unauthorized"})}) as api:
        host = api.url.split("://", 1)[1]
        with pytest.raises(MetricsError) as err:
            prometheus_query("up", {"prometheus_url": f"http://reader:s3cret-pw@{host}"},
                             {"prometheus": {"prometheus_token": "tok-123456789"}})
    assert host in str(err.value) and "s3cret-pw" not in str(err.value) and "tok-123456789" not in str(err.value)
