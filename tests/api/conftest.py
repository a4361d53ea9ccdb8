"""Shared fixtures for API tests: real `classic2arm serve` subprocesses, and credentials to call them with.

- `start_server(db_url, tls=False, admin=False, env=None, args=())` → `ServerProcess` (base_url, ca_path,
  admin_token, pid, log); every server started is stopped at teardown (SIGTERM, then SIGKILL).
- `ServerProcess.client(token=..., cert=CertFiles)` → an httpx.Client that trusts the printed CA (an
  explicit SSLContext, so REQUESTS_CA_BUNDLE/SSL_CERT_FILE in the environment can't interfere).
- `mint_token(db_url, subscription, ttl)`, `make_cert(db_url, subscription, directory, register=True)`:
  credentials made in the test process through the service layer.
- `sample_db`: a SQLite store holding examples/sample-estate.yaml (subscription `SAMPLE_SUB`), world clock
  fixed before the classic VM retirement.
"""

from __future__ import annotations

import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from classic2arm.domain.classic import Subscription
from classic2arm.importers import estate_doc
from classic2arm.service import admin, clock, credentials, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.estate import import_estate

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-estate.yaml"
SAMPLE_SUB = "11111111-2222-3333-4444-555555555555"
OTHER_SUB = "99999999-8888-7777-6666-555555555555"
LISTENING = re.compile(r"^classic2arm: listening on (?P<url>\S+)(?P<rest>.*)$")
ADMIN_TOKEN = re.compile(r"^classic2arm: admin token (?P<token>\S+)$")

# Until the lead wires cli/serve.py and cli/creds.py into cli/main.py, tests run the CLI through this
# launcher, which does the same wiring (`register(app, get_ctx, get_db)`) and then runs the real entry point.
_LAUNCHER = """
import sys
from classic2arm.cli import creds, main, serve
if "serve" not in {c.name for c in main.app.registered_commands}:
    serve.register(main.app, main.state.ctx, lambda: main.state.db)
    creds.register(main.app, main.state.ctx, lambda: main.state.db)
sys.argv[0] = "classic2arm"
main.main()
"""


def _cli_wired() -> bool:
    from classic2arm.cli import main

    return "serve" in {c.name for c in main.app.registered_commands}


def cli_argv(db_url: str, *args: str) -> list[str]:
    """argv running `classic2arm --db URL ARGS…` in a fresh interpreter."""
    head = [sys.executable, "-m", "classic2arm"] if _cli_wired() else [sys.executable, "-c", _LAUNCHER]
    return [*head, "--db", db_url, *args]


def run_cli(db_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_argv(db_url, *args), capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, check=False)


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class CertFiles:
    cert: Path
    key: Path
    both: Path
    thumbprint: str | None = None


def mint_token(db_url: str, subscription: str, ttl: timedelta | None = timedelta(hours=1)) -> str:
    ctx = AppContext.open(db_url)
    try:
        return credentials.create_token(ctx, subscription, ttl)[0]
    finally:
        ctx.close()


def make_cert(db_url: str | None, subscription: str, directory: Path, register: bool = True) -> CertFiles:
    """A self-signed client certificate in `directory`; registered for `subscription` unless told not to."""
    cert_pem, key_pem = credentials.make_certificate(f"test {directory.name} {subscription}"[:64])
    directory.mkdir(parents=True, exist_ok=True)
    files = CertFiles(directory / "cert.pem", directory / "key.pem", directory / "both.pem")
    files.cert.write_bytes(cert_pem)
    files.key.write_bytes(key_pem)
    files.both.write_bytes(cert_pem + key_pem)
    if not register or db_url is None:
        return files
    ctx = AppContext.open(db_url)
    try:
        thumb = admin.register_certificate(ctx, subscription, cert_pem)
    finally:
        ctx.close()
    return CertFiles(files.cert, files.key, files.both, thumb)


