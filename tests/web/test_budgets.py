"""Settings → Budgets in a real browser: an administrator adds, changes and removes a
budget in words (no ids, no API); the person it limits sees it with what is spent and when
it starts again; wrong amounts are said in words; no width scrolls sideways."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import PHONE, login, make_user, no_page_errors, shot


def test_budgets_page(browser: Browser, server: Running) -> None:
    make_user(server, "bea", "admin")
    make_user(server, "gus")
    page = login(browser, server, "bea")
    page.goto("/settings/budgets")
    table = page.locator("#budgets-table")
    expect(table).to_contain_text("No budgets yet")
    expect(page.locator("#budgets-zone")).to_contain_text("the UTC calendar")

    page.get_by_role("button", name="New budget").click()
    dialog = page.get_by_role("dialog", name="New budget")
    dialog.get_by_label("For").select_option(label="gus")
    dialog.get_by_label("Period").select_option(label="Each day")
    dialog.get_by_role("button", name="Add budget").click()
    expect(dialog.get_by_role("alert")).to_have_text("Enter an amount in US dollars.")
    dialog.get_by_label("Amount in US dollars").fill("lots")
    dialog.get_by_role("button", name="Add budget").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Enter an amount in US dollars, such as 25 or 12.50.")
    dialog.get_by_label("Amount in US dollars").fill("5")
    dialog.get_by_role("button", name="Add budget").click()
    row = table.locator("tbody tr").first
    expect(row).to_contain_text("gus")
    expect(row).to_contain_text("Daily")
    expect(row).to_contain_text("Limit")
    expect(row.locator("td").nth(5)).to_have_text("$5.00")

    row.get_by_role("button", name="Change").click()
    change = page.get_by_role("dialog", name="Daily budget for gus")
    change.get_by_label("Amount in US dollars").fill("7.5")
    change.get_by_role("button", name="Save").click()
    expect(row.locator("td").nth(5)).to_have_text("$7.50")

    page.get_by_role("button", name="New budget").click()
    dialog = page.get_by_role("dialog", name="New budget")
    dialog.get_by_label("Amount in US dollars").fill("100")
    dialog.get_by_label("When it is used up").select_option(label="Only warn when it is used up")
    dialog.get_by_role("button", name="Add budget").click()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Everyone")
    expect(table).to_contain_text("Warning only")
    shot(page, "settings-budgets")
    no_page_errors(page)

    member = login(browser, server, "gus")
    member.goto("/settings/budgets")
    mine = member.locator("#budgets-table")
    expect(mine.locator("tbody tr")).to_have_count(2)
    expect(mine).to_contain_text("$7.50")
    expect(mine.locator("tbody tr").first.locator("td").nth(3)).to_contain_text("$0")
    expect(member.get_by_role("button", name="New budget")).to_have_count(0)
    expect(mine.get_by_role("button", name="Remove")).to_have_count(0)
    member.set_viewport_size(PHONE)
    wide = member.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert wide[0] <= wide[1], f"the budgets page scrolls sideways on a phone: {wide}"
    no_page_errors(member)
    member.context.close()

    for _ in range(2):
        table.locator("tbody tr").first.get_by_role("button", name="Remove").click()
        page.get_by_role("dialog").get_by_role("button", name="Remove").click()
        expect(page.get_by_text("Budget removed").first).to_be_visible()
    expect(table).to_contain_text("No budgets yet")
    no_page_errors(page)
    page.context.close()
