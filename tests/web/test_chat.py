"""The chat page in a real browser: log in, stream an answer from the offline model and
see its tokens and cost; stop, regenerate, rate; rename, search and delete
conversations; XSS in a model's answer and in a conversation title stays inert;
preferences (theme) follow the user; the phone-sized layout."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.fakes.openai import Wire
from tests.fakes.script import Reply, Stall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import PHONE, login, make_user, no_page_errors, shot

XSS = ('Look: <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> '
       '[click me](javascript:window.__xss=3) **bold**')


@pytest.fixture(scope="module")
def vendor(server: Running) -> Iterator[FakeVendor]:
    """A fake OpenAI-compatible vendor registered as provider ``acme`` (through the API)."""
    fake = FakeVendor(Wire())
    with serve_in_thread(fake) as url:
        admin = make_user(server, "setup-admin", "admin")
        auth = {"authorization": f"Bearer {admin}"}
        with httpx.Client(base_url=server.url, headers=auth) as api:
            created = api.post("/api/config/providers", json={
                "name": "acme", "kind": "openai_compatible", "base_url": f"{url}/v1",
                "api_key": "sk-test-key-1234"})
            assert created.status_code == 201, created.text
            imported = api.post(f"/api/config/providers/{created.json()['id']}/import-models")
            assert imported.status_code == 200, imported.text
        yield fake


def choose(server: Running, username: str, ref: str) -> None:
    """Save ``ref`` as the user's model (the UI restores it on load)."""
    token = make_user(server, username)
    reply = httpx.put(f"{server.url}/api/me/preferences",
                      headers={"authorization": f"Bearer {token}"},
                      json={"selected_model": ref, "settings": {}})
    assert reply.status_code == 200, reply.text


def send(page: Page, text: str) -> None:
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(text)
    prompt.press("Enter")


def test_login_and_chat_with_offline_model(browser: Browser, server: Running) -> None:
    make_user(server, "ada", "admin")
    page = login(browser, server, "ada")
    expect(page.locator("#model-button-name")).to_contain_text("Offline chat")
    expect(page.get_by_text("You're chatting with the built-in offline model")).to_be_visible()
    shot(page, "chat-empty")

    send(page, "Hello! Write a short Python function that adds two numbers.")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).not_to_be_empty()
    expect(answer.locator(".msg-meta")).to_contain_text("tokens")
    expect(answer.locator(".msg-meta")).to_contain_text("$")
    expect(answer).not_to_have_class("streaming")
    expect(page).to_have_url(f"{server.url}/c/1")
    expect(page.locator(".conv-item")).to_have_count(1)
    # Shift+Enter adds a line instead of sending
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Thanks!")
    prompt.press("Shift+Enter")
    prompt.press_sequentially("What are you?")
    expect(prompt).to_have_value("Thanks!\nWhat are you?")
    prompt.press("Enter")
    expect(page.locator(".msg-assistant")).to_have_count(2)
    expect(page.locator(".msg-assistant").last.locator(".msg-meta")).to_contain_text("tokens")
    expect(page.locator(".msg-user .bubble").last).to_have_text("Thanks!\nWhat are you?")
    shot(page, "chat")

    # the conversation survives a reload; a new chat goes back to the welcome screen
    page.reload()
    expect(page.locator(".msg-assistant")).to_have_count(2)
    page.get_by_role("button", name="New chat").first.click()
    expect(page).to_have_url(f"{server.url}/")
    expect(page.get_by_text("How can I help today?")).to_be_visible()
    no_page_errors(page)
    page.context.close()


def test_xss_in_answer_and_title_stays_inert(browser: Browser, server: Running,
                                             vendor: FakeVendor) -> None:
    choose(server, "mallory", "acme:gpt-4o-mini")
    page = login(browser, server, "mallory")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    expect(page.locator("#model-button-name")).to_have_text("gpt-4o-mini")
    vendor.then(Reply(chunks=[XSS[:30], XSS[30:70], XSS[70:]]))
    send(page, '<img src=y onerror="window.__xss=4">')
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_contain_text('<img src=x onerror="window.__xss=1">')
    expect(answer.locator(".md")).to_contain_text("<script>window.__xss=2</script>")
    expect(answer.locator(".md strong")).to_have_text("bold")
    expect(answer.locator(".md img, .md script, .md a")).to_have_count(0)
    expect(page.locator(".msg-user .bubble")).to_have_text('<img src=y onerror="window.__xss=4">')
    expect(answer.locator(".msg-head")).to_contain_text("gpt-4o-mini")

    # a title with markup, set through the rename action
    item = page.locator(".conv-item").first
    item.hover()
    item.get_by_role("button", name="Rename").click()
    title = '<img src=z onerror="window.__xss=5">"><b>x</b>'
    page.get_by_label("Conversation title").fill(title)
    page.get_by_label("Conversation title").press("Enter")
    expect(page.locator(".conv-item a").first).to_have_text(title)
    expect(page.locator("#chat-title")).to_have_text(title)
    page.reload()
    expect(page.locator(".conv-item a").first).to_have_text(title)
    expect(page.locator(".md").last).to_contain_text("window.__xss=2")
    assert page.locator(".sidebar img, .messages img, .sidebar b").count() == 0
    assert page.evaluate("window.__xss") is None
    assert dialogs == []
    no_page_errors(page)
    page.context.close()


