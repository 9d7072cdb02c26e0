"""Image models in the chat page (decision 0141): picked from the picker's image section,
the message is drawn, the picture shows with its prompt, size and cost, opens in a
lightbox, downloads, and a vision model answers about it in the next turn."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from switchboard.providers.offline.image import draw, draw_edit
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, shot


def test_draw_with_an_image_model_then_ask_about_it(browser: Browser, server: Running) -> None:
    make_user(server, "iris")
    page = login(browser, server, "iris")
    expect(page.locator("#model-button-name")).to_contain_text("Offline chat")  # loaded
    page.locator("#model-button").click()
    expect(page.locator(".picker-section-head")).to_contain_text("Image models")
    page.locator('.model-row[data-ref="offline:offline-image"]').click()
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("A lighthouse at dusk")
    prompt.press("Enter")
    picture = page.locator(".msg-assistant .picture").first
    expect(picture.locator("img")).to_be_visible()
    expect(picture.locator(".picture-prompt")).to_have_text("A lighthouse at dusk")
    expect(picture.locator(".picture-facts")).to_contain_text("512x512")
    expect(picture.locator(".picture-facts")).to_contain_text("$")
    # visible is not decoded: on a loaded machine the PNG may still be arriving
    page.wait_for_function(
        "document.querySelector('.msg-assistant .picture img')?.complete === true")
    assert page.evaluate(
        "document.querySelector('.msg-assistant .picture img').naturalWidth") == 512
    download = picture.get_by_role("link", name="Download picture")
    assert (download.get_attribute("href") or "").startswith("/api/files/")
    picture.get_by_role("button", name="Enlarge picture").click()
    lightbox = page.locator("dialog.lightbox")
    expect(lightbox).to_be_visible()
    page.keyboard.press("Escape")
    expect(lightbox).to_have_count(0)
    shot(page, "chat-image")

    # a vision model (the offline chat model) is shown the picture in the next turn
    page.locator("#model-button").click()
    page.locator('.model-row[data-ref="offline:offline-chat"]').click()
    prompt.fill("What did you draw?")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_contain_text("I received an image (image/png",
                                                  timeout=20_000)  # the offline model streams
    expect(answer.locator(".msg-meta")).to_contain_text("tokens")
    page.reload()
    expect(page.locator(".msg-assistant .picture img")).to_be_visible()
    expect(page.locator(".msg-assistant").last.locator(".md")).not_to_be_empty()
    page.locator(".msg-assistant").last.scroll_into_view_if_needed()
    shot(page, "chat-image-followup")
    no_page_errors(page)
    page.context.close()


def test_an_image_model_that_edits_takes_an_attached_picture(browser: Browser,
                                                              server: Running) -> None:
    """offline-image edits (decision 0187): the page lets a picture be attached to it
    (no "can't see pictures" question: it is an edit) and shows the edited picture."""
    make_user(server, "rhea")
    page = login(browser, server, "rhea")
    expect(page.locator("#model-button-name")).to_contain_text("Offline chat")
    page.locator("#model-button").click()
    page.locator('.model-row[data-ref="offline:offline-image"]').click()
    source = draw("a plain cat", "256x256")
    page.locator("#file-input").set_input_files([
        {"name": "cat.png", "mimeType": "image/png", "buffer": source}])
    expect(page.locator("#attachments img")).to_have_count(1)
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("give it a hat")
    prompt.press("Enter")
    picture = page.locator(".msg-assistant .picture").first
    expect(picture.locator("img")).to_be_visible()
    expect(page.locator("dialog[open]")).to_have_count(0)  # nothing was asked
    href = picture.get_by_role("link", name="Download picture").get_attribute("href") or ""
    got = page.request.get(server.url + href)
    assert got.body() == draw_edit("give it a hat", "512x512", (source,))
    no_page_errors(page)
    page.context.close()
