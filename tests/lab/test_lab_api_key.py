"""API key: 401 without it on every protected endpoint, open endpoints stay open, the key never leaks."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

KEY_PROTECTED = [("GET", "/ready"), ("GET", "/state"), ("POST", "/pause"), ("POST", "/resume"),
                 ("POST", "/flatten"), ("POST", "/mode"), ("GET", "/orders"), ("POST", "/orders"),
                 ("POST", "/market-data/restart")]
OPEN = ["/health", "/metrics", "/docs", "/openapi.json", "/"]


@pytest.fixture(scope="module")
def keyed_lab():
    import shutil

    from chaosaitrapp.lab.runtime import lab_down
    from chaosaitrapp.testing.lab import make_lab_dir, start_lab

    key = "key-" + os.urandom(12).hex()
    directory = make_lab_dir()
    try:
        yield start_lab(directory, api_key=key), key
    finally:
        lab_down(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.parametrize("method,path", KEY_PROTECTED)
def test_protected_endpoints_need_the_key(keyed_lab, method, path):
    lab, key = keyed_lab
    for headers, params in [({}, {}), ({"X-API-Key": "wrong"}, {}), ({}, {"api_key": "wrong"})]:
        r = requests.request(method, lab.api + path, headers=headers, params=params, timeout=5)
        assert r.status_code == 401, (method, path, r.status_code)
        assert r.json() == {"detail": "Invalid or missing API Key"}


def test_key_in_header_or_query(keyed_lab):
    lab, key = keyed_lab
    assert requests.get(lab.api + "/ready", headers={"X-API-Key": key}, timeout=5).status_code == 200
    assert requests.get(lab.api + "/state", params={"api_key": key}, timeout=5).status_code == 200
    r = requests.post(lab.api + "/pause", headers={"X-API-Key": key}, timeout=5)
    assert r.json() == {"status": "paused"}
    assert requests.post(lab.api + "/resume", params={"api_key": key}, timeout=5).json() == {"status": "resumed"}


@pytest.mark.parametrize("path", OPEN)
def test_open_endpoints_need_no_key(keyed_lab, path):
    lab, _ = keyed_lab
    assert requests.get(lab.api + path, timeout=5).status_code == 200


def test_key_is_never_written(keyed_lab):
    lab, key = keyed_lab
    requests.get(lab.api + "/state", params={"api_key": key}, timeout=5)
    requests.get(lab.api + "/state", params={"api_key": "wrong"}, timeout=5)
    for path in Path(lab.lab_dir).rglob("*"):
        if path.is_file() and path.suffix in (".log", ".json", ".pid"):
            assert key not in path.read_text(errors="replace"), f"API key leaked into {path}"
