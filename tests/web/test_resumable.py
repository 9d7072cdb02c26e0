"""Resumable answers in a real browser: a reload at a random point mid-answer ends with
text byte-identical to an uninterrupted run; a second tab shows the same answer as it is
written; the stop button of the second tab stops the answer in both; a connection cut
mid-answer is picked up again after its last event; a message sent while an answer is
still being written follows it instead of being lost.

The fake vendor holds its stream after a chosen number of chunks (``Hold``) until the
test lets it go, so "mid-answer" is certain without sleeping."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.fakes.script import Hold, Reply
from tests.fakes.vendor import FakeVendor
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, openai_vendor_with_key
from tests.web.test_chat import choose, send

KEY = "sk-resume-key-4321"
# Markdown, code, maths-free: what the renderer turns into several kinds of element.
CHUNKS = ["# A story\n\n", "Once upon ", "a time, ", "in a **land** ", "far away, ",
          "there was ", "a list:\n\n", "- one\n", "- two\n", "- three\n\n",
          "```python\n", "print('end')\n", "```\n\n", "The ", "end."]
REPLY = Reply(chunks=CHUNKS, input_tokens=30, output_tokens=len(CHUNKS))


@pytest.fixture(scope="module")
def vendor(server: Running) -> Iterator[FakeVendor]:
    """A fake OpenAI-compatible vendor registered as provider ``tales``."""
    with openai_vendor_with_key(KEY) as (fake, url):
        admin = make_user(server, "resume-admin", "admin")
        with httpx.Client(timeout=30, base_url=server.url,
                          headers={"authorization": f"Bearer {admin}"}) as api:
            created = api.post("/api/config/providers", json={
                "name": "tales", "kind": "openai_compatible", "base_url": url,
                "api_key": KEY})
            assert created.status_code == 201, created.text
            imported = api.post(f"/api/config/providers/{created.json()['id']}/import-models")
            assert imported.status_code == 200, imported.text
        yield fake


@pytest.fixture
def holds() -> Iterator[list[Hold]]:
    """Held vendor streams, all let go at the end whatever happened."""
    made: list[Hold] = []
    yield made
    for hold in made:
        hold.release.set()


def held(holds: list[Hold], after: int) -> Hold:
    hold = Hold(REPLY, after=after)
    holds.append(hold)
    return hold


def finished(page: Page) -> str:
    """The last answer's rendered HTML once it has been saved (tokens shown)."""
    answer = page.locator(".msg-assistant").last
    expect(answer).not_to_have_class("streaming")
    expect(answer.locator(".msg-meta")).to_contain_text(f"{len(CHUNKS)} out tokens")
    return answer.locator(".md").inner_html()


def said_so_far(point: int) -> str:
    """Words of the last chunk before ``point`` that show on the page ("" for a code
    fence), so the test can see the answer has reached it."""
    for chunk in reversed(CHUNKS[:point]):
        words = re.sub(r"[#*`\-]|python", " ", chunk).split()
        if words:
            return words[-1]
    return ""


def shown_text(page: Page) -> str:
    return page.locator(".msg-assistant").last.locator(".md").inner_text()


def test_reload_mid_answer_ends_byte_identical(browser: Browser, server: Running,
                                              vendor: FakeVendor, holds: list[Hold]) -> None:
    choose(server, "rita", "tales:gpt-4o-mini")
    page = login(browser, server, "rita")
    vendor.then(REPLY)
    send(page, "Tell me a story")
    uninterrupted = finished(page)
    text = page.locator(".msg-assistant").last.locator(".md").inner_text()

    point = random.randrange(1, len(CHUNKS) - 1)
    hold = held(holds, point)
    vendor.then(hold)
    page.get_by_role("button", name="New chat").first.click()
    send(page, "Tell me a story")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_contain_text(said_so_far(point))
    expect(page).to_have_url(f"{server.url}/c/2")
    page.reload()  # mid-answer: the server goes on writing it
    answer = page.locator(".msg-assistant").last
    expect(answer).to_have_class("msg msg-assistant streaming")
    expect(page.get_by_role("button", name="Stop answering")).to_be_visible()
    expect(answer.locator(".md")).to_contain_text(said_so_far(point))
    hold.release.set()
    assert finished(page) == uninterrupted, f"reloaded after chunk {point}"
    assert shown_text(page) == text
    page.reload()  # and as saved
    assert finished(page) == uninterrupted
    no_page_errors(page)
    page.context.close()


