"""Features an admin turned off are not offered in the chat, in a real browser: with
the tool loop, the Auto model and comparison turned off, a member sees no tools menu, no
Auto in the model selector and no "Compare with other models" on an answer; comparison
turned back on, the next page load offers it again."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, offline_answer_ended


def _flag(server: Running, admin: str, name: str, mode: str) -> None:
    put = httpx.put(f"{server.url}/api/flags/{name}", timeout=30, json={"mode": mode},
                    headers={"authorization": f"Bearer {admin}"})
    assert put.status_code == 200, put.text


def _tools_offered(server: Running, token: str) -> bool:
    listed = httpx.get(f"{server.url}/api/tools", timeout=30,
                       headers={"authorization": f"Bearer {token}"})
    return bool(listed.json()["data"])


def test_turned_off_features_have_no_controls(browser: Browser, server: Running) -> None:
    admin = make_user(server, "flag-admin", "admin")
    member = make_user(server, "nell")
    for name in ("tool_loop", "auto_model", "comparison"):
        _flag(server, admin, name, "off")
    deadline = time.monotonic() + 10  # the flags' snapshot follows within a second
    while _tools_offered(server, member):
        assert time.monotonic() < deadline, "the tool loop never turned off"
        time.sleep(0.05)

    page = login(browser, server, "nell")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Name three rivers of Europe.")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    offline_answer_ended(answer)
    expect(page.locator("#tools-button")).to_be_hidden()
    expect(answer.get_by_role("button", name="Compare with other models")).to_have_count(0)
    page.locator("#model-button").click()
    expect(page.locator('.model-row[data-ref="offline:offline-chat"]')).to_be_visible()
    expect(page.locator('.model-row[data-ref="auto"]')).to_have_count(0)
    no_page_errors(page)

    _flag(server, admin, "comparison", "on")
    deadline = time.monotonic() + 10
    while True:  # a new page load offers it again
        page.reload()
        answer = page.locator(".msg-assistant").last
        expect(answer.locator(".msg-meta")).to_contain_text("tokens")
        if page.locator("body").get_attribute("data-features-off") == "tool_loop auto_model":
            break
        assert time.monotonic() < deadline, "comparison never turned back on"
    expect(answer.get_by_role("button", name="Compare with other models")).to_be_visible()
    no_page_errors(page)
