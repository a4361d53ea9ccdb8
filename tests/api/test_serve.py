"""`classic2arm serve` as a real subprocess: the printed line, HTTPS with the printed CA, management
certificates reaching the app, bearer tokens, graceful SIGTERM, and the credential CLI commands."""

from __future__ import annotations

import json
import signal
import ssl
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests

from classic2arm.service import admin, credentials
from classic2arm.service.context import AppContext

WHOAMI = "/admin/whoami"


def test_http_port_zero_prints_a_machine_readable_line(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db, admin=True)
    assert server.base_url.startswith("http://127.0.0.1:")
    assert int(server.base_url.rsplit(":", 1)[1]) > 0
    assert server.ca_path is None
    assert int(server.info["pid"]) == server.pid
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    with server.client(token=token) as c:
        r = c.get(WHOAMI)
    assert r.status_code == 200, r.text
    assert r.json() == {"subscriptionId": api.SAMPLE_SUB, "kind": "token"}
    assert len(r.headers["x-ms-request-id"]) == 32


def test_https_works_with_the_printed_ca_and_fails_without_it(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db, tls=True, admin=True)
    assert server.base_url.startswith("https://127.0.0.1:")
    assert server.ca_path is not None and server.ca_path.is_file()
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    with server.client(token=token) as c:
        assert c.get(WHOAMI).status_code == 200
    # without the CA (system trust only): the handshake fails
    with httpx.Client(verify=ssl.create_default_context(), trust_env=False) as c, pytest.raises(httpx.ConnectError):
        c.get(server.base_url + WHOAMI)
    # requests, as azure-servicemanagement-legacy uses it: trust_env off so REQUESTS_CA_BUNDLE can't win
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.ca_path)
    r = session.get(server.base_url + WHOAMI, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert r.status_code == 200
    plain = requests.Session()
    plain.trust_env = False
    with pytest.raises(requests.exceptions.SSLError):
        plain.get(server.base_url + WHOAMI, timeout=30)
    session.close()
    plain.close()


def test_a_registered_client_certificate_authenticates(api: Any, sample_db: str, start_server, tmp_path: Path) -> None:
    server = start_server(sample_db, tls=True, admin=True)
    cert = api.make_cert(sample_db, api.SAMPLE_SUB, tmp_path / "a")
    with server.client(cert=cert) as c:
        r = c.get(WHOAMI)
        assert r.status_code == 200, r.text
        assert r.json() == {"subscriptionId": api.SAMPLE_SUB, "kind": "certificate"}
        assert c.get(WHOAMI, params={"subscription": api.SAMPLE_SUB}).status_code == 200
        other = c.get(WHOAMI, params={"subscription": api.OTHER_SUB})
    assert other.status_code == 403
    assert api.OTHER_SUB not in other.text
    # the way azure-servicemanagement-legacy sends it: a requests session with a cert+key PEM
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.ca_path)
    session.cert = str(cert.both)
    assert session.get(server.base_url + WHOAMI, timeout=30).json()["kind"] == "certificate"
    session.close()


def test_an_unregistered_client_certificate_is_refused_with_403(api: Any, sample_db: str, start_server,
                                                                tmp_path: Path) -> None:
    server = start_server(sample_db, tls=True, admin=True)
    if server.info.get("client-cert-trust") != "any":
        pytest.skip("this platform can't accept arbitrary client certificates at the TLS layer")
    stranger = api.make_cert(None, api.SAMPLE_SUB, tmp_path / "x", register=False)
    with server.client(cert=stranger) as c:
        r = c.get(WHOAMI)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "ForbiddenError"
    # registering it makes it work at once (the app checks the thumbprint on every request)
    ctx = AppContext.open(sample_db)
    try:
        admin.register_certificate(ctx, api.SAMPLE_SUB, stranger.cert.read_bytes())
    finally:
        ctx.close()
    with server.client(cert=stranger) as c:
        assert c.get(WHOAMI).status_code == 200


def test_registered_trust_mode_trusts_only_registered_certificates(api: Any, sample_db: str, start_server,
                                                                   tmp_path: Path) -> None:
    before = api.make_cert(sample_db, api.SAMPLE_SUB, tmp_path / "before")
    server = start_server(sample_db, tls=True, admin=True,
                                         env={"CLASSIC2ARM_TLS_CLIENT_TRUST": "registered"})
    assert server.info["client-cert-trust"] == "registered"
    with server.client(cert=before) as c:
        assert c.get(WHOAMI).json()["kind"] == "certificate"
    stranger = api.make_cert(None, api.SAMPLE_SUB, tmp_path / "x", register=False)
    with server.client(cert=stranger) as c, pytest.raises(httpx.HTTPError):
        c.get(WHOAMI)  # not trusted: the handshake fails
    # a certificate registered while the server runs is trusted after the next refresh (~2 s)
    later = api.make_cert(sample_db, api.SAMPLE_SUB, tmp_path / "later")

    def works() -> bool:
        try:
            with server.client(cert=later) as c:
                return c.get(WHOAMI).status_code == 200
        except httpx.HTTPError:
            return False

    api.wait_for(works, timeout=15, interval=0.3, what="the new certificate to be trusted")


