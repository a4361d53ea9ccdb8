"""`azure-servicemanagement-legacy` authenticating the way it does natively: a management certificate.

`ServiceManagementService(sub, cert_file=both.pem, host=...)` builds its own `requests.Session` with
`session.cert = both.pem` (real-clients.md §C1), so the test CA reaches it through `REQUESTS_CA_BUNDLE` (set
for these tests only). The certificate is registered first with `service.admin.register_certificate`, as
`classic2arm cert create` does; an unregistered certificate, or one registered to another subscription, is
refused and the library raises."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from live import OTHER_SUB, SUB, LiveServer

from classic2arm.domain import identity as ids

sm = pytest.importorskip("azure.servicemanagement")
from azure.common import AzureHttpError  # noqa: E402 - azure-common comes with the package above


def native_client(live: LiveServer, both: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The client exactly as a user builds it: no session of ours, the library's defaults (https)."""
    assert live.ca is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(live.ca))
    for proxy in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    client = sm.ServiceManagementService(SUB, cert_file=str(both), host=live.host)
    assert client._httpclient.protocol == "https"
    session = client._httpclient.request_session
    assert session is not None and session.cert == str(both) and "Authorization" not in session.headers
    live.sessions.append(session)  # closed when the server stops
    return client


def test_registered_management_certificate_reads_and_validates(live: LiveServer, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cert = live.management_certificate(tmp_path / "mine", SUB)
    assert cert.thumbprint is not None and len(cert.thumbprint) == 40
    client = native_client(live, cert.both, monkeypatch)
    with live.ctx.store.read() as tx:
        services = {r.name for r in tx.resources.query(SUB, types=[ids.T_HOSTED_SERVICE])}
        vnet = sorted(r.name for r in tx.resources.query(SUB, types=[ids.T_VNET]))[0]
    assert {hs.service_name for hs in client.list_hosted_services()} == services
    sub = client.get_subscription()
    assert sub.subscription_id == SUB and sub.subscription_status == "Active"
    assert "solostore" in {a.service_name for a in client.list_storage_accounts()}
    assert client.get_storage_account_keys("solostore").storage_service_keys.primary == "cHJpbWFyeQ=="
    assert vnet in {s.name for s in client.list_virtual_network_sites()}
    resp = client.perform_post(f"/{SUB}/services/networking/virtualnetwork/{vnet}/migration?comp=validate", None,
                               x_ms_version="2016-07-01")
    assert resp.status == 200 and b"<ValidationMessages" in resp.body
    request_id = dict(resp.headers)["x-ms-request-id"]
    assert client.get_operation_status(request_id).status == "Succeeded"


def _refused(call: Callable[[], Any]) -> int | None:
    """The status the library raised with (None: refused at the TLS layer, before any HTTP status).
    (try/except rather than pytest.raises: a kept traceback would keep the client's TLS connection open.)"""
    try:
        call()
    except requests.exceptions.ConnectionError:  # SSLError, or a reset (TLS 1.3 refuses after the handshake)
        return None
    except AzureHttpError as exc:
        assert SUB not in str(exc) and OTHER_SUB not in str(exc)
        return int(exc.status_code)
    raise AssertionError("the call was not refused")


def test_unregistered_certificate_is_refused(live: LiveServer, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    stranger = live.management_certificate(tmp_path / "stranger", register=False)
    client = native_client(live, stranger.both, monkeypatch)
    status = _refused(client.list_hosted_services)
    # "any" client-cert trust (the default): the handshake passes, the app refuses the unknown thumbprint
    assert status == (403 if live.any_client_certificate else None)
    assert _refused(lambda: client.perform_post(
        f"/{SUB}/services/storageservices/solostore/migration?comp=validate", None, x_ms_version="2016-03-01")) \
        == status


def test_another_subscriptions_certificate_is_refused(live: LiveServer, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = live.management_certificate(tmp_path / "theirs", OTHER_SUB)
    client = native_client(live, theirs.both, monkeypatch)
    assert _refused(client.list_hosted_services) == 403
    assert _refused(client.get_subscription) == 403