def test_stop_regenerate_rate(browser: Browser, server: Running, vendor: FakeVendor) -> None:
    choose(server, "sam", "acme:gpt-4o-mini")
    page = login(browser, server, "sam")
    vendor.then(Stall(Reply(chunks=["Once upon ", "a time ", "there was"]), after=1, seconds=3))
    send(page, "Tell me a long story")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_contain_text("Once upon")
    expect(page.get_by_role("button", name="Stop answering")).to_be_visible()
    page.keyboard.press("Escape")
    expect(answer.locator(".msg-meta")).to_contain_text("Stopped")
    expect(page.get_by_role("button", name="Send message")).to_be_visible()

    vendor.then(Reply(chunks=["A short ", "story."], input_tokens=20, output_tokens=3))
    answer.hover()
    answer.get_by_role("button", name="Regenerate answer").click()
    expect(page.locator(".msg-assistant")).to_have_count(1)
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_have_text("A short story.")
    expect(answer.locator(".msg-meta")).to_contain_text("20 in · 3 out tokens")
    answer.get_by_role("button", name="Good answer").click()
    thumb = answer.get_by_role("button", name="Good answer")
    expect(thumb).to_have_attribute("aria-pressed", "true")
    page.reload()
    thumb = page.locator(".msg-assistant").last.get_by_role("button", name="Good answer")
    expect(thumb).to_have_attribute("aria-pressed", "true")
    no_page_errors(page)
    page.context.close()


def test_search_and_delete_conversations(browser: Browser, server: Running) -> None:
    make_user(server, "lin")
    page = login(browser, server, "lin")
    send(page, "Apples are red")
    expect(page.locator(".msg-assistant .msg-meta")).to_contain_text("tokens")
    page.get_by_role("button", name="New chat").first.click()
    send(page, "Bananas are yellow")
    expect(page.locator(".msg-assistant .msg-meta")).to_contain_text("tokens")
    expect(page.locator(".conv-item")).to_have_count(2)
    page.get_by_label("Search conversations").fill("banana")
    expect(page.locator(".conv-item")).to_have_count(1)
    expect(page.locator(".conv-item")).to_contain_text("Bananas")
    page.get_by_label("Search conversations").fill("")
    expect(page.locator(".conv-item")).to_have_count(2)
    item = page.locator(".conv-item", has_text="Bananas")
    item.hover()
    item.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog", name="Delete conversation?").get_by_role(
        "button", name="Delete").click()
    expect(page.locator(".conv-item")).to_have_count(1)
    expect(page).to_have_url(f"{server.url}/")
    # a conversation of someone else is not shown
    page.goto("/c/1")
    expect(page.get_by_text("Conversation not found")).to_be_visible()
    no_page_errors(page)
    page.context.close()


def test_preferences_follow_the_user_and_phone_layout(browser: Browser,
                                                      server: Running) -> None:
    make_user(server, "kim")
    page = login(browser, server, "kim")
    page.get_by_role("button", name="Preferences").click()
    dialog = page.get_by_role("dialog", name="Preferences")
    dialog.get_by_role("radio", name="Dark").check()
    dialog.get_by_text("Advanced").click()
    dialog.get_by_label("System prompt").fill("Answer briefly.")
    dialog.get_by_label("Max output tokens").fill("300")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Preferences saved")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    send(page, "Hi there! Show me a JavaScript example of fetch.")
    expect(page.locator(".msg-assistant .msg-meta")).to_contain_text("tokens")
    page.context.close()

    phone = login(browser, server, "kim", viewport=PHONE)
    expect(phone.locator("html")).to_have_attribute("data-theme", "dark")
    expect(phone.locator("#sidebar")).not_to_be_in_viewport()
    phone.get_by_label("Open conversation list").click()
    expect(phone.locator("#sidebar")).to_be_in_viewport()
    shot(phone, "chat-phone-drawer")
    phone.locator(".conv-item a").first.click()
    expect(phone.locator("#sidebar")).not_to_be_in_viewport()
    expect(phone.locator(".msg-assistant")).to_have_count(1)
    expect(phone.locator(".msg-assistant .msg-meta")).to_contain_text("tokens")
    shot(phone, "chat-phone")
    phone.get_by_role("button", name="Change model").click()
    expect(phone.get_by_role("dialog", name="Choose a model")).to_be_in_viewport()
    no_page_errors(phone)
    phone.context.close()
