"""`classic2arm serve`: one uvicorn server (or several forked workers on one socket) serving the ASGI app,
optionally over HTTPS with management certificates, plus the background work every server process does:

- every ~2 s, claim and finish durable operations nobody is running (accepted but not started, or whose
  process died: see service/operations.py leases), so several `serve` processes can share one PostgreSQL
  database and any of them finishes what a killed one left;
- with TLS in "registered" client-trust mode, every ~2 s, trust newly registered management certificates.

When ready it prints one machine-readable line on stdout:

    classic2arm: listening on https://127.0.0.1:8443 ca=/path/to/ca.pem pid=1234

(`ca=` only for a generated CA), preceded by `classic2arm: admin token <token>` when the admin API is on
and the token was generated. Tokens never reach the logs.
"""

from __future__ import annotations

import asyncio
import copy
import fcntl
import hashlib
import logging
import os
import resource
import secrets
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from ..service import admin as admin_service
from ..service import migration, operations
from ..service.context import AppContext, sqlite_file, store_failure
from . import tls
from .limit_settings import Limits

log = logging.getLogger("classic2arm.server")
BANNER = "classic2arm:"
POLL_SECONDS = 2.0
MAX_PARALLEL_OPERATIONS = 4
# On SIGTERM: stop accepting, let requests in flight finish for up to this long, then exit. An operation still
# running is left to its lease: another server (or the next start) takes it over.
GRACEFUL_SECONDS = 5


@dataclass
class ServeOptions:
    db_url: str
    host: str = "127.0.0.1"
    port: int | None = None  # None: 8443 with TLS, 8080 without; 0: a free port
    tls: bool = False
    certfile: Path | None = None
    keyfile: Path | None = None
    tls_dir: Path | None = None  # where a generated CA goes (default: next to a SQLite file, else a temp dir)
    admin: bool = False
    admin_token: str | None = None
    workers: int = 1
    log_level: str = "info"
    poll_seconds: float = POLL_SECONDS
    limits: Limits = field(default_factory=Limits)
    console_banner: bool = False  # `classic2arm console`: also print the console's URL


# --------------------------------------------------------------------------- the app


def build_app(ctx: AppContext, admin: bool, admin_token: str | None, limits: Limits | None = None) -> FastAPI:
    from .app import create_app

    return create_app(ctx, admin=admin, admin_token=admin_token, limits=limits)


# --------------------------------------------------------------------------- background work