def test_two_tabs_show_the_same_answer_and_either_stops_it(
        browser: Browser, server: Running, vendor: FakeVendor, holds: list[Hold]) -> None:
    choose(server, "tess", "tales:gpt-4o-mini")
    first = login(browser, server, "tess")
    hold = held(holds, 4)
    vendor.then(hold)
    send(first, "Tell me a story")
    expect(first.locator(".msg-assistant .md")).to_contain_text("in a land")
    second = login(browser, server, "tess")
    second.goto(first.url)  # the conversation, opened in another tab mid-answer
    expect(second.locator(".msg-assistant")).to_have_class("msg msg-assistant streaming")
    expect(second.locator(".msg-assistant .md")).to_contain_text("in a land")
    hold.release.set()
    assert finished(second) == finished(first)
    assert shown_text(second) == shown_text(first)

    # the next answer is stopped from the second tab
    hold = held(holds, 2)
    vendor.then(hold)
    send(first, "Another one")
    expect(first.locator(".msg-assistant").last.locator(".md")).to_contain_text("Once upon")
    second.reload()
    expect(second.locator(".msg-assistant")).to_have_count(2)
    expect(second.locator(".msg-assistant").last.locator(".md")).to_contain_text("Once upon")
    second.get_by_role("button", name="Stop answering").click()
    for page in (second, first):
        answer = page.locator(".msg-assistant").last
        expect(answer.locator(".msg-meta")).to_contain_text("Stopped")
        expect(answer).not_to_have_class("streaming")
        expect(page.get_by_role("button", name="Send message")).to_be_visible()
        assert " ".join(shown_text(page).split()) == "A story Once upon"
    for page in (first, second):
        no_page_errors(page)
        page.context.close()


def test_a_dropped_connection_resumes_after_the_last_event(
        browser: Browser, server: Running, vendor: FakeVendor, holds: list[Hold]) -> None:
    """The page's stream of a new answer is cut after four events (start and three
    chunks): the page reattaches with Last-Event-ID 4 and shows the whole answer."""
    token = make_user(server, "dina")
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"authorization": f"Bearer {token}"}) as api:
        assert api.put("/api/me/preferences", json={
            "selected_model": "tales:gpt-4o-mini", "settings": {}}).status_code == 200
        page = login(browser, server, "dina")
        hold = held(holds, 3)
        vendor.then(hold)
        reattached: list[dict[str, str]] = []
        page.on("request", lambda r: reattached.append(r.headers)
                if "/api/messages/" in r.url and r.url.endswith("/stream") else None)

        def cut_short(route: Route) -> None:
            """The real answer (asked by the same user), but only its first 4 events."""
            lines: list[str] = []
            with api.stream("POST", "/api/chat/stream",
                            json=route.request.post_data_json) as r:
                for line in r.iter_lines():
                    lines.append(line)
                    if sum(x.startswith("data: ") for x in lines) == 4:
                        break
            route.fulfill(status=200, content_type="text/event-stream",
                          body="\n".join(lines) + "\n\n")

        page.route("**/api/chat/stream", cut_short)
        send(page, "Tell me a story")
        answer = page.locator(".msg-assistant").last
        expect(answer).to_have_class("msg msg-assistant streaming")
        expect(answer.locator(".md")).to_contain_text("a time")
        hold.release.set()
        whole = finished(page)
        page.unroute("**/api/chat/stream")
        assert [h.get("last-event-id") for h in reattached] == ["4"]
        page.reload()
        assert finished(page) == whole  # what was shown is what was saved
        assert " ".join(shown_text(page).split()).startswith("A story Once upon a time, in a")
        no_page_errors(page)
        page.context.close()


def test_an_enter_while_the_answer_is_written_sends_when_it_ends(
        browser: Browser, server: Running, vendor: FakeVendor, holds: list[Hold]) -> None:
    """The answer's text is on screen a moment before it ends (its save, on a loaded
    machine up to seconds): an Enter pressed meanwhile was ignored without a word and the
    message never sent (the XSS browser test lost its vendor-error message to it). It
    is kept, said so, and sent when the answer ends; until then the text stays editable."""
    choose(server, "quinn", "tales:gpt-4o-mini")
    page = login(browser, server, "quinn")
    prompt = page.get_by_label("Message", exact=True)
    hold = held(holds, 2)
    vendor.then(hold)
    send(page, "Tell me a story")
    answer = page.locator(".msg-assistant").last
    expect(answer.locator(".md")).to_contain_text(said_so_far(2))
    vendor.then(Reply(chunks=["Second ", "answer."]))
    send(page, "And another one")
    expect(page.locator("#composer-queued")).to_be_visible()
    expect(prompt).to_have_value("And another one")
    expect(page.locator(".msg-user")).to_have_count(1)
    hold.release.set()
    expect(page.locator(".msg-user")).to_have_count(2)
    expect(page.locator(".msg-user").last).to_contain_text("And another one")
    expect(page.locator(".msg-assistant").last.locator(".md")).to_have_text("Second answer.")
    expect(prompt).to_have_value("")
    expect(page.locator("#composer-queued")).to_be_hidden()
    assert "And another one" in str(vendor.chat_requests()[-1].body["messages"])
    no_page_errors(page)
    page.context.close()


