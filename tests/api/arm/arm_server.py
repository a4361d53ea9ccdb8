"""A real classic2arm HTTP server for tests: uvicorn in a thread on 127.0.0.1 and a free port, plain HTTP
or HTTPS with a throwaway CA (`tls=True`): the only switch a test needs to flip."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from classic2arm.api.app import create_app
from classic2arm.api.tls import throwaway_ca
from classic2arm.service.context import AppContext


@dataclass(frozen=True)
class Running:
    base_url: str
    ca_path: Path | None  # the CA to trust when serving HTTPS


@contextmanager
def serve(ctx: AppContext, folder: Path, tls: bool = False) -> Iterator[Running]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    ca_path: Path | None = None
    ssl: dict[str, str] = {}
    if tls:
        files = throwaway_ca(folder)  # what `classic2arm serve --tls` makes
        ca_path = files.ca
        ssl = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
    config = uvicorn.Config(create_app(ctx), log_level="warning", access_log=False, lifespan="off", **ssl)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield Running(f"{'https' if tls else 'http'}://127.0.0.1:{port}", ca_path)
    finally:
        server.should_exit = True
        thread.join(timeout=2)
        if thread.is_alive():  # an SDK client still holds a keep-alive connection: don't wait for it
            server.force_exit = True
            thread.join(timeout=10)
        sock.close()
