"""First run in a real browser: a fresh server (no admin yet) and its one-time setup link."""

from __future__ import annotations

import asyncio

from playwright.sync_api import Browser, expect

from switchboard.db import Database
from switchboard.services.accounts import create_setup_token
from tests.server import Running
from tests.web.conftest import in_thread, shot


def test_first_run_setup(browser: Browser, server: Running) -> None:
    """The setup link creates the admin, then opens the chat with the offline model and
    a hint to add a provider; the link works once."""
    async def mint() -> str:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            return await create_setup_token(db)
        finally:
            await db.dispose()

    context = browser.new_context(base_url=server.url)
    page = context.new_page()
    # before any admin exists, / and /setup explain where the first account comes from
    for path in ("/", "/setup"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        expect(page).to_have_url(f"{server.url}{path}")
        note = page.get_by_role("note")
        expect(note).to_contain_text("No account exists yet")
        expect(note).to_contain_text("one-time setup link")
        expect(note).to_contain_text("printed that link in its console")
        assert "switchboard serve" not in page.inner_text("body")

    token = in_thread(asyncio.run, mint())
    page.goto(f"/setup?token={token}")
    page.get_by_label("Admin username").fill("first")
    page.get_by_label("Password", exact=True).fill("first admin pw")
    page.get_by_label("Confirm password").fill("first admin pw")
    page.get_by_role("button", name="Create admin and start chatting").click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.locator("#model-button-name")).to_contain_text("Offline chat")
    expect(page.get_by_role("link", name="Add a provider")).to_be_visible()
    shot(page, "first-run")
    # the link was used up; the page says the setup is done and leads to the login
    response = page.goto(f"/setup?token={token}")
    assert response is not None and response.status == 404
    expect(page.get_by_text("Switchboard is already set up")).to_be_visible()
    assert "switchboard serve" not in page.inner_text("body")
    context.close()
