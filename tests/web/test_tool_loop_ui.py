"""The tool loop in a real browser, with the server's own tools: the composer's tools
menu (GET /api/tools) sends the switched-on tools, the offline model chains the
calculator and the clock (made to ask first), the cards show each call running, waiting
for approval (Allow / Don't allow), its result and duration, and a reload shows the saved
steps with their results — while it waits for approval and after it ended."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, shot
from tests.web.test_chat import send


def test_tools_menu_cards_and_approval_in_the_chat(browser: Browser, server: Running) -> None:
    admin = make_user(server, "tool-admin", "admin")
    asked = httpx.patch(f"{server.url}/api/tools/datetime", timeout=30, json={"policy": "ask"},
                        headers={"authorization": f"Bearer {admin}"})
    assert asked.status_code == 200, asked.text
    make_user(server, "tess")
    page = login(browser, server, "tess")

    menu_button = page.get_by_role("button", name="Tools")
    expect(menu_button).to_be_visible()
    menu_button.click()
    menu = page.get_by_role("group", name="Tools the model may use")
    expect(menu.get_by_label("Calculator")).to_be_checked()  # on in new chats
    menu.get_by_label("Fetch url").uncheck()
    expect(menu_button).to_contain_text("Tools (4)")
    shot(page, "chat-tools-menu")
    menu_button.click()

    with page.expect_request("**/api/chat/stream") as sent:
        send(page, "Compute 6 * 7, then tell me what time it is.")
    body = sent.value.post_data_json
    assert "fetch_url" not in body["tools"] and {"calculator", "datetime"} <= set(body["tools"])

    answer = page.locator(".msg-assistant").last
    calc_card = answer.locator(".tool-call", has_text="calculator")
    expect(calc_card.get_by_text("Done")).to_be_visible()
    expect(calc_card.get_by_label("Result")).to_contain_text("42")
    clock_card = answer.locator(".tool-call", has_text="datetime")
    expect(clock_card.get_by_text("Waiting for your approval")).to_be_visible()
    shot(page, "chat-tool-approval")

    # Reloaded while it waits: the answer is followed again, each card shown once, and the
    # buttons are back.
    page.reload()
    answer = page.locator(".msg-assistant").last
    expect(page.locator(".tool-call", has_text="calculator")).to_have_count(1)
    clock_card = answer.locator(".tool-call", has_text="datetime")
    clock_card.get_by_role("button", name="Allow", exact=True).click()
    expect(clock_card.get_by_label("Result")).to_contain_text("UTC")
    expect(clock_card.get_by_role("button", name="Allow", exact=True)).to_have_count(0)
    expect(page.locator(".msg-assistant.streaming")).to_have_count(0)
    expect(answer.locator(".md")).to_contain_text("42")
    shot(page, "chat-tool-cards")

    page.reload()  # ended: the saved steps show the same cards with their results
    for name, text in (("calculator", "42"), ("datetime", "UTC")):
        card = page.locator(".tool-call", has_text=name)
        expect(card).to_have_count(1)
        expect(card.get_by_label("Result")).to_contain_text(text)

    # The conversation remembers its tools across reloads (Fetch url stayed off); a
    # change in the menu is remembered before the next message.
    menu_button = page.get_by_role("button", name="Tools")
    menu_button.click()
    menu = page.get_by_role("group", name="Tools the model may use")
    expect(menu.get_by_label("Fetch url")).not_to_be_checked()
    expect(menu.get_by_label("Calculator")).to_be_checked()
    with page.expect_response(lambda r: r.request.method == "PATCH"
                              and "/api/conversations/" in r.url) as saved:
        menu.get_by_label("Calculator").uncheck()
    assert saved.value.ok
    page.reload()
    page.get_by_role("button", name="Tools").click()
    menu = page.get_by_role("group", name="Tools the model may use")
    expect(menu.get_by_label("Calculator")).not_to_be_checked()
    expect(menu.get_by_label("Generate image")).to_be_checked()
    page.get_by_role("button", name="Tools").click()

    # A picture a tool made shows on its card, live and after a reload.
    send(page, "Generate an image: draw a red lighthouse at dusk.")
    card = page.locator(".msg-assistant").last.locator(".tool-call", has_text="generate_image")
    expect(card.get_by_role("img", name="Picture from generate_image")).to_be_visible()
    expect(page.locator(".msg-assistant.streaming")).to_have_count(0)
    card.scroll_into_view_if_needed()
    shot(page, "chat-tool-picture")
    page.reload()  # the saved step's card (the step is its own message now)
    card = page.locator(".tool-call", has_text="generate_image")
    expect(card.get_by_role("img", name="Picture from generate_image")).to_be_visible()
    no_page_errors(page)
