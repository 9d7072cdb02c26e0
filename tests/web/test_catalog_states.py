"""Issue 11, items 1 and 7, in a real browser: a seeded vendor without a key is shown as
"Configure API key" in the model selector and on its card (not as disabled); saving its
key (and base URL: the fake vendor on loopback) makes its models usable in the selector
at the next visit of the chat, with no enable step and no restart; the switch's words say
which state it is in; the "Add provider" form never suggests a name that exists, and a
provider added with its key shows its models at once (a labelled "Import models" button
stays for later imports)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.script import Reply
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, openai_vendor_with_key

KEY = "sk-states-test-key-4242"


@pytest.fixture(scope="module")
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    with openai_vendor_with_key(KEY) as served:
        yield served


def open_picker(page: Page):  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Change model").click()
    picker = page.get_by_role("dialog", name="Choose a model")
    expect(picker).to_be_visible()
    return picker


def test_configure_api_key_then_chat_and_the_switch_says_its_state(
        browser: Browser, server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, base_url = vendor
    make_user(server, "ada", "admin")
    page = login(browser, server, "ada")

    # -- the selector: openai is there, greyed, with "Configure API key" (not hidden)
    picker = open_picker(page)
    group = picker.get_by_role("group", name="openai", exact=True)
    expect(group.get_by_role("link", name="Configure API key")).to_be_visible()
    expect(group.locator('.model-row[data-ref="openai:gpt-4o-mini"]')).to_be_disabled()

    # -- its card says the same, and its switch says "Enabled": not configured != disabled
    group.get_by_role("link", name="Configure API key").click()
    card = page.get_by_role("article", name="Provider openai")
    expect(card.get_by_role("button", name="Configure API key")).to_be_visible()
    expect(card.locator(".status-label")).to_have_text("Needs an API key")
    expect(card.get_by_role("switch", name="Enable openai")).to_be_checked()
    expect(card.locator(".enable-text")).to_have_text("Enabled")
    expect(card).to_contain_text("Allowed (names not in the list are passed on)")

    # the link opened its form with the key field focused: paste the key, save
    edit = page.get_by_role("dialog", name="Edit openai")
    expect(edit.get_by_label("API key")).to_be_focused()
    edit.get_by_label("Base URL").fill(base_url)
    edit.get_by_label("API key").fill(KEY)
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_be_hidden()
    expect(card.get_by_role("button", name="Configure API key")).to_have_count(0)
    expect(card.get_by_role("button", name="Test connection")).to_be_visible()
    expect(card.locator(".enable-text")).to_have_text("Enabled")

    # -- the switch's words follow its state
    card.get_by_role("switch", name="Enable openai").uncheck()
    expect(card.locator(".enable-text")).to_have_text("Disabled")
    expect(card.locator(".pcard-head .chip")).to_have_text("Disabled")
    card.get_by_role("switch", name="Enable openai").check()
    expect(card.locator(".enable-text")).to_have_text("Enabled")
    expect(card.locator(".pcard-head .chip")).to_have_count(0)

    # -- back in the chat, its models are usable at once: pick one and get an answer
    page.goto("/")
    picker = open_picker(page)
    group = picker.get_by_role("group", name="openai", exact=True)
    expect(group.get_by_role("link", name="Configure API key")).to_have_count(0)
    row = group.locator('.model-row[data-ref="openai:gpt-4o-mini"]')
    expect(row).to_be_enabled()
    row.click()
    fake.then(Reply(chunks=["Hello ", "from the vendor"], input_tokens=5, output_tokens=3))
    page.get_by_label("Message", exact=True).fill("hi")
    page.get_by_label("Message", exact=True).press("Enter")
    expect(page.locator(".msg-assistant").last.locator(".md")).to_have_text(
        "Hello from the vendor")
    assert fake.chat_requests()[-1].body["model"] == "gpt-4o-mini"
    no_page_errors(page)
    page.context.close()


def test_add_provider_suggests_a_free_name_and_shows_its_models_at_once(
        browser: Browser, server: Running, vendor: tuple[FakeVendor, str]) -> None:
    _, base_url = vendor
    make_user(server, "lin", "admin")
    page = login(browser, server, "lin")
    page.goto("/settings/providers")
    page.get_by_role("button", name="Add provider").click()
    dialog = page.get_by_role("dialog", name="Add provider")
    expect(dialog.get_by_label("Kind")).to_have_value("kind:openai")
    expect(dialog.get_by_label("Name")).to_have_value("openai-2")  # "openai" exists
    dialog.get_by_label("Base URL").fill(base_url)
    dialog.get_by_label("API key").fill(KEY)
    dialog.get_by_role("button", name="Add provider").click()
    card = page.get_by_role("article", name="Provider openai-2")
    expect(card.get_by_role("link", name=re.compile(r"^3 models$"))).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("openai-2: 3 models found")
    expect(card.get_by_role("button", name="Import models of openai-2")).to_have_text(
        "Import models")
    no_page_errors(page)
    page.context.close()
