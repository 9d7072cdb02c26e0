"""Settings → Leaderboard in a real browser: after a side-by-side vote between two
offline models, a member sees both ranked with their grade, interval and votes, in words
(no API paths); an administrator leaves one out and members no longer see it."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.api.chat_support import add_provider
from tests.server import Running
from tests.web.conftest import PHONE, in_thread, login, make_user, no_page_errors, shot


def test_leaderboard_page(browser: Browser, server: Running) -> None:
    second = in_thread(add_provider, server, "local", "offline", "", "offline-chat")
    token = make_user(server, "lena")
    make_user(server, "olga", "admin")
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        first = client.post("/api/chat", json={"text": "A limerick about owls",
                                               "model": "offline:offline-chat"}).json()
        again = client.post("/api/chat", json={
            "conversation_id": first["conversation"]["id"], "regenerate": True,
            "model": second}).json()
        voted = client.post("/api/comparisons/vote", json={
            "answers": [first["assistant_message"]["id"], again["assistant_message"]["id"]],
            "winner": again["assistant_message"]["id"]})
        assert voted.status_code == 200, voted.text

    page = login(browser, server, "lena")
    page.goto("/settings/leaderboard")
    rows = page.locator("#leaderboard-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(second)
    expect(rows.nth(1)).to_contain_text("offline:offline-chat")
    expect(page.locator("#leaderboard-caption")).to_contain_text("2 votes")
    page.locator("#leaderboard-task").select_option("code")
    expect(rows.first).to_contain_text("No feedback for this task yet")
    page.set_viewport_size(PHONE)
    text = page.locator("main").inner_text()
    assert "/api/" not in text
    no_page_errors(page)

    admin = login(browser, server, "olga")
    admin.goto("/settings/leaderboard")
    row = admin.locator("#leaderboard-table tbody tr", has_text="offline:offline-chat")
    row.get_by_role("button", name="Leave out").click()
    expect(row).to_contain_text("Left out")
    shot(admin, "settings-leaderboard")
    no_page_errors(admin)

    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(second)
