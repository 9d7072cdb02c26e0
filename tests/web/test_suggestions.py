"""Suggestions in a real browser: a member asks for code once, then, typing another
code question in a new chat, sees the model they used suggested in the model picker
with its reason, takes it and sends; the turn counts as a suggestion taken, and the
admin dashboard reports the hit rate."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import (
    in_thread,
    login,
    make_user,
    no_page_errors,
    offline_answer_ended,
    shot,
)

MODEL = "offline:offline-chat"


def test_a_suggestion_follows_use_and_is_taken(browser: Browser, server: Running) -> None:
    make_user(server, "suzy")
    page = login(browser, server, "suzy")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Write a Python function that reverses a string")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    offline_answer_ended(answer)
    expect(answer).not_to_have_class(re.compile(r"\bstreaming\b"))

    page.locator("#new-chat-header").click()
    prompt.fill("Fix the bug in this JavaScript function: function f(x) { return x + }")
    page.locator("#model-button").click()
    suggested = page.locator(".picker-suggested")
    expect(suggested).to_contain_text("Suggested for code")
    row = suggested.locator(f'[data-suggested="{MODEL}"]')
    expect(row).to_contain_text("you chose it once for code")
    expect(suggested.locator(".model-row")).to_have_count(1)
    # the catalog's own row is still there, as it was (no reason on it)
    expect(page.locator(f'.model-row[data-ref="{MODEL}"]')).to_have_count(1)
    expect(page.locator(".model-row .mreason")).to_have_count(1)
    shot(page, "chat-suggestions")
    row.click()
    expect(page.locator("#model-popover")).to_be_hidden()
    page.get_by_role("button", name="Send message").click()
    offline_answer_ended(page.locator(".msg-assistant").last)

    def counted() -> list[tuple[object, ...]]:
        return in_thread(server.query, "SELECT s.shown, s.taken FROM suggestion_daily s "
                         "JOIN users u ON u.id = s.user_id WHERE u.username = 'suzy'")

    expect(page.locator(".msg-assistant")).to_have_count(1)
    for _ in range(50):  # the outcome is posted as the turn is sent, alongside it
        if counted():
            break
        page.wait_for_timeout(100)
    assert counted() == [(1, 1)]
    no_page_errors(page)
    page.context.close()

    make_user(server, "sam", "admin")
    admin = login(browser, server, "sam")
    admin.goto("/settings/dashboard")
    expect(admin.locator("#dashboard-totals")).to_contain_text("Suggested models taken")
    expect(admin.locator("#dashboard-totals")).to_contain_text("100.0%")
    no_page_errors(admin)
