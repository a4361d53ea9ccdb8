"""Issue 11 item 7: a server whose database file vanishes stops acknowledging writes (503 with the reason, on
ARM, ASM and the admin API) instead of writing to a deleted file; a `?mode=ro` store serves reads and refuses
writes with a 503 saying so; nothing of it is a 500 or a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NS = "http://schemas.microsoft.com/windowsazure"
Q = {"api-version": "2024-07-01"}
ASM = {"x-ms-version": "2015-04-01", "Content-Type": "application/xml"}


def _hosted_service(name: str) -> bytes:
    return (f'<CreateHostedService xmlns="{NS}"><ServiceName>{name}</ServiceName><Label>bA==</Label>'
            f'<Location>West US</Location></CreateHostedService>').encode()


def _unavailable(r: Any, *words: str) -> None:
    assert r.status_code == 503, (r.status_code, r.text[:500])
    assert "The store is unavailable" in r.text and all(w in r.text for w in words), r.text[:500]


def test_a_deleted_database_file_refuses_writes(api: Any, sample_db: str, start_server: Any) -> None:
    server = start_server(sample_db, admin=True)
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    sub = api.SAMPLE_SUB
    with server.client(token=token) as c, server.client(admin=True) as admin:
        ok = c.put(f"/subscriptions/{sub}/resourcegroups/before-rg", params=Q, json={"location": "westus"})
        assert ok.status_code in (200, 201), ok.text
        path = Path(sample_db.removeprefix("sqlite:///"))
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            (path.parent / name).unlink(missing_ok=True)
        _unavailable(c.put(f"/subscriptions/{sub}/resourcegroups/after-rg", params=Q, json={"location": "westus"}),
                     "deleted or replaced", str(path))
        _unavailable(c.post(f"/{sub}/services/hostedservices", content=_hosted_service("afterhs"), headers=ASM),
                     "deleted or replaced")
        _unavailable(admin.put("/admin/clock", json={"mode": "fixed", "at": "2024-09-01T00:00:00Z"}),
                     "deleted or replaced")
    assert server.proc.poll() is None
    assert "Traceback" not in server.log_text()


def test_a_read_only_store_serves_reads_and_refuses_writes(api: Any, sample_db: str, start_server: Any) -> None:
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    server = start_server(sample_db + "?mode=ro", admin=True)
    sub = api.SAMPLE_SUB
    with server.client(token=token) as c, server.client(admin=True) as admin:
        got = c.get(f"/subscriptions/{sub}/resources", params=Q)
        assert got.status_code == 200 and got.json()["value"], got.text[:300]
        _unavailable(c.put(f"/subscriptions/{sub}/resourcegroups/ro-rg", params=Q, json={"location": "westus"}),
                     "read-only")
        _unavailable(c.post(f"/{sub}/services/hostedservices", content=_hosted_service("rohs"), headers=ASM),
                     "read-only")
        _unavailable(admin.put("/admin/clock", json={"mode": "fixed", "at": "2024-09-01T00:00:00Z"}), "read-only")
        assert c.get(f"/subscriptions/{sub}/resourcegroups/ro-rg", params=Q).status_code == 404
    assert server.proc.poll() is None
    assert "Traceback" not in server.log_text()
