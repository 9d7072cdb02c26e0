"""Settings → Rate limits in a real browser: an administrator changes a role's limits and
gives a person limits of their own, in words (no ids, no API paths); a wrong number is
said in words; the page does not scroll sideways on a phone; members cannot open it."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import PHONE, login, make_user, no_page_errors, shot


def test_limits_page(browser: Browser, server: Running) -> None:
    make_user(server, "lea", "admin")
    make_user(server, "max")
    page = login(browser, server, "lea")
    page.goto("/settings/limits")
    roles = page.locator("#roles-table")
    members = roles.locator("tbody tr").first
    expect(members).to_contain_text("Members")
    expect(members.locator("td").nth(1)).to_have_text("120")
    expect(members.locator("td").nth(2)).to_have_text("1,000,000")
    overrides = page.locator("#overrides-table")
    expect(overrides).to_contain_text("Nobody has limits of their own")

    members.get_by_role("button", name="Change").click()
    dialog = page.get_by_role("dialog", name="Limits for members")
    dialog.get_by_label("Requests a minute").fill("many")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Requests a minute: write a whole number, 0 for no limit, or leave it empty.")
    dialog.get_by_label("Requests a minute").fill("90")
    dialog.get_by_label("Answers at once").fill("0")
    dialog.get_by_role("button", name="Save").click()
    expect(members.locator("td").nth(1)).to_have_text("90")
    expect(members.locator("td").nth(3)).to_have_text("No limit")
    expect(members).to_contain_text("Changed here")

    page.get_by_role("button", name="Limit a person").click()
    dialog = page.get_by_role("dialog", name="Limit a person")
    dialog.get_by_label("Person").select_option(label="max")
    dialog.get_by_label("Tokens a minute").fill("50,000")
    dialog.get_by_role("button", name="Save").click()
    row = overrides.locator("tbody tr").first
    expect(row.locator("td").first).to_have_text("max")
    expect(row.locator("td").nth(1)).to_have_text("As their role")
    expect(row.locator("td").nth(2)).to_have_text("50,000")
    shot(page, "settings-limits")

    page.set_viewport_size(PHONE)
    wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert wide[0] <= wide[1], f"the rate limits page scrolls sideways on a phone: {wide}"
    text = page.locator("main").inner_text()
    assert "/api/" not in text and "switchboard limits" not in text
    page.set_viewport_size({"width": 1280, "height": 800})

    row.get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove").click()
    expect(overrides).to_contain_text("Nobody has limits of their own")
    members.get_by_role("button", name="Use the defaults").click()
    page.get_by_role("dialog").get_by_role("button", name="Use the defaults").click()
    expect(members.locator("td").nth(1)).to_have_text("120")
    no_page_errors(page)
    page.context.close()

    member = login(browser, server, "max")
    member.goto("/settings/limits")
    expect(member.get_by_role("heading", name="Admins only")).to_be_visible()
    member.context.close()
