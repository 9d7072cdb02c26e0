"""Settings → Dashboard in a real browser: after known traffic an administrator sees the
requests, the failures, the spend, the provider and the model, in words (no API paths,
no error codes); the period is kept in the address; no sideways scrolling on a phone;
members cannot open it."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import PHONE, login, make_user, no_page_errors, shot


def test_dashboard_page(browser: Browser, server: Running) -> None:
    token = make_user(server, "dora", "admin")
    make_user(server, "max")
    with httpx.Client(base_url=server.v1, timeout=30,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for i in range(3):
            answer = client.post("/chat/completions", json={
                "model": "offline:offline-chat",
                "messages": [{"role": "user", "content": f"Hello number {i}"}]})
            assert answer.status_code == 200, answer.text
        missing = client.post("/chat/completions", json={
            "model": "offline:no-such-model", "messages": [{"role": "user", "content": "x"}]})
        assert missing.status_code == 404  # refused before any call: not in the figures

    page = login(browser, server, "dora")
    page.goto("/settings/dashboard")
    totals = page.locator("#dashboard-totals")
    expect(totals.locator(".stat").first).to_contain_text("Requests3")
    expect(totals).to_contain_text("Error rate0.0%")
    expect(page.locator("#dashboard-spend")).to_contain_text("Spent today")
    providers = page.locator("#dashboard-providers")
    expect(providers.locator("tbody tr").first).to_contain_text("offline")
    expect(page.locator("#dashboard-models")).to_contain_text("offline-chat")
    expect(page.locator("#dashboard-users")).to_contain_text("dora")
    expect(page.locator("#dashboard-budgets")).to_contain_text(
        "Every budget is below 80% of its limit")
    shot(page, "settings-dashboard")

    page.get_by_role("radio", name="30 days").check()
    expect(page).to_have_url(f"{server.url}/settings/dashboard?days=30")
    expect(page.locator("#dashboard-caption")).to_contain_text("the last 30 days")
    page.reload()
    expect(page.locator('input[name="days"][value="30"]')).to_be_checked()

    page.set_viewport_size(PHONE)
    wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert wide[0] <= wide[1], f"the dashboard scrolls sideways on a phone: {wide}"
    text = page.locator("main").inner_text()
    assert "/api/" not in text and "rate_limited" not in text
    no_page_errors(page)

    member = login(browser, server, "max")
    member.goto("/settings/dashboard")
    expect(member.get_by_role("heading", name="Admins only")).to_be_visible()
    member.goto("/settings/usage")
    expect(member.locator(".settings-nav")).not_to_contain_text("Dashboard")
