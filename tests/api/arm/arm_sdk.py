"""Building the real azure-mgmt-* clients against a test server.

Over plain HTTP the stock ARM bearer policy refuses to send a token (non-TLS), so a small SansIO policy
adds `Authorization: Bearer <token>` instead (real-clients.md C3). Over HTTPS the stock policy is used and
the throwaway CA is trusted with `connection_verify`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from arm_env import Env
from azure.core.credentials import AccessToken
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

T = TypeVar("T")


class StaticToken:
    """A TokenCredential handing out the token the credentials service minted."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, int(time.time()) + 3600)


class BearerOverHttp(SansIOHTTPPolicy):  # type: ignore[type-arg]
    def __init__(self, credential: StaticToken) -> None:
        self.credential = credential

    def on_request(self, request: PipelineRequest) -> None:  # type: ignore[type-arg]
        request.http_request.headers["Authorization"] = f"Bearer {self.credential.get_token().token}"


def client_kwargs(env: Env, token: str | None = None) -> dict[str, Any]:
    cred = StaticToken(token or env.token)
    kwargs: dict[str, Any] = {"credential": cred, "base_url": env.url, "polling_interval": 0}
    if env.url.startswith("https://"):
        kwargs["connection_verify"] = str(env.ca_path)
    else:
        kwargs["authentication_policy"] = BearerOverHttp(cred)
    return kwargs


def make(cls: Callable[..., T], env: Env, *args: Any, token: str | None = None) -> T:
    kw = client_kwargs(env, token)
    return cls(kw.pop("credential"), *args, **kw)