# --------------------------------------------------------------------------- servers


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    base_url: str
    ca_path: Path | None
    admin_token: str | None
    log: Path
    info: dict[str, str] = field(default_factory=dict)
    stdout_lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def host_port(self) -> str:
        return self.base_url.split("://", 1)[1]

    def ssl_context(self, cert: CertFiles | None = None) -> ssl.SSLContext:
        assert self.ca_path is not None, "not a TLS server with a generated CA"
        ctx = ssl.create_default_context(cafile=str(self.ca_path))
        if cert is not None:
            ctx.load_cert_chain(str(cert.cert), str(cert.key))
        return ctx

    def client(self, token: str | None = None, cert: CertFiles | None = None, admin: bool = False,
               **kwargs: Any) -> httpx.Client:
        headers = dict(kwargs.pop("headers", {}))
        if admin:
            assert self.admin_token is not None
            headers["Authorization"] = f"Bearer {self.admin_token}"
        elif token is not None:
            headers["Authorization"] = f"Bearer {token}"
        verify: Any = self.ssl_context(cert) if self.base_url.startswith("https") else True
        return httpx.Client(base_url=self.base_url, headers=headers, verify=verify, trust_env=False,
                            timeout=kwargs.pop("timeout", 30), **kwargs)

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def terminate(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)


def _read_banner(proc: subprocess.Popen[str], lines: list[str], timeout: float) -> tuple[re.Match[str], str | None]:
    """Lines of stdout until the listening line (read in a thread: a dead server must not hang the test)."""
    found: dict[str, Any] = {}
    done = threading.Event()

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if m := ADMIN_TOKEN.match(line):
                found["admin"] = m["token"]
            if m := LISTENING.match(line):
                found["listening"] = m
                done.set()
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    done.wait(timeout)
    if "listening" not in found:
        raise RuntimeError("server did not print its listening line")
    return found["listening"], found.get("admin")


def launch(db_url: str, log: Path, *, tls: bool = False, admin: bool = False, env: dict[str, str] | None = None,
           args: tuple[str, ...] = (), timeout: float = 60) -> ServerProcess:
    argv = cli_argv(db_url, "serve", "--port", "0", *(["--tls"] if tls else []), *(["--admin"] if admin else []),
                    *args)
    full_env = {k: v for k, v in os.environ.items() if k != "CLASSIC2ARM_ADMIN_TOKEN"}
    full_env.update({"PYTHONUNBUFFERED": "1", **(env or {})})
    with open(log, "ab") as log_fh:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log_fh, text=True, env=full_env,
                                stdin=subprocess.DEVNULL)
    lines: list[str] = []
    try:
        match, admin_token = _read_banner(proc, lines, timeout)
    except RuntimeError as exc:
        proc.kill()
        proc.wait(timeout=10)
        raise RuntimeError(f"{exc}; stdout: {lines}; log:\n{log.read_text(errors='replace')[-4000:]}") from None
    info = dict(kv.split("=", 1) for kv in match["rest"].split() if "=" in kv)
    ca = Path(info["ca"]) if "ca" in info else None
    return ServerProcess(proc, match["url"], ca, admin_token, log, info, lines)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    started: list[ServerProcess] = []
    counter = iter(range(1, 1000))

    def start(db_url: str, **kwargs: Any) -> ServerProcess:
        server = launch(db_url, tmp_path / f"server-{next(counter)}.log", **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.proc.poll() is None:
            server.terminate()


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(interval)


# --------------------------------------------------------------------------- stores


def load_sample(db_url: str) -> None:
    ctx = AppContext.open(db_url)
    try:
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        import_estate(ctx, estate_doc.load(SAMPLE.read_bytes(), str(SAMPLE)), source=str(SAMPLE))
    finally:
        ctx.close()


def add_subscription(db_url: str, subscription: str) -> None:
    ctx = AppContext.open(db_url)
    try:
        with ctx.store.tx() as tx:
            tx.subscriptions.put(Subscription(id=subscription).model_dump(mode="json"))
    finally:
        ctx.close()


@pytest.fixture
def sample_db(tmp_path: Path) -> str:
    """The sample estate (SAMPLE_SUB) and an empty second subscription (OTHER_SUB)."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    load_sample(url)
    add_subscription(url, OTHER_SUB)
    return url


class ApiKit:
    """The helpers above, for test modules (which get them through the `api` fixture rather than importing
    this conftest)."""

    SAMPLE_SUB = SAMPLE_SUB
    OTHER_SUB = OTHER_SUB
    SAMPLE = SAMPLE
    CertFiles = CertFiles
    ServerProcess = ServerProcess
    mint_token = staticmethod(mint_token)
    make_cert = staticmethod(make_cert)
    run_cli = staticmethod(run_cli)
    cli_argv = staticmethod(cli_argv)
    wait_for = staticmethod(wait_for)
    load_sample = staticmethod(load_sample)
    add_subscription = staticmethod(add_subscription)


@pytest.fixture
def api() -> type[ApiKit]:
    return ApiKit
