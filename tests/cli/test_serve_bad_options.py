"""`classic2arm serve` with options it cannot use: a clear error, exit 1 or 2, and nothing started — no
"listening on" line, no traceback. A real process each (the fuzz of test_cli_fuzz.py leaves `serve` out: a good
set of options would listen until stopped)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from classic2arm.api import tls


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("serve-bad")
    (d / "garbage.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
    made = tls.throwaway_ca(d / "ca")  # a real certificate and key, to pair wrongly
    (d / "cert.pem").write_bytes(made.cert.read_bytes())
    (d / "key.pem").write_bytes(made.key.read_bytes())
    (d / "other").mkdir()
    other = tls.throwaway_ca(d / "other")
    (d / "other-key.pem").write_bytes(other.key.read_bytes())
    return d


@pytest.fixture
def busy_port() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def flat(text: str) -> str:
    """The text without rich's box and line breaks (a usage error is drawn in a panel)."""
    return " ".join(text.replace("│", " ").split())


def serve(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # timeout: a hang guard only (a refused start ends in well under a second of work)
    cmd = [sys.executable, "-m", "classic2arm", "--db", f"sqlite:///{db}", "serve", "--port", "0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={k: v for k, v in os.environ.items() if k != "CLASSIC2ARM_ADMIN_TOKEN"})


CASES = [
    (["--log-level", "bogus"], 2, "'bogus' is not one of critical, error, warning, info, debug, trace"),
    (["--log-level", ""], 2, "is not one of critical"),
    (["--port", "70000"], 2, "--port"),
    (["--port", "-1"], 2, "--port"),
    (["--port", "eighty"], 2, "--port"),
    (["--workers", "0"], 2, "--workers"),
    (["--max-connections", "1"], 2, "--max-connections"),
    (["--header-timeout", "nan"], 2, "--header-timeout"),
    (["--body-timeout", "inf"], 2, "--body-timeout"),
    (["--admin", "--admin-token", "short"], 2, "at least 8 characters"),
    (["--cert", "{d}/missing.pem"], 2, "does not exist"),
    (["--cert", "{d}"], 2, "is a directory"),
    (["--key", "{d}/key.pem"], 2, "--key needs --cert"),
    (["--tls", "--tls-dir", "{d}/garbage.pem"], 2, "is a file"),
    (["--cert", "{d}/garbage.pem"], 1, "cannot use {d}/garbage.pem as the server's TLS certificate"),
    (["--cert", "{d}/cert.pem"], 1, "cannot use {d}/cert.pem as the server's TLS certificate"),  # no key in it
    (["--cert", "{d}/cert.pem", "--key", "{d}/other-key.pem"], 1, "with the key {d}/other-key.pem"),
    (["--cert", "{d}/cert.pem", "--key", "{d}/garbage.pem"], 1, "not a PEM certificate and matching"),
    (["--host", "256.256.256.256"], 1, "cannot listen on '256.256.256.256' port 0"),
    (["--host", "no-such-host.invalid"], 1, "cannot listen on 'no-such-host.invalid'"),
    (["--host", ""], 2, "give an address, e.g. 127.0.0.1"),
]


@pytest.mark.parametrize(("args", "code", "said"), CASES, ids=[" ".join(c[0]) or "empty" for c in CASES])
def test_serve_refuses_what_it_cannot_use(files: Path, tmp_path: Path, args: list[str], code: int,
                                          said: str) -> None:
    res = serve(tmp_path / "s.db", *(a.format(d=files) for a in args))
    assert res.returncode == code, res.stderr[-2000:]
    assert said.format(d=files) in flat(res.stderr), res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "listening on" not in res.stdout


def test_serve_refuses_a_port_in_use(tmp_path: Path, busy_port: int) -> None:
    res = serve(tmp_path / "s.db", "--host", "127.0.0.1", "--port", str(busy_port))
    assert res.returncode == 1, res.stderr[-2000:]
    assert f"cannot listen on '127.0.0.1' port {busy_port}: Address already in use" in res.stderr
    assert "Traceback" not in res.stderr and "listening on" not in res.stdout


def test_serve_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    (tmp_path / "text.db").write_text("not a database\n")
    res = serve(tmp_path / "text.db")
    assert res.returncode == 1 and "not a database file" in res.stderr, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "listening on" not in res.stdout
