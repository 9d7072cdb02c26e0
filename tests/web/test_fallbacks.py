"""Fallbacks and breakers in a real browser: an admin picks a model's fallback models in
Settings → Models (saved in order, shown again on the next edit); a provider whose
breaker is open says so on its card, in words; and when a model fails, the chat says
which model answered after which failed (decisions 0063, 0064)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.fakes.script import Fail
from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors, openai_vendor_with_key


def test_fallback_models_are_chosen_in_the_model_form(browser: Browser, server: Running) -> None:
    token = make_user(server, "fay", "admin")
    page = login(browser, server, "fay")
    page.goto("/settings/models")
    page.get_by_label("Provider").select_option(label="openai")
    page.get_by_role("button", name="Edit GPT-4o mini").click()
    dialog = page.get_by_role("dialog", name="Edit GPT-4o mini")
    first = dialog.get_by_label("Fallback model 1")
    expect(first).to_have_value("")
    assert "openai:gpt-4o-mini" not in first.locator("option").evaluate_all(
        "options => options.map(o => o.value)")  # not its own fallback
    first.select_option("offline:offline-chat")
    dialog.get_by_label("Fallback model 2").select_option("openai:gpt-4o")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()

    auth = {"authorization": f"Bearer {token}"}
    providers = httpx.get(f"{server.url}/api/config/providers", timeout=30, headers=auth).json()
    openai_id = next(p["id"] for p in providers if p["name"] == "openai")
    models = httpx.get(f"{server.url}/api/config/models/provider/{openai_id}", timeout=30,
                       headers=auth).json()
    saved = next(m for m in models if m["model_sdk_id"] == "gpt-4o-mini")
    assert saved["fallbacks"] == ["offline:offline-chat", "openai:gpt-4o"]

    page.get_by_role("button", name="Edit GPT-4o mini").click()
    dialog = page.get_by_role("dialog", name="Edit GPT-4o mini")
    expect(dialog.get_by_label("Fallback model 1")).to_have_value("offline:offline-chat")
    expect(dialog.get_by_label("Fallback model 2")).to_have_value("openai:gpt-4o")
    expect(dialog.get_by_label("Fallback model 3")).to_have_value("")
    no_page_errors(page)


def test_a_paused_provider_says_so_on_its_card(browser: Browser, server: Running) -> None:
    make_user(server, "pam", "admin")
    breakers = server.app.state.sb.breakers
    for _ in range(breakers.policy.failure_threshold):
        breakers.get("mistral").failure("overloaded")
    breakers.get("offline").success()
    page = login(browser, server, "pam")
    page.goto("/settings/providers")
    paused = page.get_by_role("article", name="Provider mistral")
    expect(paused.locator(".traffic-label")).to_have_text("Paused after repeated failures")
    expect(paused.locator(".traffic-detail")).to_contain_text(
        "requests go to fallback models for now")
    expect(paused.locator(".traffic-detail")).to_contain_text("It is tried again in")
    healthy = page.get_by_role("article", name="Provider offline")
    expect(healthy.locator(".traffic-label")).to_have_text("Requests flowing normally")
    no_page_errors(page)


def test_the_chat_says_which_model_answered_after_which_failed(
        browser: Browser, server: Running) -> None:
    token = make_user(server, "finn", "admin")
    auth = {"authorization": f"Bearer {token}"}
    with openai_vendor_with_key("sk-flaky-key-0123456789") as (fake, base_url):
        created = httpx.post(f"{server.url}/api/config/providers", timeout=30, headers=auth, json={
            "name": "flaky", "kind": "openai_compatible", "base_url": base_url,
            "api_key": "sk-flaky-key-0123456789"})
        assert created.status_code == 201, created.text
        model = httpx.post(f"{server.url}/api/config/models", timeout=30, headers=auth, json={
            "provider_id": created.json()["id"], "model_sdk_id": "flaky-large",
            "name": "Flaky Large"})
        assert model.status_code in (200, 201), model.text
        chain = httpx.put(f"{server.url}/api/config/models/{model.json()['id']}", timeout=30,
                          headers=auth, json={"fallbacks": ["offline:offline-chat"]})
        assert chain.status_code == 200, chain.text
        prefs = httpx.put(f"{server.url}/api/me/preferences", timeout=30, headers=auth,
                          json={"selected_model": "flaky:flaky-large", "settings": {}})
        assert prefs.status_code == 200, prefs.text
        fake.then(*[Fail(503, "The server is overloaded", error_type="server_error",
                         headers={"retry-after": "0"})] * 3)

        page = login(browser, server, "finn")
        expect(page.locator("#model-button-name")).to_contain_text("Flaky Large")
        prompt = page.get_by_label("Message", exact=True)
        prompt.fill("Hello there")
        prompt.press("Enter")
        answer = page.locator(".msg-assistant").last
        expect(answer).not_to_have_class("streaming")
        note = answer.locator(".msg-fallback")
        expect(note).to_have_text("Answered by Offline chat (built-in) after Flaky Large failed")
        expect(note).to_have_attribute(
            "title", "Flaky Large was overloaded, so Offline chat (built-in) answered instead.")
        expect(answer.locator(".model-name")).to_contain_text("Offline chat")

        page.reload()  # the saved message says it too
        note = page.locator(".msg-assistant").last.locator(".msg-fallback")
        expect(note).to_have_text("Answered by Offline chat (built-in) after Flaky Large failed")
        no_page_errors(page)
