"""Side by side in a real browser: an answer of the offline model compared with a second
offline provider's; the second is chosen, becomes the conversation's answer (the first
stays a version) and counts as a vote for the leaderboard."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.api.chat_support import add_provider
from tests.server import Running
from tests.web.conftest import (
    OFFLINE_ANSWER_MS,
    in_thread,
    login,
    make_user,
    no_page_errors,
    offline_answer_ended,
    shot,
)


def test_compare_two_models_and_vote(browser: Browser, server: Running) -> None:
    other = in_thread(add_provider, server, "local", "offline", "", "offline-chat")
    make_user(server, "vera")
    page = login(browser, server, "vera")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Name three rivers of Europe.")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    offline_answer_ended(answer)

    answer.get_by_role("button", name="Compare with other models").click()
    page.locator(f'input[name="model"][value="{other}"]').check()
    page.get_by_role("button", name="Compare", exact=True).click()
    cards = page.locator(".compare-card")
    expect(cards).to_have_count(2)
    expect(cards.nth(1)).to_contain_text(other)
    # the second offline model's answer, paced as the first one's (OFFLINE_ANSWER_MS)
    expect(cards.nth(1).locator(".compare-meta")).to_contain_text("tokens",
                                                                  timeout=OFFLINE_ANSWER_MS)
    expect(cards.nth(0).locator(".compare-meta")).to_contain_text("tokens")
    shot(page, "chat-compare")
    page.get_by_role("button", name="Answer 2 is better").click()
    expect(page.locator(".compare-grid")).to_have_count(0)
    expect(page.locator(".msg-assistant")).to_have_count(1)
    shown = page.locator(".msg-assistant").last
    expect(shown).to_contain_text("local")  # the chosen answer, the other a version of it
    expect(shown.get_by_role("group", name="Version 2 of 2")).to_be_visible()

    votes = in_thread(server.query, "SELECT source, a, b, winner FROM grade_votes")
    assert votes == [("compare", "offline:offline-chat", other, "b")]
    leaf = in_thread(server.query, "SELECT c.leaf_id, m.provider FROM conversations c "
                     "JOIN messages m ON m.id = c.leaf_id")
    assert leaf[0][1] == "local"
    text = page.locator("main").inner_text()
    assert "/api/" not in text
    no_page_errors(page)


def test_answers_stream_side_by_side(browser: Browser, server: Running) -> None:
    """Two slow offline providers answer at once: both cards show text while both are
    still being written, then each its tokens, cost and time; a tie keeps the answer
    shown before the comparison."""
    slow = [in_thread(lambda n=n: add_provider(server, n, "offline", "", "offline-chat",
                                               settings={"chunk_delay_ms": 200}))
            for n in ("slowa", "slowb")]
    make_user(server, "walt")
    page = login(browser, server, "walt")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Explain in detail how rivers form, with several paragraphs.")
    prompt.press("Enter")
    answer = page.locator(".msg-assistant").last
    offline_answer_ended(answer)
    first_text = answer.locator(".md").first.inner_text()

    answer.get_by_role("button", name="Compare with other models").click()
    for ref in slow:
        page.locator(f'input[name="model"][value="{ref}"]').check()
    page.get_by_role("button", name="Compare", exact=True).click()
    cards = page.locator(".compare-card")
    expect(cards).to_have_count(3)
    # Side by side: both new answers have words on screen while both are still written.
    page.wait_for_function("""() => {
      const busy = [...document.querySelectorAll('.compare-card[aria-busy="true"]')];
      return busy.length === 2 && busy.every((c) => {
        const t = c.querySelector('.compare-text').textContent;
        return t.length > 0 && !t.includes('Writing');
      });
    }""")
    for i in (1, 2):
        expect(cards.nth(i)).to_have_attribute("aria-busy", "false", timeout=30_000)
        expect(cards.nth(i).locator(".compare-meta")).to_contain_text("tokens")
        expect(cards.nth(i).locator(".compare-meta")).to_contain_text(re.compile(r"\d+ ms|s$"))
        expect(cards.nth(i)).to_contain_text(slow[i - 1])
    page.get_by_role("button", name="It's a tie").click()
    expect(page.locator(".compare-grid")).to_have_count(0)
    shown = page.locator(".msg-assistant").last
    expect(shown.get_by_role("group", name="Version 1 of 3")).to_be_visible()
    assert shown.locator(".md").first.inner_text() == first_text
    votes = in_thread(server.query, "SELECT a, b, winner FROM grade_votes "
                      "WHERE source = 'compare' AND (a LIKE 'slow%' OR b LIKE 'slow%')")
    assert sorted(votes) == sorted([("offline:offline-chat", slow[0], "tie"),
                                    ("offline:offline-chat", slow[1], "tie"),
                                    (slow[0], slow[1], "tie")])
    no_page_errors(page)
