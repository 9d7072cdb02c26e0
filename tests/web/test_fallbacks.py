"""Fallbacks and breakers in a real browser: an admin picks a model's fallback models in
Settings → Models (saved in order, shown again on the next edit), and a provider whose
breaker is open says so on its card, in words (decisions 0063, 0064)."""

from __future__ import annotations

import httpx
from playwright.sync_api import Browser, expect

from tests.server import Running
from tests.web.conftest import login, make_user, no_page_errors


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
    providers = httpx.get(f"{server.url}/api/config/providers", headers=auth).json()
    openai_id = next(p["id"] for p in providers if p["name"] == "openai")
    models = httpx.get(f"{server.url}/api/config/models/provider/{openai_id}",
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
