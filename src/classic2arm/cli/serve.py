"""`classic2arm serve`: the ASM and ARM APIs (and, with --admin, the admin API) over HTTP or HTTPS."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..api.limit_settings import Limits

if TYPE_CHECKING:
    from ..service.context import AppContext

ADMIN_TOKEN_ENV = "CLASSIC2ARM_ADMIN_TOKEN"
_DEFAULTS = Limits()
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's


def register(app: typer.Typer, get_ctx: Callable[[], AppContext], get_db: Callable[[], str | None]) -> None:
    # `serve` opens its own store in each server process (after forking, with --workers); `console` uses the
    # CLI's context only to mint the sign-in token.

    @app.command("serve")
    def serve_(
        host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int | None, typer.Option("--port", min=0, max=65535,
                                                 help="Port (default 8443 with TLS, 8080 without; 0 picks a "
                                                      "free one).")] = None,
        use_tls: Annotated[bool, typer.Option("--tls", help="Serve HTTPS with a generated CA and server "
                                                            "certificate (or --cert/--key).")] = False,
        cert: Annotated[Path | None, typer.Option("--cert", exists=True, dir_okay=False,
                                                  help="Server certificate (PEM; implies --tls).")] = None,
        key: Annotated[Path | None, typer.Option("--key", exists=True, dir_okay=False,
                                                 help="Its private key (PEM), if not in --cert.")] = None,
        tls_dir: Annotated[Path | None, typer.Option("--tls-dir", file_okay=False,
                                                     help="Where to keep the generated CA (default: next to "
                                                          "a SQLite database, else a temp dir).")] = None,
        admin: Annotated[bool, typer.Option("--admin", help="Mount the admin API under /admin.")] = False,
        admin_token: Annotated[str | None, typer.Option("--admin-token", envvar=ADMIN_TOKEN_ENV,
                                                        help="Admin API token (default: generated and "
                                                             "printed).")] = None,
        workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                             help="Worker processes sharing the socket.")] = 1,
        log_level: Annotated[str, typer.Option("--log-level", help="|".join(LOG_LEVELS))]
        = "info",
        max_connections: Annotated[int, typer.Option("--max-connections", min=2, max=1_000_000,
                                                     help="Open connections a worker serves; requests beyond "
                                                          "get 503.")] = _DEFAULTS.max_connections,
        header_timeout: Annotated[float, typer.Option("--header-timeout", min=0.1, max=3600,
                                                      help="Seconds a request's headers may take (408 and "
                                                           "close).")] = _DEFAULTS.header_timeout,
        body_timeout: Annotated[float, typer.Option("--body-timeout", min=0.1, max=3600,
                                                    help="Seconds a request's body may take once read (408 "
                                                         "and close).")] = _DEFAULTS.body_timeout,
    ) -> None:
        """Serve the classic (ASM) and ARM APIs over the store; prints where it listens (and the CA)."""
        from ..api import server
        from ..service.context import db_url_from_env

        if log_level.lower() not in LOG_LEVELS:
            raise typer.BadParameter(f"'{log_level}' is not one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")
        if not host.strip():  # (the socket would take it as every address, and the URL shown would be broken)
            raise typer.BadParameter("give an address, e.g. 127.0.0.1, or 0.0.0.0 for every one", param_hint="--host")
        if key is not None and cert is None:
            raise typer.BadParameter("--key needs --cert", param_hint="--key")
        if admin_token is not None and len(admin_token) < 8:
            raise typer.BadParameter("must be at least 8 characters", param_hint="--admin-token")
        opts = server.ServeOptions(
            db_url=db_url_from_env(get_db()), host=host, port=port, tls=use_tls or cert is not None,
            certfile=cert, keyfile=key, tls_dir=tls_dir, admin=admin, admin_token=admin_token or None,
            workers=workers, log_level=log_level.lower(),
            limits=Limits(max_connections=max_connections, header_timeout=header_timeout, body_timeout=body_timeout))
        code = server.serve(opts)
        if code:
            raise typer.Exit(code)

    @app.command("console")
    def console_(
        token: Annotated[bool, typer.Option("--token/--no-token",
                                            help="Create a sign-in token (a day long) for the subscription and "
                                                 "print it.")] = True,
        log_level: Annotated[str, typer.Option("--log-level", help="|".join(LOG_LEVELS))] = "warning",
    ) -> None:
        """Open the web console: a server on a free loopback port; prints its URL (and a sign-in token)."""
        from datetime import timedelta

        from ..api import server
        from ..service import credentials
        from ..service.context import db_url_from_env

        if log_level.lower() not in LOG_LEVELS:
            raise typer.BadParameter(f"'{log_level}' is not one of {', '.join(LOG_LEVELS)}", param_hint="--log-level")
        url = db_url_from_env(get_db())
        if token:
            ctx = get_ctx()
            made, _ = credentials.create_token(ctx, ctx.chosen_subscription(), timedelta(days=1), "console")
            typer.echo(f"classic2arm: console token {made}")
        code = server.serve(server.ServeOptions(db_url=url, host="127.0.0.1", port=0, log_level=log_level.lower(),
                                                console_banner=True))
        if code:
            raise typer.Exit(code)


__all__ = ["ADMIN_TOKEN_ENV", "register"]