class Resumer:
    """Finishes operations nobody is running, each in a daemon thread of its own (at most a few at once).

    A process that exits (SIGTERM) or dies (SIGKILL) mid-operation leaves its lease; its owner id
    (`host:pid:…`) is dead, so another process takes the operation over at its next poll."""

    def __init__(self, ctx: AppContext, interval: float = POLL_SECONDS) -> None:
        self.ctx, self.interval = ctx, interval
        self.owner = operations.new_owner()
        self.stop = threading.Event()
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(MAX_PARALLEL_OPERATIONS)
        self._thread = threading.Thread(target=self._loop, name="classic2arm-resume", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def tick(self) -> int:
        pending = operations.pending(self.ctx)
        started = 0
        for op_id in pending:
            with self._lock:
                if op_id in self._running:
                    continue
            if not self._slots.acquire(blocking=False):
                break
            with self._lock:
                self._running.add(op_id)
            threading.Thread(target=self._run, args=(op_id,), name=f"op-{op_id[:8]}", daemon=True).start()
            started += 1
        return started

    def _run(self, op_id: str) -> None:
        try:
            view = migration.run(self.ctx, op_id, owner=self.owner)
            log.info("operation %s (%s of %s): %s", view.id, view.kind, view.unit, view.status)
        except Exception as exc:
            detail = store_failure(exc)  # (a full disk, a vanished file: the reason, not a traceback, each retry)
            if detail is not None:
                log.error("operation %s: the store failed: %s; it stays claimable", op_id, detail)
            else:
                log.exception("operation %s: the run failed; it stays claimable", op_id)
        finally:
            with self._lock:
                self._running.discard(op_id)
            self._slots.release()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a database hiccup must not end the loop
                detail = store_failure(exc)
                if detail is not None:
                    log.error("resuming operations failed: %s; retrying in %.0f s", detail, self.interval)
                else:
                    log.exception("resuming operations failed; retrying in %.0f s", self.interval)
            self.stop.wait(self.interval)


async def _refresh_trust(ctx: AppContext, server_tls: tls.ServerTLS, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            pems = await asyncio.to_thread(admin_service.management_certificates, ctx)
        except Exception:
            log.exception("reading management certificates failed")
            continue
        if added := server_tls.trust_certificates(pems):
            log.info("%d management certificate(s) now trusted", added)


# --------------------------------------------------------------------------- sockets, TLS, banner


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it: without it a kept-alive response written in two parts waits for the
    # client's delayed ACK (~40 ms a request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def default_tls_dir(db_url: str) -> Path:
    """Next to a SQLite database file; otherwise a directory per database URL under the temp dir (so
    several servers on one PostgreSQL database share one CA)."""
    path = sqlite_file(db_url)
    if path is not None:
        return path.absolute().parent / ".classic2arm-tls"
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"classic2arm-tls-{os.getuid()}-{digest}"


def tls_files(opts: ServeOptions) -> tls.TlsFiles:
    if opts.certfile is not None:
        return tls.TlsFiles(None, opts.certfile, opts.keyfile or opts.certfile)
    directory = opts.tls_dir or default_tls_dir(opts.db_url)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(directory / ".lock", "w") as lock:  # servers starting together make one CA
        fcntl.flock(lock, fcntl.LOCK_EX)
        return tls.throwaway_ca(directory)


def _url(host: str, port: int, secure: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if secure else 'http'}://{shown}:{port}"


def announce(opts: ServeOptions, port: int, files: tls.TlsFiles | None, admin_token: str | None,
             trust: str | None) -> None:
    if admin_token is not None and opts.admin_token is None:
        print(f"{BANNER} admin token {admin_token}", flush=True)
    extra = f" ca={files.ca}" if files is not None and files.ca is not None else ""
    extra += f" client-cert-trust={trust}" if trust else ""
    print(f"{BANNER} listening on {_url(opts.host, port, files is not None)}{extra} pid={os.getpid()}",
          flush=True)
    if opts.console_banner:
        print(f"{BANNER} console at {_url(opts.host, port, files is not None)}/", flush=True)


# --------------------------------------------------------------------------- running


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with access lines on stderr too: stdout carries only the machine-readable lines.
    (Access lines hold method, path and status: never a header, so never a token.)"""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after its graceful shutdown (exit status -15); a clean stop is 0
        with suppress(AttributeError):
            self._captured_signals.clear()


def _worker(opts: ServeOptions, sock: socket.socket, files: tls.TlsFiles | None, admin_token: str | None,
            ready: Callable[[str | None], None] | None) -> None:
    ctx = AppContext.open(opts.db_url)
    server_tls = tls.ServerTLS(files) if files is not None else None
    if server_tls is not None:
        server_tls.trust_certificates(admin_service.management_certificates(ctx))
    app = build_app(ctx, opts.admin, admin_token, opts.limits)
    # limit_concurrency: beyond it uvicorn answers 503; h11_max_incomplete_event_size: header bytes under h11
    # (under httptools api.limits.GuardMixin counts them)
    config = uvicorn.Config(app, http=tls.protocol_class(opts.limits), log_level=opts.log_level, lifespan="auto",
                            ws="none", server_header=False, proxy_headers=False,
                            limit_concurrency=opts.limits.max_connections,
                            h11_max_incomplete_event_size=opts.limits.max_header_bytes,
                            timeout_graceful_shutdown=GRACEFUL_SECONDS, log_config=_log_config(),
                            ssl_context_factory=(lambda _c, _d: server_tls.context) if server_tls else None)
    server = _Server(config)
    resumer = Resumer(ctx, opts.poll_seconds)

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.02)
        refresher = None
        if server.started:
            resumer.start()
            if server_tls is not None and server_tls.trust == "registered":
                refresher = asyncio.create_task(_refresh_trust(ctx, server_tls, opts.poll_seconds))
            if ready is not None:
                ready(server_tls.trust if server_tls else None)
        try:
            await task
        finally:
            resumer.stop.set()
            if refresher is not None:
                refresher.cancel()

    try:
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(main())
    finally:
        ctx.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when it is installed (a faster event loop for the same code); the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _open_files_for(connections: int) -> None:
    """Room for the connection limit in the open-file limit, so a client beyond it gets uvicorn's 503
    rather than a failed accept (a reset)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # the database, logs, the listening socket, the thread pool's files
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < wanted:
            log.warning("open-file limit %d is below --max-connections %d plus room for the server's own files",
                        target, connections)


def serve(opts: ServeOptions) -> int:
    """Run until SIGTERM/SIGINT; returns the exit status."""
    logging.basicConfig(level=getattr(logging, opts.log_level.upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _open_files_for(opts.limits.max_connections)
    secure = opts.tls or opts.certfile is not None
    files = tls_files(opts) if secure else None
    if files is not None:
        tls.check_files(files)
    admin_token = (opts.admin_token or secrets.token_urlsafe(24)) if opts.admin else None
    port = opts.port if opts.port is not None else (8443 if secure else 8080)
    try:
        sock = bind_socket(opts.host, port)
    except (OSError, OverflowError, UnicodeError) as exc:  # (an unknown host, a port in use, a name that isn't one)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OSError(f"cannot listen on {opts.host!r} port {port}: {reason}") from None
    port = int(sock.getsockname()[1])
    if opts.workers <= 1:
        _worker(opts, sock, files, admin_token, lambda trust: announce(opts, port, files, admin_token, trust))
        return 0
    return _fork_workers(opts, sock, files, admin_token, port)


def _fork_workers(opts: ServeOptions, sock: socket.socket, files: tls.TlsFiles | None, admin_token: str | None,
                  port: int) -> int:
    """Several worker processes accepting on one socket (fork: nothing but the socket is shared)."""
    children: list[int] = []
    for _ in range(opts.workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _worker(opts, sock, files, admin_token, None)
            except BaseException as exc:
                detail = store_failure(exc)
                if detail is not None:  # (the parent has said where it listens: say why nothing answers)
                    log.error("worker failed: cannot use the database: %s", detail)
                else:
                    log.exception("worker failed")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)

    def forward(sig: int, _frame: Any) -> None:
        for child in children:
            with suppress(ProcessLookupError):
                os.kill(child, sig)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    announce(opts, port, files, admin_token, None)
    status = 0
    for child in children:
        _, code = os.waitpid(child, 0)
        status = status or (os.waitstatus_to_exitcode(code) if os.waitstatus_to_exitcode(code) > 0 else 0)
    return status
