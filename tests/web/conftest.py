"""Browser tests: one real Switchboard server and one system Chromium per module; a new
browser context (fresh cookies) per test. Playwright's own browsers cannot be downloaded
here, so ``/usr/bin/chromium`` is used; without it these tests skip.

``shot()`` rewrites ``docs/screenshots/`` only when asked (``SWITCHBOARD_SCREENSHOTS=1``,
which ``python3 dev.py screenshots`` sets), so a test run leaves the working tree clean."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import isolate
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Received
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS_ENV = "SWITCHBOARD_SCREENSHOTS"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
T = TypeVar("T")

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():  # pragma: no cover - CI installs it
    pytest.skip("needs the system Chromium at /usr/bin/chromium (apt-get install chromium)",
                allow_module_level=True)

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Per module, not per session: Playwright's sync API keeps an event loop running in
    # the main thread while it is open, and any later test that calls asyncio.run() (or
    # is async) would then fail depending on the order tests run in.
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """Replaces the suite's per-test env isolation: here the module-scoped ``server``
    fixture isolates the environment for the whole module. (The server reads some
    settings, such as the master key file under SWITCHBOARD_DATA_DIR, from the
    environment at request time, so the env must not change under a running server.)"""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A server with its own data directory (the per-test env isolation is function-scoped,
    so this module-scoped server sets up the same isolation itself)."""
    from switchboard.config import load_settings

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("web") / "sb-data")
        settings = load_settings()
        with running_server(settings) as running:
            yield running


def in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a helper that uses ``asyncio.run`` (``Running.make_user``, ``Running.query``)
    off the main thread: Playwright's sync API keeps an event loop running on it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


def make_user(server: Running, username: str, role: str = "user") -> str:
    return in_thread(server.make_user, username, role, PASSWORD)


def login(browser: Browser, server: Running, username: str, *,
          viewport: dict[str, int] | None = None, color_scheme: str = "light") -> Page:
    """A new browser context logged in as ``username`` through the login page."""
    context = browser.new_context(base_url=server.url, viewport=viewport or DESKTOP,
                                  color_scheme=color_scheme)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto("/")
    page.wait_for_url("**/login?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/")
    return page


# How long the end of an answer of the built-in offline model is awaited, from the Enter
# that asked for it. The model paces its stream on purpose (15 ms a delta, at most 2 s an
# answer; against a deadline, so it no longer stretches under load: pacing.py) and the
# page shows the end once the answer is saved: 1 to 2 s of Playwright's default 5 s are
# spent by design, and on the clean-clone CI run (2 xdist workers, two servers and
# Chromium on 2 cores, load up to 18) the rest was too short (it ran past 5 s, 1fc2854).
# 20 s, as the offline answers of test_chat_images and test_images_for_text_models were.
OFFLINE_ANSWER_MS = 20_000


def offline_answer_ended(answer: Locator) -> None:
    """Wait for the end of an offline-model answer (``.msg-assistant``): its token
    count, shown once it is saved."""
    expect(answer.locator(".msg-meta")).to_contain_text("tokens", timeout=OFFLINE_ANSWER_MS)


def shot(page: Page, name: str) -> None:
    """Save the page as ``docs/screenshots/<name>.png``, only when screenshots were asked
    for: PNGs differ by a few pixels from run to run, and a plain test run must not leave
    changed files behind."""
    if os.environ.get(SCREENSHOTS_ENV) != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.getElementById('toasts')?.replaceChildren()")
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), animations="disabled")


def no_page_errors(page: Page) -> None:
    errors = page.errors  # type: ignore[attr-defined]
    assert not errors, f"JavaScript errors on the page: {errors}"


@contextmanager
def openai_vendor_with_key(key: str) -> Iterator[tuple[FakeVendor, str]]:
    """A fake OpenAI on loopback that accepts only ``key`` (as the real one would refuse
    a wrong key), and its base URL."""
    fake = FakeVendor(OpenAIWire())

    def check(request: Received) -> str | None:
        ok = request.headers.get("authorization") == f"Bearer {key}"
        return None if ok else "Incorrect API key provided"

    fake.key_check = check
    with serve_in_thread(fake) as url:
        yield fake, f"{url}/v1"
