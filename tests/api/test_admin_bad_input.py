"""Issue 11: the admin API refuses absurd token lifetimes, fault counts and deeply nested documents with its
JSON error shape (a 400, never a 500 or a reset connection), and stores nothing for them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def admin_server(api: Any, sample_db: str, start_server: Any) -> Any:
    return start_server(sample_db, admin=True)


def _refused(r: Any, code: str) -> str:
    assert r.status_code == 400, (r.status_code, r.text[:300])
    error = r.json()["error"]
    assert error["code"] == code, error
    return str(error["message"])


def test_token_lifetimes(api: Any, admin_server: Any) -> None:
    sub = api.SAMPLE_SUB
    with admin_server.client(admin=True) as c:
        for raw in (b"1e20", b"-1", b"0", b"-0.5", b"99999999999999999999", b"1e400"):
            body = b'{"subscription": "' + sub.encode() + b'", "expiresIn": ' + raw + b"}"
            r = c.post("/admin/tokens", content=body, headers={"content-type": "application/json"})
            assert "token lifetime" in _refused(r, "InvalidTokenLifetime"), raw
        for raw in (b"NaN", b"Infinity", b"-Infinity"):
            body = b'{"subscription": "' + sub.encode() + b'", "expiresIn": ' + raw + b"}"
            r = c.post("/admin/tokens", content=body, headers={"content-type": "application/json"})
            assert raw.decode().lstrip("-") in _refused(r, "InvalidJson"), raw
        ok = c.post("/admin/tokens", json={"subscription": sub, "expiresIn": 0.5})
        assert ok.status_code == 200 and ok.json()["expiresOn"]
        assert c.post("/admin/tokens", json={"subscription": sub, "expiresIn": None}).json()["expiresOn"] is None
    assert admin_server.proc.poll() is None and "Traceback" not in admin_server.log_text()


def test_fault_counts(admin_server: Any) -> None:
    with admin_server.client(admin=True) as c:
        for times in (10**26, -1, 1_000_001, 1.5, True, "3"):
            r = c.put("/admin/faults", json={"step": "prepare.validate", "times": times})
            assert "times" in _refused(r, "InvalidFault"), times
            r = c.put("/admin/faults", json={"faults": [{"step": "prepare.lock", "times": times}]})
            _refused(r, "InvalidFault")
        assert c.get("/admin/faults").json()["faults"] == {}
        ok = c.put("/admin/faults", json={"step": "prepare.validate", "times": 1_000_000})
        assert ok.status_code == 200 and ok.json()["faults"]["prepare.validate"]["times"] == 1_000_000


def test_deeply_nested_documents(admin_server: Any) -> None:
    depth = 50_000
    with admin_server.client(admin=True) as c:
        deep_yaml = b"classic2arm: estate/v1\nsubscription: " + b"[" * depth + b"]" * depth + b"\n"
        r = c.post("/admin/import", content=deep_yaml, params={"name": "deep.yaml"})
        assert "nested more than" in _refused(r, "InvalidInput")
        block = b"classic2arm: estate/v1\nx:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 2000))
        assert "nested more than" in _refused(c.post("/admin/import", content=block), "InvalidInput")
        deep_json = b'{"classic2arm": "estate/v1", "x": ' + b"[" * depth + b"]" * depth + b"}"
        _refused(c.post("/admin/import", content=deep_json, params={"name": "deep.json"}), "InvalidInput")
        nested = b'{"step": ' + b"[" * depth + b"]" * depth + b"}"
        assert "nested too deeply" in _refused(c.put("/admin/faults", content=nested), "InvalidJson")
        r = c.put("/admin/clock", content=b'{"at": ' + b"[" * depth + b"]" * depth + b"}")
        _refused(r, "InvalidJson")
    assert admin_server.proc.poll() is None and "Traceback" not in admin_server.log_text()