def test_bearer_tokens(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db, tls=True, admin=True)
    good = api.mint_token(sample_db, api.SAMPLE_SUB)
    expired = api.mint_token(sample_db, api.SAMPLE_SUB, ttl=timedelta(seconds=-1))
    other = api.mint_token(sample_db, api.OTHER_SUB)
    with server.client() as c:
        assert c.get(WHOAMI, headers={"Authorization": f"Bearer {good}"}).status_code == 200
        r = c.get(WHOAMI, headers={"Authorization": f"Bearer {expired}"})
        assert r.status_code == 401 and expired not in r.text
        garbage = "c2a.not-a-real-token-" + "x" * 40
        r = c.get(WHOAMI, headers={"Authorization": f"Bearer {garbage}"})
        assert r.status_code == 401 and garbage not in r.text
        assert c.get(WHOAMI, headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
        assert c.get(WHOAMI).status_code == 401
        r = c.get(WHOAMI, params={"subscription": api.SAMPLE_SUB}, headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 403 and api.SAMPLE_SUB not in r.text and other not in r.text
    log = server.log_text()
    for secret in (good, expired, other, garbage):
        assert secret not in log


def test_sigterm_stops_the_server_gracefully(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db, admin=True)
    with server.client(token=api.mint_token(sample_db, api.SAMPLE_SUB)) as c:
        assert c.get(WHOAMI).status_code == 200
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=20) == 0
    log = server.log_text()
    assert "Finished server process" in log and "GET /admin/whoami" in log  # access lines go to stderr
    assert all(line.startswith("classic2arm: ") for line in server.stdout_lines), server.stdout_lines


def test_two_workers_share_the_socket(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db, admin=True, args=("--workers", "2"))
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    with server.client(token=token) as c:
        for _ in range(10):
            assert c.get(WHOAMI).status_code == 200
    assert server.terminate() == 0


def test_admin_api_is_off_without_admin(api: Any, sample_db: str, start_server) -> None:
    server = start_server(sample_db)
    with server.client() as c:
        assert c.post("/admin/reset").status_code == 404


# --------------------------------------------------------------------------- credential commands


def test_token_create_cli(api: Any, sample_db: str) -> None:
    res = api.run_cli(sample_db, "token", "create", "--subscription", api.SAMPLE_SUB, "--expires-in", "60", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["subscription"] == api.SAMPLE_SUB and data["token"].startswith("c2a.")
    ctx = AppContext.open(sample_db)
    try:
        who = credentials.verify_token(ctx, data["token"])
    finally:
        ctx.close()
    assert who is not None and who.subscription_id == api.SAMPLE_SUB
    plain = api.run_cli(sample_db, "token", "create", "--subscription", api.SAMPLE_SUB)
    assert plain.returncode == 0 and plain.stdout.strip().startswith("c2a.") and len(plain.stdout.split()) == 1
    missing = api.run_cli(sample_db, "token", "create", "--subscription", "nope")
    assert missing.returncode == 1 and "nope" in missing.stderr


def test_cert_create_and_register_cli(api: Any, sample_db: str, start_server, tmp_path: Path) -> None:
    out = tmp_path / "mgmt"
    res = api.run_cli(sample_db, "cert", "create", "--subscription", api.SAMPLE_SUB, "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {p.name for p in out.iterdir()} == {"cert.pem", "key.pem", "both.pem"}
    assert (out / "key.pem").stat().st_mode & 0o077 == 0
    both = (out / "both.pem").read_text()
    assert "BEGIN CERTIFICATE" in both and "PRIVATE KEY" in both
    assert "PRIVATE KEY" not in res.stdout
    server = start_server(sample_db, tls=True, admin=True)
    session = requests.Session()
    session.trust_env = False
    session.verify = str(server.ca_path)
    session.cert = str(out / "both.pem")
    r = session.get(server.base_url + WHOAMI, timeout=30)
    session.close()
    assert r.status_code == 200 and r.json()["kind"] == "certificate"
    # cert register: an existing certificate for the other subscription
    other = api.make_cert(None, api.OTHER_SUB, tmp_path / "other", register=False)
    res = api.run_cli(sample_db, "cert", "register", "--subscription", api.OTHER_SUB, str(other.cert), "--json")
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)["thumbprint"]) == 40

    def registered() -> bool:
        with server.client(cert=other) as c:
            return c.get(WHOAMI).json().get("subscriptionId") == api.OTHER_SUB

    api.wait_for(registered, timeout=15, interval=0.3, what="the registered certificate")
    bad = api.run_cli(sample_db, "cert", "register", "--subscription", api.SAMPLE_SUB, str(other.key))
    assert bad.returncode == 1 and "not a PEM X.509 certificate" in bad.stderr
    assert data["thumbprint"] != json.loads(res.stdout)["thumbprint"]


def test_a_given_certificate_and_key(api: Any, sample_db: str, start_server, tmp_path: Path) -> None:
    from classic2arm.api import tls

    files = tls.throwaway_ca(tmp_path / "own")
    assert files.ca is not None
    server = start_server(sample_db, admin=True, args=("--cert", str(files.cert), "--key", str(files.key)))
    assert server.base_url.startswith("https://") and server.ca_path is None  # no generated CA to print
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    with httpx.Client(verify=ssl.create_default_context(cafile=str(files.ca)), trust_env=False) as c:
        r = c.get(server.base_url + WHOAMI, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    # the generated CA is reused by the next start (clients keep trusting it)
    assert tls.throwaway_ca(tmp_path / "own").ca.read_bytes() == files.ca.read_bytes()