def test_a_message_sent_as_the_page_reattaches_is_kept_and_answered(
        browser: Browser, server: Running, vendor: FakeVendor, holds: list[Hold]) -> None:
    """Reloaded mid-answer, the page does not know an answer is being written until it
    has loaded the conversation; an Enter pressed before that was handed on (the box
    emptied), waited for the page, then found the answer running and was dropped without
    a word. It is kept (said so, still in the box) and sent when the answer ends. The
    conversation's load is held back until the Enter, so the moment is certain."""
    choose(server, "rhea", "tales:gpt-4o-mini")
    page = login(browser, server, "rhea")
    prompt = page.get_by_label("Message", exact=True)
    hold = held(holds, 3)
    vendor.then(hold)
    send(page, "Tell me a story")
    expect(page.locator(".msg-assistant .md")).to_contain_text(said_so_far(3))
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    opening: list[Route] = []
    conversation = re.compile(r"/api/conversations/\d+$")
    page.route(conversation, lambda route: opening.append(route))  # held back
    with page.expect_request(conversation):
        page.reload()
    vendor.then(Reply(chunks=["Second ", "answer."]))
    send(page, "And one more")
    expect(page.locator("#composer-queued")).to_be_visible()
    expect(prompt).to_have_value("And one more")
    opening[0].continue_()
    page.unroute(conversation)
    answer = page.locator(".msg-assistant").last
    expect(answer).to_have_class("msg msg-assistant streaming")  # reattached
    expect(page.locator("#composer-queued")).to_contain_text("when this answer ends")
    expect(page.locator(".msg-user")).to_have_count(1)
    hold.release.set()
    expect(page.locator(".msg-user")).to_have_count(2)
    expect(page.locator(".msg-user").last).to_contain_text("And one more")
    expect(page.locator(".msg-assistant").last.locator(".md")).to_have_text("Second answer.")
    expect(prompt).to_have_value("")
    expect(page.locator("#composer-queued")).to_be_hidden()
    assert "And one more" in str(vendor.chat_requests()[-1].body["messages"])
    no_page_errors(page)
    page.context.close()


def test_a_conversation_that_loads_after_new_chat_is_not_shown_over_it(
        browser: Browser, server: Running, vendor: FakeVendor) -> None:
    """Going back to a conversation and then clicking New chat before it has loaded: the
    late answer of that load used to draw the old conversation over the new chat, and the
    next message went into the old conversation. The load is held back until New chat is
    clicked; the message sent then waits for that load to end (the composer is busy while
    a conversation opens), so the outcome is certain without sleeping."""
    choose(server, "nora", "tales:gpt-4o-mini")
    page = login(browser, server, "nora")
    vendor.then(Reply(chunks=["First ", "answer."]))
    send(page, "Hello")
    expect(page.locator(".msg-assistant").last.locator(".md")).to_have_text("First answer.")
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    first = page.url
    page.get_by_role("button", name="New chat").first.click()
    expect(page).to_have_url(f"{server.url}/")
    opening: list[Route] = []
    conversation = re.compile(r"/api/conversations/\d+$")
    page.route(conversation, lambda route: opening.append(route))  # held back
    with page.expect_request(conversation):
        page.go_back()  # to the first conversation: its load starts
    page.get_by_role("button", name="New chat").first.click()
    vendor.then(Reply(chunks=["Second ", "answer."]))
    send(page, "A fresh start")
    opening[0].continue_()
    page.unroute(conversation)
    expect(page.locator(".msg-assistant").last.locator(".md")).to_have_text("Second answer.")
    expect(page.locator(".msg-user")).to_have_count(1)
    expect(page.locator(".msg-user")).to_contain_text("A fresh start")
    expect(page).to_have_url(re.compile(r"/c/\d+$"))
    assert page.url != first
    no_page_errors(page)
    page.context.close()
