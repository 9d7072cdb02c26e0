"""Settings → Alerts in a real browser: an administrator sees an open alert in words,
switches a rule off, adds a chat channel and sends it a test message (received by a
webhook receiver on loopback); the dashboard shows the open alert; no API paths or codes
on the page; no sideways scrolling on a phone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from playwright.sync_api import Browser, expect
from sqlalchemy import update

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import alerts, catalog, keys
from tests.alert_support import Receiver
from tests.server import Running
from tests.web.conftest import PHONE, in_thread, login, make_user, no_page_errors, shot


async def _open_an_alert(url: str) -> None:
    db = Database.from_url(url, pooled=False)
    try:
        await catalog.create_provider(db, name="acme", kind="openai")
        await keys.add_provider_key(db, "acme", "sk-test-acme-0123456789", label="main")
        async with db.unit_of_work() as session:
            await session.execute(update(m.ProviderKey).values(failed_at=datetime.now(UTC)))
        await alerts.Evaluator(db, vault=keys.open_vault).run_once()
    finally:
        await db.dispose()


def test_alerts_page(browser: Browser, server: Running) -> None:
    make_user(server, "alma", "admin")
    in_thread(asyncio.run, _open_an_alert(server.settings.database_url))
    receiver = Receiver()
    try:
        page = login(browser, server, "alma")
        page.goto("/settings/alerts")
        expect(page.locator("#alerts-open")).to_contain_text("A provider refused a key")
        expect(page.locator("#alerts-open")).to_contain_text("refused the key 'main'")
        rules = page.locator("#alerts-rules")
        expect(rules).to_contain_text("A budget is nearly used up")
        expect(rules).to_contain_text("at 80%")
        rules.get_by_role("switch", name="Watch: A budget is nearly used up").uncheck()
        expect(page.locator(".toast").last).to_contain_text("No longer watching")

        page.get_by_role("button", name="New channel").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Name", exact=True).fill("Team chat")
        dialog.get_by_label("Address", exact=True).fill(f"{receiver.url}/services/T0/B0/abcd")
        dialog.get_by_role("button", name="Add channel").click()
        channels = page.locator("#alerts-channels")
        expect(channels).to_contain_text("Team chat")
        expect(channels).to_contain_text("Slack-compatible chat")
        channels.get_by_role("button", name="Send a test").click()
        expect(page.locator(".toast").last).to_contain_text("A test message went to Team chat")
        assert receiver.posts[-1][1]["text"].startswith(":wave: Test")
        page.evaluate("scrollTo(0, 0)")
        shot(page, "settings-alerts")

        page.set_viewport_size(PHONE)
        wide = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
        assert wide[0] <= wide[1], f"the alerts page scrolls sideways on a phone: {wide}"
        text = page.locator("main").inner_text()
        assert "/api/" not in text and "key_rejected" not in text
        no_page_errors(page)

        page.goto("/settings/dashboard")
        expect(page.locator("#dashboard-alerts")).to_contain_text("A provider refused a key")
    finally:
        receiver.close()
