"""Settings pages in a real browser: usage charts and totals, a custom period kept in the
URL, refresh and scope; users, API tokens; page access rules (login redirect, admin-only
pages, setup link)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.server import Running
from tests.web.conftest import (
    PHONE,
    login,
    make_user,
    no_page_errors,
    offline_answer_ended,
    shot,
)


def chat_through_api(server: Running, token: str, text: str) -> None:
    """One answer from the offline model through the REST API (counted in usage)."""
    reply = httpx.post(f"{server.url}/api/chat", json={"text": text},
                       headers={"authorization": f"Bearer {token}"}, timeout=30)
    assert reply.status_code == 200, reply.text


def requests_stat(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("region", name="Totals").locator(".stat").nth(1).locator("strong")


def test_usage_users_and_tokens(browser: Browser, server: Running) -> None:
    make_user(server, "olga", "admin")
    page = login(browser, server, "olga")
    for text in ("Hello there", "Write a SQL query that counts users"):
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_label("Message", exact=True).press("Enter")
        offline_answer_ended(page.locator(".msg-assistant").last)
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
    # the value axis: distinct labels, whole numbers for a count (was 0, 0.5, 1, 1.5, 2)
    values = page.locator("#usage-chart text.axis-label[text-anchor=end]").all_text_contents()
    assert len(values) >= 2 and len(set(values)) == len(values), values
    assert all(v.isdigit() for v in values), values
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
    # the server's validation error, in words a person can act on
    dialog.get_by_role("button", name="Add user").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose a user name.")
    expect(dialog.get_by_label("Username")).to_be_focused()
    dialog.get_by_label("Username").fill("petra")
    dialog.get_by_role("button", name="Add user").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Choose a password of at least 10 characters.")
    dialog.get_by_label("Password").fill("short")
    dialog.get_by_role("button", name="Add user").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Choose a longer password: at least 10 characters.")
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
    reply = httpx.get(f"{server.url}/api/me", timeout=30,
                      headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 200 and reply.json()["username"] == "olga"
    expect(page.locator("#tokens-table")).to_contain_text("ci script")
    no_page_errors(page)
    page.context.close()


def test_page_access(browser: Browser, server: Running) -> None:
    make_user(server, "ulla", "admin")  # set up: the setup page says so (any test order)
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
    expect(page.get_by_text("Switchboard is already set up")).to_be_visible()
    context.close()


def test_usage_period_in_url_refresh_and_scope(browser: Browser, server: Running) -> None:
    token = make_user(server, "vera", "admin")
    chat_through_api(server, token, "Count me once")
    page = login(browser, server, "vera")
    page.goto("/settings/usage")
    expect(requests_stat(page)).to_have_text("1")
    expect(page.locator("#range-caption")).to_contain_text("30 days · usage of you")
    expect(page.locator("#range-form")).to_be_hidden()

    # a preset goes into the URL and survives a reload
    page.get_by_role("radio", name="7 days").check()
    expect(page).to_have_url(f"{server.url}/settings/usage?range=7")
    expect(page.locator("#range-caption")).to_contain_text("7 days")
    page.reload()
    expect(page.get_by_role("radio", name="7 days")).to_be_checked()
    expect(page.locator("#range-caption")).to_contain_text("7 days")

    # refresh picks up calls made since the page loaded
    chat_through_api(server, token, "And count me twice")
    expect(requests_stat(page)).to_have_text("1")
    page.get_by_role("button", name="Refresh").click()
    expect(requests_stat(page)).to_have_text("2")

    # a custom period: validated in the form, then kept in the URL
    page.get_by_role("radio", name="Custom").check()
    form = page.get_by_role("form", name="Custom period")
    expect(form).to_be_visible()
    form.get_by_label("From").fill("2024-03-10")
    form.get_by_label("To").fill("2024-03-01")
    form.get_by_role("button", name="Show").click()
    expect(form.get_by_role("alert")).to_have_text(
        "The start date is after the end date: swap them or pick an earlier start.")
    expect(form.get_by_label("From")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(f"{server.url}/settings/usage?range=7")
    form.get_by_label("From").fill("2022-01-01")
    form.get_by_label("To").fill("2024-03-01")
    form.get_by_role("button", name="Show").click()
    expect(form.get_by_role("alert")).to_contain_text("choose at most 366 days")
    form.get_by_label("From").fill("2024-02-01")
    form.get_by_role("button", name="Show").click()
    expect(form.get_by_role("alert")).to_be_hidden()
    expect(page).to_have_url(f"{server.url}/settings/usage?from=2024-02-01&to=2024-03-01")
    expect(page.locator("#range-caption")).to_contain_text("30 days")
    expect(page.locator("#range-caption")).to_contain_text("2024")
    expect(requests_stat(page)).to_have_text("0")
    expect(page.locator("#usage-chart")).to_contain_text("No cost in this period")
    page.reload()
    expect(page.get_by_role("radio", name="Custom")).to_be_checked()
    expect(form.get_by_label("From")).to_have_value("2024-02-01")
    expect(form.get_by_label("To")).to_have_value("2024-03-01")
    expect(requests_stat(page)).to_have_text("0")

    # scope and metric join the query; a custom period ending today counts today's calls
    today = datetime.now(UTC).date()
    form.get_by_label("From").fill((today - timedelta(days=2)).isoformat())
    form.get_by_label("To").fill(today.isoformat())
    form.get_by_role("button", name="Show").click()
    expect(requests_stat(page)).to_have_text("2")
    page.get_by_role("radio", name="Everyone").check()
    page.get_by_role("radio", name="Requests").check()
    expect(page.locator("#range-caption")).to_contain_text("usage of everyone")
    # everyone's usage: who spent what, one row per user (other tests of this module's
    # server may have used it too, so vera's row is found by name)
    by_user = page.get_by_role("region", name="By user")
    vera = by_user.locator("tbody tr").filter(
        has=page.locator("td:first-child", has_text="vera"))
    expect(vera).to_have_count(1)
    expect(vera.locator("td").nth(1)).to_have_text("2")
    names = by_user.locator("tbody tr td:first-child").all_inner_texts()
    assert len(names) == len(set(names)), f"one row per user: {names}"
    expect(page).to_have_url(f"{server.url}/settings/usage?from={today - timedelta(days=2)}"
                             f"&to={today}&scope=all&metric=requests")
    page.reload()
    expect(page.get_by_role("radio", name="Everyone")).to_be_checked()
    expect(page.locator("#chart-title")).to_have_text("Requests per day")
    expect(page.locator("#usage-chart svg rect.bar")).not_to_have_count(0)

    # a broken period in the address: a warning, and the default period instead
    page.goto("/settings/usage?from=2024-02-30&to=2024-03-01")
    expect(page.get_by_role("status").filter(has_text="not valid")).to_contain_text(
        "The start date is not a valid date")
    expect(page.get_by_role("radio", name="30 days")).to_be_checked()
    expect(page.locator("#range-caption")).to_contain_text("30 days")
    no_page_errors(page)
    page.context.close()

    # on a phone (dark): the controls wrap, nothing scrolls sideways
    phone = login(browser, server, "vera", viewport=PHONE, color_scheme="dark")
    phone.goto("/settings/usage?range=7&scope=all")
    expect(requests_stat(phone)).not_to_have_text("0")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "settings-usage-phone")
    phone.context.close()

    # someone who is not an admin has no scope switch; scope=all in the URL is ignored
    make_user(server, "walt")
    member = login(browser, server, "walt")
    member.goto("/settings/usage?scope=all")
    expect(member.get_by_role("radio", name="Everyone")).to_have_count(0)
    expect(member.locator("#range-caption")).to_contain_text("usage of you")
    expect(requests_stat(member)).to_have_text("0")
    expect(member.get_by_role("region", name="By user")).to_have_count(0)
    no_page_errors(member)
    member.context.close()


WIDTHS = (360, 768, 1280, 1440, 1920)
SETTINGS_PAGES = ("providers", "models", "usage", "users", "tokens")

# Every visible button of every provider card, scrolled to the middle of the screen:
# is the element at its centre that button (or its icon)?
HIDDEN_BUTTONS = """(selector) => {
  const out = [];
  for (const button of document.querySelectorAll(selector)) {
    const style = getComputedStyle(button);
    if (!button.offsetParent || style.visibility === 'hidden') continue;
    button.scrollIntoView({block: 'center', inline: 'center'});
    const r = button.getBoundingClientRect();
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (!hit || !button.contains(hit)) {
      out.push(`${button.getAttribute('aria-label') || button.textContent.trim()}`
        + ` at ${Math.round(r.left)},${Math.round(r.top)} is covered by `
        + `${hit ? hit.tagName + '.' + hit.className : 'nothing (off screen)'}`);
    }
  }
  return out;
}"""


def test_settings_fit_every_width(browser: Browser, server: Running) -> None:
    """At phone to wide-desktop widths no settings page scrolls sideways, and every button
    of every provider card can be clicked (nothing overflows onto the next card)."""
    make_user(server, "wendy", "admin")
    page = login(browser, server, "wendy")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for slug in SETTINGS_PAGES:
            page.goto(f"/settings/{slug}")
            page.wait_for_load_state("networkidle")
            if slug == "providers":
                expect(page.locator(".pcard").first).to_be_visible()
                expect(page.locator(".pcard button").first).to_be_visible()
                covered = page.evaluate(HIDDEN_BUTTONS, ".pcard button")
                assert not covered, f"{width} px: {covered}"
            wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert wide[0] <= wide[1], f"/settings/{slug} scrolls sideways at {width} px: {wide}"
    # The chat header of an open conversation: a long model name must not cover the
    # buttons beside it (at 360 px it spilled over "Conversation settings").
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    page.goto("/")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("hello")
    prompt.press("Enter")
    expect(page.locator("#conv-settings-button")).to_be_visible(timeout=20_000)
    page.evaluate("document.getElementById('model-button-name').textContent = "
                  "'A model with a very long display name indeed, longer than any phone'")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        covered = page.evaluate(HIDDEN_BUTTONS, ".chat-header button")
        assert not covered, f"chat header at {width} px: {covered}"
        wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert wide[0] <= wide[1], f"the chat scrolls sideways at {width} px: {wide}"
    no_page_errors(page)
    page.context.close()
