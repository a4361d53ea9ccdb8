"""`classic2arm console`: a server on a free loopback port that prints its URL and a sign-in token."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading

import httpx
from console_kit import SAMPLE_SUB, Estate

CONSOLE_AT = re.compile(r"^classic2arm: console at (?P<url>http://127\.0\.0\.1:\d+/)$")
TOKEN = re.compile(r"^classic2arm: console token (?P<token>c2a\.\S+)$")


def test_console_prints_its_url_and_a_token_that_signs_in(two_subs: Estate) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "classic2arm", "--db", two_subs.url, "--subscription", SAMPLE_SUB,
                             "console"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ))
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.strip())
            if CONSOLE_AT.match(line.strip()):
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), lines
        url = next(m.group("url") for m in map(CONSOLE_AT.match, lines) if m)
        token = next(m.group("token") for m in map(TOKEN.match, lines) if m)
        assert httpx.get(url, timeout=30).status_code == 401  # the sign-in page
        page = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert page.status_code == 200 and "contoso-vnet" in page.text and "vnet001" not in page.text
    finally:
        proc.terminate()
        proc.wait(30)


def test_console_on_a_missing_subscription_fails_with_one_line(two_subs: Estate) -> None:
    res = subprocess.run([sys.executable, "-m", "classic2arm", "--db", two_subs.url, "console"], capture_output=True,
                         text=True, timeout=120, env=dict(os.environ))
    assert res.returncode == 1 and "several subscriptions" in res.stderr and "Traceback" not in res.stderr
