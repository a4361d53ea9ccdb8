"""Connection hygiene of `classic2arm serve` (issue 11, item 2), against a real server on 127.0.0.1 with raw
sockets: too many or too large headers, unfinished headers, a body that never ends or comes up short, idle
connections, and the connection limit. Timeouts are set short on the command line; every wait below is a
hang guard, never a timed assert."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(180)
GUARD = 30.0  # seconds a socket read may block before the test gives up (a hang, not a measurement)


def _addr(server: Any) -> tuple[str, int]:
    host, port = server.host_port.rsplit(":", 1)
    assert host == "127.0.0.1"
    return host, int(port)


@contextmanager
def _conn(server: Any) -> Iterator[socket.socket]:
    with closing(socket.create_connection(_addr(server), timeout=GUARD)) as sock:
        yield sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk


def _served(server: Any) -> None:
    """Another client is answered meanwhile (the ASM API without credentials: 401/403 in XML)."""
    with server.client() as client:
        status = client.get(f"/{'1' * 8}-0000-0000-0000-{'0' * 12}/services/hostedservices").status_code
    assert status in (401, 403)


@pytest.fixture
def server(api: Any, sample_db: str, start_server: Any) -> Any:
    return start_server(sample_db, args=("--header-timeout", "1", "--body-timeout", "1"))


def test_ten_thousand_headers_are_refused(server: Any) -> None:
    with _conn(server) as sock:
        headers = "".join(f"x-h{i}: {'v' * 90}\r\n" for i in range(10_000))
        with suppress(BrokenPipeError, ConnectionResetError):  # refused before it all went out
            sock.sendall(f"GET / HTTP/1.1\r\nhost: a\r\n{headers}\r\n".encode())
        reply = _read_all(sock)
    assert reply.split(b"\r\n", 1)[0] in (b"HTTP/1.1 431 Request Header Fields Too Large", b"HTTP/1.1 400 Bad Request")
    _served(server)


def test_one_huge_unfinished_header_is_refused(server: Any) -> None:
    with _conn(server) as sock:
        with suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(b"GET / HTTP/1.1\r\nhost: a\r\nx-big: " + b"v" * (2 << 20))
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 431 ")


def test_unfinished_headers_are_dropped_after_the_timeout(server: Any) -> None:
    with _conn(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: a\r\nx-slow: 1\r\n")
        _served(server)  # while this one hangs
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408 ")


def test_dripped_headers_are_dropped_after_the_timeout(server: Any) -> None:
    """A slowloris client sends a header line now and then: the deadline is for all of them."""
    with _conn(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nhost: a\r\n")
        sock.settimeout(0.3)
        reply = b""
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"x-drip: 1\r\n")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 408 ")


def test_an_idle_connection_is_closed(server: Any) -> None:
    with _conn(server) as sock:
        assert _read_all(sock) == b""


def _arm_put(api: Any, sample_db: str, framing: str) -> bytes:
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    return (f"PUT /subscriptions/{api.SAMPLE_SUB}/resourcegroups/rg-slow?api-version=2021-04-01 HTTP/1.1\r\n"
            f"host: a\r\nauthorization: Bearer {token}\r\ncontent-type: application/json\r\n{framing}\r\n").encode()


def test_a_chunked_body_that_never_ends_is_dropped(api: Any, sample_db: str, server: Any) -> None:
    with _conn(server) as sock:
        sock.sendall(_arm_put(api, sample_db, "transfer-encoding: chunked\r\n") + b"5\r\n{\"loc\r\n")
        _served(server)
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and b'"code":"RequestTimeout"' in reply
    assert "Traceback" not in server.log_text()  # a slow client is not an error of the server


def test_a_dripped_chunked_body_is_dropped(api: Any, sample_db: str, server: Any) -> None:
    """Chunks keep coming, each in time, but the body as a whole may take only the body timeout."""
    stop = threading.Event()
    with _conn(server) as sock:
        sock.sendall(_arm_put(api, sample_db, "transfer-encoding: chunked\r\n"))

        def drip() -> None:
            while not stop.wait(0.2):
                try:
                    sock.sendall(b"1\r\n \r\n")
                except OSError:
                    return

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        try:
            reply = _read_all(sock)
        finally:
            stop.set()
            dripper.join(GUARD)
    assert reply.startswith(b"HTTP/1.1 408 ")


def test_a_short_content_length_is_dropped(api: Any, sample_db: str, server: Any) -> None:
    with _conn(server) as sock:
        sock.sendall(_arm_put(api, sample_db, "content-length: 100\r\n") + b'{"location":')
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408 ")


def test_an_unread_body_does_not_keep_the_connection(server: Any) -> None:
    """Answered without reading its body (no credentials: 401): the connection is closed, not kept waiting
    for the rest."""
    with _conn(server) as sock:
        sock.sendall(b"PUT /subscriptions/x/resourcegroups/rg?api-version=2021-04-01 HTTP/1.1\r\nhost: a\r\n"
                     b"transfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 401 ")


def test_beyond_the_connection_limit_is_503(api: Any, sample_db: str, start_server: Any) -> None:
    server = start_server(sample_db, args=("--max-connections", "4", "--header-timeout", "60"))
    idle = [socket.create_connection(_addr(server), timeout=GUARD) for _ in range(4)]
    try:
        time.sleep(0.5)  # let the server accept them (not a measurement: more time changes nothing)
        with _conn(server) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: a\r\n\r\n")
            reply = _read_all(sock)
        assert reply.startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + GUARD
    while True:  # once they are gone, clients are served again
        with _conn(server) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n")
            reply = _read_all(sock)
        if not reply.startswith(b"HTTP/1.1 503 ") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert reply.startswith(b"HTTP/1.1 ") and not reply.startswith(b"HTTP/1.1 503 ")


def test_a_short_asm_body_is_dropped_with_an_asm_error(api: Any, sample_db: str, server: Any) -> None:
    token = api.mint_token(sample_db, api.SAMPLE_SUB)
    with _conn(server) as sock:
        sock.sendall(f"POST /{api.SAMPLE_SUB}/services/hostedservices HTTP/1.1\r\nhost: a\r\n"
                     f"authorization: Bearer {token}\r\nx-ms-version: 2016-07-01\r\ncontent-type: application/xml\r\n"
                     "content-length: 500\r\n\r\n<CreateHostedService ".encode())
        reply = _read_all(sock)
    assert reply.startswith(b"HTTP/1.1 408 ") and b"<Code>RequestTimeout</Code>" in reply
    assert "Traceback" not in server.log_text()
