"""Settings → Features and Settings → Audit in a real browser: an administrator turns
image generation off and gives it to one person; the change appears in the audit trail
in words, with the filters; the trail checks out; a wrong share is said in words; no API
path or flag name on the pages; members cannot open them."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import PHONE, login, make_user, no_page_errors, shot


def test_features_and_audit_pages(browser: Browser, server: Running) -> None:
    make_user(server, "lea", "admin")
    make_user(server, "max")
    page = login(browser, server, "lea")
    page.goto("/settings/flags")
    table = page.locator("#flags-table")
    images = table.locator("tr", has_text="Image generation")
    expect(images.locator("td").nth(1)).to_have_text("Everyone")

    images.get_by_role("button", name="Change").click()
    dialog = page.get_by_role("dialog", name="Image generation")
    dialog.get_by_label("Nobody — turn it off now").check()
    dialog.get_by_role("button", name="Save").click()
    expect(images.locator("td").nth(1)).to_have_text("Nobody (turned off)")

    images.get_by_role("button", name="Change").click()
    dialog = page.get_by_role("dialog", name="Image generation")
    dialog.get_by_label("Some people").check()
    dialog.get_by_label("Share of people (%)").fill("150")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Share of people: write a whole number from 0 to 100.")
    dialog.get_by_label("Share of people (%)").fill("10")
    dialog.get_by_label("These people").fill("max")
    dialog.get_by_role("button", name="Save").click()
    expect(images.locator("td").nth(1)).to_have_text("10% of people; max")
    shot(page, "settings-flags")
    text = page.locator("main").inner_text()
    assert "/api/" not in text and "/v1/" not in text and "image_generation" not in text

    page.goto("/settings/audit")
    audit = page.locator("#audit-table")
    expect(audit.locator("tbody tr").first).to_contain_text("Changed a feature")
    expect(audit).to_contain_text("Signed in")
    page.get_by_label("What").select_option(label="Features")
    page.get_by_role("button", name="Show").click()
    expect(audit.locator("tbody tr")).to_have_count(2)
    expect(audit.locator("tbody tr").first).to_contain_text("Image generation")
    page.get_by_role("button", name="Check the trail").click()
    expect(page.locator("#banner-slot")).to_contain_text("The trail checks out")
    href = page.get_by_role("link", name="Download as a spreadsheet").get_attribute("href")
    assert href is not None and "action=flag" in href
    shot(page, "settings-audit")
    page.set_viewport_size(PHONE)
    wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert wide[0] <= wide[1], f"the audit page scrolls sideways on a phone: {wide}"
    assert "/api/" not in page.locator("main").inner_text()
    no_page_errors(page)

    member = login(browser, server, "max")
    for slug in ("flags", "audit"):
        response = member.goto(f"/settings/{slug}")
        assert response is not None and response.status == 403
