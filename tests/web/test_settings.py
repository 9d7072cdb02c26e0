"""Settings pages in a real browser: usage charts and totals, users, API tokens; page
access rules (login redirect, admin-only pages, setup link)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, shot


def test_usage_users_and_tokens(browser: Browser, server: Running) -> None:
    make_user(server, "olga", "admin")
    page = login(browser, server, "olga")
    for text in ("Hello there", "Write a SQL query that counts users"):
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_label("Message", exact=True).press("Enter")
        expect(page.locator(".msg-assistant").last.locator(".msg-meta")).to_contain_text("tokens")
        page.get_by_role("button", name="New chat").first.click()

    # usage rows are written in batches off the request path (every 0.5 s): reload the
    # page until both requests are counted
    for _attempt in range(20):
        page.goto("/settings/usage")
        requests = page.get_by_role("region", name="Totals").locator(".stat").nth(1)
        try:
            expect(requests).to_contain_text("2", timeout=1000)
            break
        except AssertionError:
            continue
    expect(requests).to_contain_text("2")
    expect(page.locator("#usage-chart")).to_contain_text("No cost in this period")
    page.get_by_role("radio", name="Requests").check()
    expect(page.locator("#usage-chart svg rect.bar")).not_to_have_count(0)
    expect(page.locator("#by-provider")).to_contain_text("offline")
    expect(page.locator("#by-model")).to_contain_text("offline-chat")
    page.get_by_role("radio", name="Everyone").check()
    page.get_by_role("radio", name="Tokens").check()
    expect(page.locator("#chart-title")).to_have_text("Tokens per day")
    expect(page.locator("#by-provider")).to_contain_text("offline")
    shot(page, "settings-usage")

    page.get_by_role("link", name="Users").click()
    page.get_by_role("button", name="Add user").click()
    dialog = page.get_by_role("dialog", name="Add user")
    dialog.get_by_label("Username").fill("petra")
    dialog.get_by_label("Password").fill("a long password")
    dialog.get_by_role("button", name="Add user").click()
    expect(page.locator("#users-table")).to_contain_text("petra")

    page.get_by_role("link", name="API tokens").click()
    page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog", name="New API token")
    dialog.get_by_label("Name").fill("ci script")
    dialog.get_by_role("button", name="Create token").click()
    reveal = page.locator(".token-reveal code")
    expect(reveal).to_contain_text("sb-")
    token = reveal.inner_text()
    reply = httpx.get(f"{server.url}/api/me", headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.json()["username"] == "olga"
    expect(page.locator("#tokens-table")).to_contain_text("ci script")
    no_page_errors(page)
    page.context.close()


def test_page_access(browser: Browser, server: Running) -> None:
    make_user(server, "uma")
    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    page.goto("/settings/usage")
    expect(page).to_have_url(f"{server.url}/login?next=/settings/usage")
    page.get_by_label("Username").fill("uma")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong username or password")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{server.url}/settings/usage")
    expect(page.get_by_role("link", name="Providers")).to_have_count(0)
    response = page.goto("/settings/providers")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Admins only")).to_be_visible()
    response = page.goto("/setup?token=sb-not-a-real-token")
    assert response is not None and response.status == 404
    expect(page.get_by_text("This setup link is not valid")).to_be_visible()
    context.close()
