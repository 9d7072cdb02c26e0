"""XSS in a real browser, beyond answers and titles (``tests/web/test_chat.py``): markup in
a user's display name, a token name, model names and descriptions set by an admin,
model ids a vendor's model list returns (vendor-controlled), a provider's last error
(the vendor's words) and a chat error banner stays text, and nothing runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.openai import Wire
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, login, make_user, no_page_errors

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """This module's own Chromium, closed at the module's end: Playwright's sync API keeps
    an event loop on the main thread while it runs, and the tests collected after this
    folder (services, spec, ...) call ``asyncio.run`` there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def payload(n: int) -> str:
    return f'<img src=x onerror="window.__xss={n}"><script>window.__xss={n}</script>'


# \href and \url would be links with trust on; markup inside maths must stay text
MATH_XSS = ("$$\\href{javascript:window.__xss=8}{x}$$ $\\url{javascript:window.__xss=8}$ "
            '\\(<img src=x onerror="window.__xss=9">\\) '
            "\\[\\text{<script>window.__xss=9</script>}\\]")
EVIL_ID = "gpt-4o-<svg/onload=window.__xss=3>"


class EvilWire(Wire):
    """A vendor whose model list carries markup in a model id."""

    def models_body(self) -> Any:
        body = super().models_body()
        body["data"].append({"id": EVIL_ID, "object": "model", "created": 0,
                             "owned_by": "evil"})
        return body


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str, dict[str, bool]]]:
    broken = {"on": False}

    def check(request: Received) -> str | None:
        return payload(4) if broken["on"] else None

    fake = FakeVendor(EvilWire(), key_check=check)
    with serve_in_thread(fake) as url:
        yield fake, f"{url}/v1", broken


def inert(page: Page, dialogs: list[str]) -> None:
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    assert page.locator("main img[src='x'], main script:not([src]), main svg[onload]").count() \
        == 0
    no_page_errors(page)


def test_names_ids_and_errors_from_admins_and_vendors_stay_text(
        browser: Browser, server: Running,
        vendor: tuple[FakeVendor, str, dict[str, bool]]) -> None:
    fake, url, broken = vendor
    make_user(server, "root", "admin")
    # A session rather than the API token: a bearer token's batched last_used_at write
    # can collide with these writes on SQLite ("database is locked"; see the report).
    with httpx.Client(base_url=server.url, timeout=30) as admin:
        logged_in = admin.post("/api/session/login", json={
            "username": "root", "password": "correct horse battery"})
        assert logged_in.status_code == 200, logged_in.text
        admin.headers["x-csrf-token"] = logged_in.json()["csrf_token"]
        made = admin.post("/api/config/providers", json={
            "name": "acme", "kind": "openai_compatible", "base_url": url,
            "api_key": "sk-test-key-1234", "settings": {"max_retries": 0}})
        assert made.status_code == 201, made.text
        pid = made.json()["id"]
        imported = admin.post(f"/api/config/providers/{pid}/import-models").json()
        assert any(m["model_sdk_id"] == EVIL_ID for m in imported["models"]), imported
        model = next(m for m in imported["models"] if m["model_sdk_id"] == "gpt-4o-mini")
        assert admin.put(f"/api/config/models/{model['id']}", json={
            "name": payload(1), "description": payload(2)}).status_code == 200
        assert admin.put("/api/me/preferences", json={
            "selected_model": model["ref"], "settings": {}}).status_code == 200
        assert admin.post("/api/users", json={
            "username": "mallory", "password": "correct horse battery",
            "display_name": payload(5)}).status_code == 201
        assert admin.post("/api/tokens", json={"name": payload(6)}).status_code == 201
        broken["on"] = True
        assert admin.post(f"/api/providers/{pid}/test").json()["ok"] is False
        broken["on"] = False

    page = login(browser, server, "root")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    for path, shown in (("/settings/users", payload(5)), ("/settings/tokens", payload(6)),
                        ("/settings/providers", payload(4)),
                        ("/settings/models", payload(1))):
        page.goto(path)
        expect(page.locator("main")).to_contain_text(shown)
        inert(page, dialogs)
    page.goto("/settings/models")
    expect(page.locator("main")).to_contain_text(EVIL_ID)
    inert(page, dialogs)

    # the chat: the selected model's name in the header and the picker, the vendor's ids
    page.goto("/")
    expect(page.locator("#model-button-name")).to_have_text(payload(1))
    page.get_by_role("button", name="Change model").click()
    picker = page.get_by_role("dialog", name="Choose a model")
    expect(picker).to_contain_text(EVIL_ID)
    inert(page, dialogs)
    page.keyboard.press("Escape")

    # maths in an answer: KaTeX's output is the only markup, hostile TeX stays text
    prompt = page.get_by_label("Message", exact=True)
    fake.then(Reply(chunks=[MATH_XSS]))
    prompt.fill("some maths")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".katex, .katex-error")).to_have_count(4)  # bad TeX: its error span
    expect(answer.locator(".md")).to_contain_text("window.__xss=9")
    expect(answer.locator(".md a, .md img, .md script, .md [href], .md [onerror]")).to_have_count(0)
    inert(page, dialogs)

    # a vendor's error with markup: the chat's error display says what went wrong in its
    # own words (a vendor's failure reaches the page as a 5xx, whose text errors.js does
    # not quote since fbf7538), and the vendor's markup does not run
    fake.then(Fail(400, message=payload(7)))
    prompt.fill("hello")
    prompt.press("Enter")
    expect(page.locator("main [role=alert]")).to_contain_text("Your message was not sent")
    inert(page, dialogs)

    page.context.close()
