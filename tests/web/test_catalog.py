"""Providers, models and the model selector in a real browser, against a fake
OpenAI-compatible vendor on loopback: add a provider with a key, test the connection (ok
and failing), import its models, make one vision-capable and send it an image, keep the
selector choice across reloads and browser contexts, disable the provider and see its
models leave the selector, set a global default; set, replace and clear a key's expiry
date."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.script import Reply
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, openai_vendor_with_key, shot

GOOD_KEY = "sk-good-test-key-7777"
# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture(scope="module")
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    with openai_vendor_with_key(GOOD_KEY) as served:
        yield served


def open_picker(page: Page) -> None:
    page.get_by_role("button", name="Change model").click()
    expect(page.get_by_role("dialog", name="Choose a model")).to_be_visible()


def acme_row(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("dialog", name="Choose a model").locator(
        '.model-row[data-ref="acme:gpt-4o-mini"]')


def test_provider_lifecycle_selector_and_vision(
        browser: Browser, server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, base_url = vendor
    make_user(server, "root", "admin")
    page = login(browser, server, "root")

    # -- add a provider with a wrong key; the connection test fails and says why
    page.goto("/settings/providers")
    page.get_by_role("button", name="Add provider").click()
    dialog = page.get_by_role("dialog", name="Add provider")
    dialog.get_by_label("Kind").select_option(label="OpenAI-compatible endpoint")
    dialog.get_by_label("Name").fill("acme")
    dialog.get_by_label("Base URL").fill(base_url)
    dialog.get_by_label("API key").fill("sk-wrong-key-0000")
    dialog.get_by_role("button", name="Add provider").click()
    card = page.get_by_role("article", name="Provider acme")
    expect(card).to_be_visible()
    expect(card).to_contain_text("…0000")
    expect(card).not_to_contain_text("sk-wrong")
    card.get_by_role("button", name="Test connection").click()
    expect(card.locator(".light-error")).to_be_visible()
    # in a person's words, keyed on the failure; the vendor's own line is only a detail
    expect(card.locator(".status-error")).to_contain_text(
        "The provider refused this API key. Edit the key and test again.")
    expect(card.locator(".status-error .status-vendor")).to_contain_text("Incorrect API key")
    expect(page.locator(".toast").last).to_contain_text("refused this API key")
    expect(page.locator(".toast").last).not_to_contain_text("HTTP 401")

    # -- fix the key: the test passes (green light, latency)
    card.get_by_role("button", name="Edit acme").click()
    edit = page.get_by_role("dialog", name="Edit acme")
    edit.get_by_label("API key").fill(GOOD_KEY)
    edit.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("…7777")
    card.get_by_role("button", name="Test connection").click()
    expect(card.locator(".light-ok")).to_be_visible()
    expect(card.locator(".status-label")).to_contain_text("Connected")

    # -- import its models, then make one vision-capable by hand
    card.get_by_role("button", name="Import models of acme").click()
    # (discovery keeps the vendor's chat models: not dall-e-3 or text-embedding-3-small)
    models_link = card.get_by_role("link", name=re.compile(r"^[1-9]\d* models?$"))
    expect(models_link).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "settings-providers")
    models_link.click()
    expect(page.locator("#model-provider")).to_have_value(card_id(page, "acme"))
    row = page.locator("tr", has=page.locator("code", has_text="gpt-4o-mini"))
    row.get_by_role("button", name="Edit").click()
    form = page.get_by_role("dialog", name="Edit")
    form.get_by_label("Vision").check()
    form.get_by_role("button", name="Save").click()
    expect(row.locator(".cap-vision")).to_be_visible()
    shot(page, "settings-models")

    # -- the selector lists them; pick the vision model and send it an image
    page.goto("/")
    open_picker(page)
    page.get_by_role("dialog", name="Choose a model").get_by_label("Search models").fill("4o-mini")
    # (the seeded openai provider lists gpt-4o-mini too, greyed: it has no key)
    expect(page.locator(".model-row:not(:disabled)")).to_have_count(1)
    acme_row(page).click()
    expect(page.locator("#model-button-name")).to_have_text("gpt-4o-mini")
    fake.then(Reply(chunks=["I see ", "a tiny ", "image."], input_tokens=90, output_tokens=4))
    page.locator("#file-input").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": PNG}])
    expect(page.locator(".attachment img")).to_have_count(1)
    page.get_by_label("Message", exact=True).fill("What is in this picture?")
    page.get_by_label("Message", exact=True).press("Enter")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_have_text("I see a tiny image.")
    expect(answer.locator(".msg-meta")).to_contain_text("90 in · 4 out tokens")
    expect(page.locator(".msg-user .msg-images img")).to_have_count(1)
    # (the answer's request: a title request for the new conversation may follow it)
    sent = next(r.body for r in reversed(fake.chat_requests())
                if isinstance(r.body["messages"][-1]["content"], list))
    content = sent["messages"][-1]["content"]
    images = [p for p in content if p.get("type") == "image_url"]
    assert images and images[0]["image_url"]["url"].startswith("data:image/png;base64,")

    # -- the conversation keeps its model after a reload; another device's new chat
    # starts with the user's default model (picking one in a chat does not change it)
    page.reload()
    expect(page.locator("#model-button-name")).to_have_text("gpt-4o-mini")
    other = login(browser, server, "root")
    expect(other.locator("#model-button-name")).to_contain_text("Offline chat")
    open_picker(other)
    expect(acme_row(other)).to_have_attribute("aria-selected", "false")
    shot(other, "model-selector")
    other.context.close()

    # -- disable the provider: its models leave the selector
    page.goto("/settings/providers")
    card = page.get_by_role("article", name="Provider acme")
    card.get_by_role("switch", name="Enable acme").uncheck()
    expect(card).to_contain_text("Disabled")
    page.goto("/")
    open_picker(page)
    expect(page.locator(".model-row")).not_to_have_count(0)
    expect(acme_row(page)).to_have_count(0)
    expect(page.get_by_role("dialog", name="Choose a model")).not_to_contain_text("acme")
    # the last used model no longer resolves: the chat falls back to the global default
    expect(page.locator("#model-button-name")).to_contain_text("Offline chat")
    no_page_errors(page)
    page.context.close()


def card_id(page: Page, name: str) -> str:
    article = page.get_by_role("article", name=f"Provider {name}")
    ident = article.get_attribute("id") if article.count() else None
    if ident is None:
        # we are on the models page now: find the option by its label
        return page.locator("#model-provider option", has_text=name).get_attribute("value") or ""
    return ident.removeprefix("provider-")


def test_global_default_and_unconfigured_provider(browser: Browser, server: Running) -> None:
    make_user(server, "grace", "admin")
    page = login(browser, server, "grace")
    # a provider without a key (seeded enabled: not configured is not disabled): its
    # models greyed with a "Configure API key" action
    page.goto("/settings/providers")
    card = page.get_by_role("article", name="Provider anthropic")
    expect(card.get_by_role("switch", name="Enable anthropic")).to_be_checked()
    expect(card.locator(".pcard-head")).not_to_contain_text("Disabled")
    page.goto("/")
    open_picker(page)
    picker = page.get_by_role("dialog", name="Choose a model")
    first = picker.locator('.model-row[data-ref^="anthropic:"]').first
    expect(first).to_be_disabled()
    picker.get_by_role("group", name="anthropic").get_by_role(
        "link", name="Configure API key").click()
    expect(page).to_have_url(f"{server.url}/settings/providers#provider-{provider_id(page)}")
    expect(page.get_by_role("dialog", name="Edit anthropic")).to_be_visible()
    page.keyboard.press("Escape")

    # set a global default on the Models page
    page.goto("/settings/models")
    page.locator("#model-provider").select_option(label="offline")
    offline_row = page.locator("tr", has=page.locator("code", has_text="offline-chat"))
    expect(offline_row).to_contain_text("Default")
    # the embedding model says what it is, and cannot be made the default
    embed_row = page.locator("tr", has=page.locator("code", has_text="offline-embed"))
    expect(embed_row).to_contain_text("Embeddings · 256 dimensions")
    expect(embed_row.get_by_role("button", name="Set default")).to_have_count(0)
    page.get_by_role("button", name="Add model").click()
    form = page.get_by_role("dialog", name="Add a model to offline")
    form.get_by_label("Model SDK id").fill("offline-echo")
    form.get_by_label("Name", exact=True).fill("Offline echo")
    form.get_by_label("Streaming").check()
    form.get_by_role("button", name="Add model").click()
    target = page.locator("tr", has=page.locator("code", has_text="offline-echo"))
    sdk = "offline-echo"
    target.get_by_role("button", name="Set default").click()
    expect(target.locator(".default-star")).to_be_visible()
    expect(offline_row.get_by_role("button", name="Set default")).to_be_visible()

    # a user without a saved choice gets the new default, marked in the selector
    make_user(server, "newbie")
    fresh = login(browser, server, "newbie")
    open_picker(fresh)
    expect(fresh.locator('.model-row[data-ref="offline:offline-embed"]')).to_have_count(0)
    row = fresh.locator(f'.model-row[data-ref="offline:{sdk}"]')
    expect(row).to_have_attribute("aria-selected", "true")
    expect(row.locator(".default-tag")).to_be_visible()
    fresh.keyboard.press("Escape")
    fresh.context.close()
    # put the default back for the other tests of this module
    offline_row.get_by_role("button", name="Set default").click()
    expect(offline_row.locator(".default-star")).to_be_visible()
    no_page_errors(page)
    page.context.close()


def provider_id(page: Page) -> str:
    return page.url.rsplit("#provider-", 1)[-1]


def test_key_expiry_set_replaced_and_cleared(
        browser: Browser, server: Running, vendor: tuple[FakeVendor, str]) -> None:
    _fake, base_url = vendor
    admin = make_user(server, "kay", "admin")
    page = login(browser, server, "kay")
    page.goto("/settings/providers")
    in_ten_days = date.today() + timedelta(days=10)

    # adding a provider: the date is only editable once a key is pasted
    page.get_by_role("button", name="Add provider").click()
    dialog = page.get_by_role("dialog", name="Add provider")
    dialog.get_by_label("Kind").select_option(label="OpenAI-compatible endpoint")
    dialog.get_by_label("Name").fill("expiring")
    dialog.get_by_label("Base URL").fill(base_url)
    expiry = dialog.get_by_label("Key expires on")
    expect(expiry).to_be_disabled()
    dialog.get_by_label("API key").fill("sk-expiring-key-4242")
    expect(expiry).to_be_enabled()
    expiry.fill((date.today() - timedelta(days=3)).isoformat())
    dialog.get_by_role("button", name="Add provider").click()
    expect(dialog.get_by_role("alert")).to_contain_text("The expiry date must be in the future")
    expect(expiry).to_be_focused()
    expiry.fill(in_ten_days.isoformat())
    dialog.get_by_role("button", name="Add provider").click()
    card = page.get_by_role("article", name="Provider expiring")
    expect(card.locator(".light-warn")).to_be_visible()
    expect(card.locator(".status-label")).to_have_text("Key expires in 10 days")
    expect(card.locator(".key-expiry")).to_contain_text("expires")
    expect(card).to_contain_text("…4242")
    assert stored_expiry(server, admin, "expiring") == local_midnight(in_ten_days)

    # editing: the current date is shown; it changes only with a newly pasted key
    card.get_by_role("button", name="Edit expiring").click()
    edit = page.get_by_role("dialog", name="Edit expiring")
    expiry = edit.get_by_label("Key expires on")
    expect(expiry).to_have_value(in_ten_days.isoformat())
    expect(expiry).to_be_disabled()
    edit.get_by_label("API key").fill("sk-replaced-key-9191")
    expect(expiry).to_be_enabled()
    later = date.today() + timedelta(days=90)
    expiry.fill(later.isoformat())
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_be_hidden()
    expect(card).to_contain_text("…9191")
    expect(card.locator(".status-label")).to_have_text("Not tested yet")
    expect(card.locator(".key-expiry")).to_be_visible()
    assert stored_expiry(server, admin, "expiring") == local_midnight(later)

    # a new key with the date emptied: the key no longer expires
    card.get_by_role("button", name="Edit expiring").click()
    edit = page.get_by_role("dialog", name="Edit expiring")
    edit.get_by_label("API key").fill("sk-forever-key-3030")
    edit.get_by_label("Key expires on").fill("")
    edit.get_by_role("button", name="Save").click()
    expect(card).to_contain_text("…3030")
    expect(card.locator(".key-expiry")).to_have_count(0)
    assert stored_expiry(server, admin, "expiring") is None
    page.reload()
    expect(page.get_by_role("article", name="Provider expiring")).to_contain_text("…3030")

    # leave the module as it was
    page.get_by_role("article", name="Provider expiring").get_by_role(
        "button", name="Delete expiring").click()
    page.get_by_role("dialog", name="Delete expiring?").get_by_role("button", name="Delete").click()
    expect(page.get_by_role("article", name="Provider expiring")).to_have_count(0)
    no_page_errors(page)
    page.context.close()


def stored_expiry(server: Running, token: str, name: str) -> datetime | None:
    """The key's expiry as the REST API reports it."""
    reply = httpx.get(f"{server.url}/api/config/providers", timeout=30,
                      headers={"authorization": f"Bearer {token}"})
    assert reply.status_code == 200, reply.text
    (provider,) = [p for p in reply.json() if p["name"] == name]
    value = provider["key"]["expires_at"]
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the browser's time zone (the test machine's)."""
    return datetime.combine(day, time()).astimezone(UTC)
