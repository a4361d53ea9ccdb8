"""An Entra ID (Azure AD) stand-in, so that clients which log in first (the `az` CLI through MSAL, azure-identity's
ClientSecretCredential) can be pointed at classic2arm: service principals registered to a subscription, the
OpenID discovery document of the subscription's tenant, and the client-credentials grant, which issues an
ordinary classic2arm bearer token of that subscription (`credentials.create_token`).

Each subscription is its own tenant (`identity.tenant_id`), so a service principal sees nothing of another
subscription: asked for in another tenant it does not exist there (AADSTS700016). Secrets are shown once and
stored hashed, like tokens. Errors have AAD's shape (`error`, `error_description` starting `AADSTSnnn:`,
`error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from ..domain import identity as ids
from . import credentials, subscriptions
from .context import AppContext

APP_KIND: Final = "sp-app"
SECRET_KIND: Final = "sp-secret"
TOKEN_LIFETIME: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    app_id: str
    password: str  # shown once
    tenant: str
    subscription_id: str

    def to_json(self) -> dict[str, str]:
        return {"appId": self.app_id, "password": self.password, "tenant": self.tenant,
                "subscription": self.subscription_id, "displayName": f"classic2arm-{self.app_id[:8]}"}


class EntraError(Exception):
    """An AAD error response: HTTP status, OAuth error, AADSTS code and its text."""

    def __init__(self, status: int, error: str, code: int, text: str) -> None:
        super().__init__(text)
        self.status, self.error, self.code, self.text = status, error, code, text

    def to_json(self, correlation_id: str | None = None) -> dict[str, Any]:
        trace, corr = str(uuid.uuid4()), correlation_id or str(uuid.uuid4())
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {"error": self.error,
                "error_description": f"AADSTS{self.code}: {self.text} Trace ID: {trace} Correlation ID: {corr} "
                                     f"Timestamp: {now}",
                "error_codes": [self.code], "timestamp": now, "trace_id": trace, "correlation_id": corr,
                "error_uri": f"https://login.microsoftonline.com/error?code={self.code}"}


def _app_key(app_id: str) -> str:
    return hashlib.sha256(f"{APP_KIND}:{app_id.lower()}".encode()).hexdigest()


def _secret_key(app_id: str, secret: str) -> str:
    return hashlib.sha256(f"{SECRET_KIND}:{app_id.lower()}:{secret}".encode()).hexdigest()


def create_service_principal(ctx: AppContext, subscription_id: str) -> ServicePrincipal:
    """Register a service principal (an app id and one client secret) that may act on the subscription."""
    app_id, password = str(uuid.uuid4()), secrets.token_urlsafe(30)
    with ctx.store.tx() as tx:
        subscriptions.require(tx, subscription_id)
        sub = subscription_id
        tx.credentials.add(_app_key(app_id), sub, APP_KIND, None, f"service principal {app_id}")
        tx.credentials.add(_secret_key(app_id, password), sub, SECRET_KIND, None, f"secret of {app_id}")
    return ServicePrincipal(app_id, password, ids.tenant_id(sub), sub)


def subscription_of_tenant(ctx: AppContext, tenant: str) -> str:
    """The subscription whose tenant this is (AADSTS90002 when none is)."""
    with ctx.store.read() as tx:
        subs = [str(d["id"]) for d in tx.subscriptions.all()]
    for sub in subs:
        if ids.tenant_id(sub) == tenant.strip().lower():
            return sub
    raise EntraError(400, "invalid_request", 90002,
                     f"Tenant '{tenant[:64]}' not found. Check to make sure you have the correct tenant ID and are "
                     "signing into the correct cloud.")


def openid_configuration(ctx: AppContext, tenant: str, base_url: str) -> dict[str, Any]:
    """`/{tenant}/v2.0/.well-known/openid-configuration` of the server at `base_url`."""
    subscription_of_tenant(ctx, tenant)
    root = f"{base_url}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": f"{root}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{root}/v2.0",
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
        "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
        "grant_types_supported": ["client_credentials"],
        "tenant_region_scope": "NA", "cloud_instance_name": "classic2arm",
    }


def token(ctx: AppContext, tenant: str, form: dict[str, str]) -> dict[str, Any]:
    """The client-credentials grant (`/{tenant}/oauth2/v2.0/token`): a classic2arm token of the subscription."""
    sub = subscription_of_tenant(ctx, tenant)
    grant = form.get("grant_type", "")
    if not grant:
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'grant_type'.")
    if grant != "client_credentials":
        raise EntraError(400, "unsupported_grant_type", 70003,
                         f"The app requested an unsupported grant type '{grant[:40]}'; this stand-in serves "
                         "client_credentials only.")
    app_id, secret = form.get("client_id", "").strip(), form.get("client_secret", "")
    if not app_id:
        raise EntraError(400, "invalid_request", 900144,
                         "The request body must contain the following parameter: 'client_id'.")
    if not secret:
        raise EntraError(401, "invalid_client", 7000218,
                         "The request body must contain the following parameter: 'client_assertion' or "
                         "'client_secret'.")
    with ctx.store.read() as tx:
        app = tx.credentials.get(_app_key(app_id))
        given = tx.credentials.get(_secret_key(app_id, secret)) if len(secret) <= 512 else None
    if app is None or app["kind"] != APP_KIND or app["subscription_id"] != sub:
        raise EntraError(400, "unauthorized_client", 700016,
                         f"Application with identifier '{app_id[:64]}' was not found in the directory '{tenant}'. "
                         "This can happen if the application has not been installed by the administrator of the "
                         "tenant or consented to by any user in the tenant.")
    if given is None or given["kind"] != SECRET_KIND:
        raise EntraError(401, "invalid_client", 7000215,
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                         f"secret value, not the client secret ID, for a secret added to app '{app_id}'.")
    issued, _ = credentials.create_token(ctx, sub, TOKEN_LIFETIME, f"Entra ID token of {app_id}")
    seconds = int(TOKEN_LIFETIME.total_seconds())
    return {"token_type": "Bearer", "expires_in": seconds, "ext_expires_in": seconds, "access_token": issued}


def tenants(sub: str) -> list[dict[str, Any]]:
    """`GET /tenants`: the caller's tenant."""
    tenant = ids.tenant_id(sub)
    return [{"id": f"/tenants/{tenant}", "tenantId": tenant, "tenantCategory": "Home", "countryCode": "US",
             "displayName": f"classic2arm {sub}", "domains": [f"c2a{tenant[:8]}.onmicrosoft.com"],
             "defaultDomain": f"c2a{tenant[:8]}.onmicrosoft.com", "tenantType": "AAD"}]


def metadata_endpoints(base_url: str) -> dict[str, Any]:
    """`GET /metadata/endpoints` (what `az cloud register --endpoint-resource-manager` reads): this server is the
    resource manager and the login endpoint; its audience is its own URL."""
    return {
        "name": "classic2arm",
        "portal": base_url, "resourceManager": f"{base_url}/", "gallery": f"{base_url}/",
        "authentication": {"loginEndpoint": f"{base_url}/", "audiences": [f"{base_url}/"],
                           "tenant": "common", "identityProvider": "AAD"},
        "graphAudience": f"{base_url}/", "graph": f"{base_url}/", "microsoftGraphResourceId": f"{base_url}/",
        "media": f"{base_url}/", "sqlManagement": f"{base_url}/", "batch": f"{base_url}/",
        "activeDirectoryDataLake": f"{base_url}/", "logAnalyticsResourceId": f"{base_url}/",
        "suffixes": {"storage": "core.windows.net", "keyVaultDns": "vault.azure.net",
                     "sqlServerHostname": "database.windows.net", "acrLoginServer": "azurecr.io"},
    }
