"""The console's journey in a real headless Chromium (Debian's, installed by scripts/browser-deps.sh) driven by
Playwright against a real `classic2arm serve` process. Screenshots of every step go to test-artifacts/console/.

Skips, with the reason, only where no Chromium or no Playwright could be installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_kit import REPO, Estate, check_facts

CHROMIUM = Path(os.environ.get("CLASSIC2ARM_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO / "test-artifacts" / "console"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
LISTENING = re.compile(r"^classic2arm: listening on (?P<url>\S+)")
WAIT_MS = 60_000  # a hang guard, not a speed assertion


def _playwright() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (scripts/browser-deps.sh installs Debian's chromium; it could not "
                    f"here)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"the Python package playwright is not installed ({exc}); `pip install -e .[test]`")
    return sync_playwright


@pytest.fixture
def server(two_subs: Estate, tmp_path: Path) -> Iterator[str]:
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "classic2arm", "--db", two_subs.url, "serve", "--port", "0",
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=log, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = LISTENING.match(line.strip())
            if m:
                found.append(m.group("url"))
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60) and found, f"the server did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}"
        yield found[0]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_the_console_journey(two_subs: Estate, server: str) -> None:
    sync_playwright = _playwright()
    check_facts(two_subs.url)
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    refused: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
            shot = _Shots(page)

            # sign in with a token; the overview lists the units
            page.goto(server + "/")
            assert page.locator("h1").inner_text() == "Sign in"
            shot("01-sign-in")
            page.get_by_label("Bearer token").fill(two_subs.gen_token)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_selector("#units")
            assert page.locator("#units").get_by_role("link", name="vnet001", exact=True).count() == 1
            assert page.locator("#blockers tbody tr").count() > 0
            shot("02-overview")

            # validate a blocked unit: its messages with their mitigations
            page.goto(server + "/units/deployment/cs00009/cs00009")
            page.locator("#validate").click()
            page.wait_for_selector("#validation-result")
            errors = page.locator("#validation-result tr.msg-error")
            assert errors.count() > 0
            assert errors.first.locator("td.mitigation").inner_text().strip()
            shot("03-validated-blocked-unit")

            # fix the blocker from the page, and validate again
            page.locator("#fixes button[id^=apply-]").first.click()
            page.wait_for_selector("#fix-result")
            assert "applied" in page.locator("#fix-result").inner_text()
            shot("04-fixed")
            page.locator("#validate").click()
            page.wait_for_selector("#validation-result")
            assert page.locator("#validation-result tr.msg-error").count() == 0
            shot("05-validated-after-fix")

            # prepare a VNet: classic beside ARM with kept/changed marks
            vnet = server + "/units/vnet/vnet001"
            page.goto(vnet)
            page.locator("#prepare").click()
            _wait_state(page, "Prepared")
            page.wait_for_selector("#side-by-side")
            assert page.locator("#side-by-side .mark-kept").count() > 0
            assert page.locator("#side-by-side .documented").count() > 0
            assert page.locator("#arm-resources li a").count() > 0
            shot("06-prepared-side-by-side")

            # abort, prepare again, commit after typing yes
            page.locator("#abort").click()
            _wait_state(page, "Aborted", "NotPrepared")
            assert page.locator("#side-by-side").count() == 0
            shot("07-aborted")
            page.locator("#prepare").click()
            _wait_state(page, "Prepared")
            page.wait_for_selector("#side-by-side")
            shot("08-prepared-again")
            assert page.locator("#commit").is_disabled()  # until yes is typed
            page.get_by_label(re.compile("type yes")).fill("yes")
            assert page.locator("#commit").is_enabled()
            page.locator("#commit").click()
            _wait_state(page, "Committed")
            shot("09-committed")

            # the downtime chart of a deployment outside a VNet: one window per running VM
            page.goto(server + "/units/deployment/cs00002/cs00002")
            assert page.locator("#downtime rect.window").count() == 0
            page.locator("#prepare").click()
            _wait_state(page, "Prepared")
            page.wait_for_selector("#downtime rect.window")
            rows = page.locator("#downtime g.vm-row")
            assert rows.count() == 2
            for i in range(rows.count()):
                assert rows.nth(i).locator("rect.window").count() == 1
            page.locator("#downtime").screenshot(path=str(ARTIFACTS / "10-downtime-chart.png"))
            shot("11-downtime-page")
        finally:
            browser.close()
    assert not refused, f"the Content-Security-Policy refused something: {refused}"
    assert len(list(ARTIFACTS.glob("*.png"))) == 11


class _Shots:
    def __init__(self, page: Any) -> None:
        self.page = page

    def __call__(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _wait_state(page: Any, *states: str) -> None:
    """Until the unit's state (refreshed live by the page's script while an operation runs) is one of these."""
    wanted = "|".join(re.escape(s) for s in states)
    page.wait_for_function(
        f"() => {{ const el = document.querySelector('#state'); return !!el && /^({wanted})$/.test(el.textContent) "
        f"&& !document.querySelector('[data-poll]'); }}")
    page.wait_for_load_state()
