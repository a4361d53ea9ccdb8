"""Credentials for the HTTP APIs: `classic2arm token create`, `classic2arm cert create|register` and
`classic2arm sp create` (a service principal the Entra ID stand-in logs in: `az login --service-principal`).

A token is printed once and stored only hashed; a management certificate is registered by thumbprint
(plus its PEM, which a TLS server trusts). Neither is ever logged.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import output

if TYPE_CHECKING:
    from ..service.context import AppContext

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
SubOpt = Annotated[str | None, typer.Option("--subscription", help="Subscription id (default: the only one in "
                                                                   "the store).")]


def _subscription(ctx: AppContext, given: str | None) -> str:
    return given or ctx.chosen_subscription()


def _write(path: Path, data: bytes, private: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def register(app: typer.Typer, get_ctx: Callable[[], AppContext], get_db: Callable[[], str | None]) -> None:
    del get_db
    token_app = typer.Typer(no_args_is_help=True, help="Bearer tokens (ASM and ARM APIs).")
    cert_app = typer.Typer(no_args_is_help=True, help="Management certificates (ASM API over HTTPS).")
    app.add_typer(token_app, name="token")
    app.add_typer(cert_app, name="cert")
    sp_app = typer.Typer(no_args_is_help=True, help="Service principals (log in through the Entra ID stand-in, "
                                                    "e.g. az login --service-principal).")
    app.add_typer(sp_app, name="sp")

    @sp_app.command("create")
    def sp_create(subscription: SubOpt = None, as_json: JsonOpt = False) -> None:
        """Register a service principal of a subscription: prints its appId, password (shown only this once) and
        tenant, as `az ad sp create-for-rbac` does."""
        from ..service import entra

        ctx = get_ctx()
        sp = entra.create_service_principal(ctx, _subscription(ctx, subscription))
        if as_json:
            output.emit_json(sp.to_json())
            return
        output.key_values("service principal", list(sp.to_json().items()))

    @token_app.command("create")
    def token_create(
        subscription: SubOpt = None,
        expires_in: Annotated[int, typer.Option("--expires-in", min=0, help="Lifetime in seconds (0: never "
                                                                            "expires).")] = 86_400,
        description: Annotated[str, typer.Option("--description", help="A note kept with the token.")] = "",
        as_json: JsonOpt = False,
    ) -> None:
        """Mint a bearer token for a subscription. It is shown only this once."""
        from ..service import credentials

        ctx = get_ctx()
        sub = _subscription(ctx, subscription)
        ttl = credentials.token_lifetime(expires_in) if expires_in else None
        token, expires = credentials.create_token(ctx, sub, ttl, description[:256])
        if as_json:
            output.emit_json({"token": token, "subscription": sub,
                              "expiresOn": expires.isoformat() if expires else None})
            return
        print(token, flush=True)
        output.err.print(f"token for subscription {sub}, "
                         f"{'expires ' + expires.isoformat() if expires else 'never expires'}", highlight=False)

    @cert_app.command("create")
    def cert_create(
        out: Annotated[Path, typer.Option("--out", file_okay=False, help="Directory for cert.pem, key.pem "
                                                                         "and both.pem.")],
        subscription: SubOpt = None,
        days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days it is valid for.")] = 365,
        key_type: Annotated[str, typer.Option("--key-type", help="rsa (RSA-2048, the default: what the classic "
                                                                  "CLI loads) or ec (P-256).")] = "rsa",
        publishsettings: Annotated[Path | None, typer.Option("--publishsettings", dir_okay=False,
                                                             help="Also write a .publishsettings file (schema 2.0) "
                                                                  "for `azure account import`; needs --url.")] = None,
        url: Annotated[str | None, typer.Option("--url", help="The server's URL (as `classic2arm serve` prints it), "
                                                              "the file's ServiceManagementUrl.")] = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Make a self-signed management certificate, write it with its key, and register it."""
        import secrets  # (here, not at the top: it would cost every command-line call ~10 ms)

        from ..service import admin, credentials

        if key_type not in ("rsa", "ec"):
            raise typer.BadParameter("must be rsa or ec", param_hint="--key-type")
        if publishsettings is not None and not url:
            raise typer.BadParameter("--publishsettings needs --url (the server's URL)", param_hint="--url")
        if url is not None and not url.lower().startswith(("https://", "http://")):
            raise typer.BadParameter(f"'{url[:80]}' is not an http(s) URL", param_hint="--url")
        if publishsettings is not None and key_type != "rsa":
            raise typer.BadParameter("a publishsettings file holds an RSA certificate", param_hint="--key-type")
        ctx = get_ctx()
        sub = _subscription(ctx, subscription)
        # a unique subject: in "registered" TLS trust mode OpenSSL looks trusted certificates up by subject
        cert_pem, key_pem = credentials.make_certificate(f"classic2arm {secrets.token_hex(4)} {sub}"[:64], days,
                                                         key_type)
        out.mkdir(parents=True, exist_ok=True)
        _write(out / "cert.pem", cert_pem, private=False)
        _write(out / "key.pem", key_pem, private=True)
        _write(out / "both.pem", cert_pem + key_pem, private=True)
        thumb = admin.register_certificate(ctx, sub, cert_pem, "cert create")
        data = {"thumbprint": thumb, "subscription": sub, "cert": str(out / "cert.pem"),
                "key": str(out / "key.pem"), "both": str(out / "both.pem")}
        if publishsettings is not None and url is not None:
            _write(publishsettings, credentials.publish_settings(cert_pem, key_pem, sub, sub, url.rstrip("/")),
                   private=True)
            data["publishsettings"] = str(publishsettings)
        if as_json:
            output.emit_json(data)
        else:
            output.key_values("management certificate registered", list(data.items()))

    @cert_app.command("register")
    def cert_register(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="PEM certificate (cert+key PEM "
                                                                               "is fine; the key is not read).")],
        subscription: SubOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Register an existing certificate as a management certificate of the subscription."""
        from ..service import admin

        ctx = get_ctx()
        sub = _subscription(ctx, subscription)
        thumb = admin.register_certificate(ctx, sub, file.read_bytes(), f"registered from {file.name}"[:256])
        if as_json:
            output.emit_json({"thumbprint": thumb, "subscription": sub})
        else:
            output.out.print(f"registered {thumb} for subscription {sub}")
