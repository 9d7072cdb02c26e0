"""A model that answers with text and pictures (Gemini's image output, a fake speaking
Gemini's wire): the page shows the picture in its place among the text, while it
streams and after a reload."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
from playwright.sync_api import Browser, expect

from tests.api.chat_support import add_provider
from tests.fakes import gemini as gemini_fake
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import in_thread, login, make_user, no_page_errors, shot


@pytest.fixture(scope="module")
def gemini() -> Iterator[str]:
    with serve_in_thread(FakeVendor(gemini_fake.Wire())) as url:
        yield url


ORDER = """() => [...document.querySelectorAll('.msg-assistant .md > *')].map((el) =>
  el.matches('figure.picture') ? 'picture' : el.textContent.trim())"""


def test_a_mixed_text_and_picture_answer_reads_in_order(browser: Browser, server: Running,
                                                        gemini: str) -> None:
    ref = in_thread(partial(add_provider, vision=True, image_output=True), server, "banana",
                    "gemini", gemini, gemini_fake.IMAGE_MODEL)
    make_user(server, "mira")
    page = login(browser, server, "mira", viewport={"width": 1280, "height": 940})
    page.locator("#model-button").click()
    page.locator(f'.model-row[data-ref="{ref}"]').click()
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("a blue whale")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md > .picture img")).to_be_visible()
    expect(answer.locator(".msg-meta")).to_contain_text("$")  # priced: text + one picture
    assert page.evaluate(ORDER) == ["Here is a blue whale:", "picture",
                                    "I hope you like it."]
    src = answer.locator(".md > .picture img").get_attribute("src") or ""
    assert src.startswith("/api/files/")
    # visible is not decoded: on a loaded machine the picture may still be arriving
    page.wait_for_function(
        "document.querySelector('.msg-assistant .md img')?.complete === true")
    assert page.evaluate("document.querySelector('.msg-assistant .md img').naturalWidth") > 0
    expect(answer.locator(".msg-pictures .picture")).to_have_count(0)  # not twice
    # the page's tools are on by default: this model takes none, and says so once
    expect(page.locator(".banner-warn")).to_contain_text("answers with pictures")
    page.locator(".banner-warn").get_by_role("button", name="Dismiss").click()
    answer.locator(".msg-foot").scroll_into_view_if_needed()
    shot(page, "chat-mixed")
    page.reload()
    expect(page.locator(".msg-assistant .md > .picture img")).to_be_visible()
    assert page.evaluate(ORDER) == ["Here is a blue whale:", "picture",
                                    "I hope you like it."]
    no_page_errors(page)
    page.context.close()
