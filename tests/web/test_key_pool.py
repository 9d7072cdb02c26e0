"""A provider's keys on its card (decision 0066), in a real browser: add two keys, see
them listed with their names, last four characters and state in words, switch one off,
see a key the provider refused said so and switch it back on, retire one."""

from __future__ import annotations

import asyncio

from playwright.sync_api import Browser, Locator, Page, expect

from switchboard.db import Database
from switchboard.registry.keypool import PoolKey
from switchboard.services.keys import list_provider_keys, record_key_failure
from tests.server import Running
from tests.web.conftest import in_thread, login, make_user, no_page_errors, shot

FIRST = "sk-pool-web-first-key-000000001111"
SECOND = "sk-pool-web-second-key-00000002222"


def card(page: Page) -> Locator:
    return page.get_by_role("article", name="Provider mistral")


def row(page: Page, label: str) -> Locator:
    return card(page).locator(f'.key-row[data-label="{label}"]')


def add_key(page: Page, label: str, key: str, share: str = "1") -> None:
    card(page).get_by_role("button", name="Add key").click()
    dialog = page.get_by_role("dialog", name="Add a key to mistral")
    dialog.get_by_label("Name").fill(label)
    dialog.get_by_label("API key").fill(key)
    dialog.get_by_label("Share").fill(share)
    dialog.get_by_role("button", name="Add key").click()
    expect(dialog).to_be_hidden()
    expect(row(page, label)).to_be_visible()


def mark_refused(server: Running, label: str) -> None:
    """What the gateway does when the vendor answers 401 with this key."""
    async def go() -> None:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            view = next(k for k in await list_provider_keys(db, "mistral") if k.label == label)
            await record_key_failure(db, PoolKey(id=view.id, label=label), "mistral")
        finally:
            await db.dispose()

    in_thread(asyncio.run, go())


def test_keys_on_the_provider_card(browser: Browser, server: Running) -> None:
    make_user(server, "keyadmin", "admin")
    page = login(browser, server, "keyadmin")
    page.goto("/settings/providers")
    expect(card(page).locator(".pcard-keys")).to_contain_text("No key yet.")

    add_key(page, "first", FIRST)
    add_key(page, "second", SECOND, share="3")
    expect(card(page).locator(".pcard-keys h4")).to_have_text("2 keys")
    expect(row(page, "first")).to_contain_text("\u20261111")
    expect(row(page, "first")).to_contain_text("In use")
    expect(row(page, "second")).to_contain_text("share 3")
    expect(card(page).locator(".status-label")).not_to_have_text("Needs an API key")
    shot(page, "provider-keys")

    row(page, "second").get_by_role("switch", name="Use key second").uncheck()
    expect(row(page, "second")).to_contain_text("Switched off")

    mark_refused(server, "first")
    page.reload()
    expect(row(page, "first")).to_contain_text("Refused by the provider")
    expect(card(page).locator(".status-label")).to_have_text("Needs an API key")
    row(page, "first").get_by_role("switch", name="Use key first").check()
    expect(row(page, "first")).to_contain_text("In use")

    row(page, "first").get_by_role("button", name="Retire key first").click()
    confirm = page.get_by_role("dialog", name="Retire key “first”?")
    expect(confirm).to_contain_text("the last key in use")  # "second" is switched off
    confirm.get_by_role("button", name="Retire key").click()
    expect(row(page, "first")).to_have_count(0)
    expect(card(page).locator(".pcard-keys h4")).to_have_text("1 key")

    content = page.content()
    assert FIRST not in content and SECOND not in content
    no_page_errors(page)
