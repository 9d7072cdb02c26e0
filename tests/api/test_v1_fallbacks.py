"""Fallback chains and circuit breakers seen from outside: an admin sets a model's chain
over REST, ``/v1`` (the official SDK) is answered by the chain when the model's vendor
fails, and the provider's status shows its breaker opening — after which its calls go
straight to the fallback without touching the failing vendor (decisions 0063, 0064)."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from switchboard.services.breakers import BreakerPolicy, Breakers
from tests.api.catalog_client import Api, error_of
from tests.api.test_v1_pipeline import USER, Setup
from tests.api.test_v1_pipeline import setup as setup
from tests.fakes.script import Fail, Reply

OVERLOADED = Fail(503, "The server is overloaded", error_type="server_error",
                  headers={"retry-after": "0"})


@pytest.fixture
def admin(setup: Setup) -> Iterator[Api]:
    api = Api(setup.server, setup.server.make_user("root", "admin"))
    yield api
    api.http.close()


def model_id(admin: Api, ref: str) -> int:
    provider, model = ref.split(":", 1)
    providers = {p["name"]: p for p in admin.ok("GET", "/api/config/providers")}
    models = admin.ok("GET", f"/api/config/models/provider/{providers[provider]['id']}")
    return next(m["id"] for m in models if m["model_sdk_id"] == model)


def test_the_catalog_chain_answers_when_the_model_fails(setup: Setup, admin: Api) -> None:
    mid = model_id(admin, "openai:gpt-4o-mini")
    saved = admin.ok("PUT", f"/api/config/models/{mid}", {"fallbacks": ["local:llama3"]})
    assert saved["fallbacks"] == ["local:llama3"]
    refused = error_of(admin.put(f"/api/config/models/{mid}",
                                 json={"fallbacks": ["llama3"]}), 422)
    assert refused["field"] == "fallbacks" and "provider:model" in refused["message"]
    too_many = admin.put(f"/api/config/models/{mid}",
                         json={"fallbacks": [f"local:m{i}" for i in range(6)]})
    assert too_many.status_code == 422

    setup.oa.then(OVERLOADED, OVERLOADED, OVERLOADED)
    setup.local.then(Reply(chunks=["the ", "fallback"]))
    raw = setup.client().chat.completions.with_raw_response.create(
        model="openai:gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    reply = raw.parse()
    assert reply.model == "local:llama3"
    assert reply.choices[0].message.content == "the fallback"
    assert "after openai:gpt-4o-mini (overloaded) failed" in raw.headers[
        "x-switchboard-warnings"]
    assert setup.usage_rows(2) == [("openai", "error", "api"), ("local", "ok", "api")]


def test_an_open_breaker_shows_on_the_status_and_skips_the_vendor(
        setup: Setup, admin: Api) -> None:
    state = setup.server.app.state.sb
    state.breakers = Breakers(BreakerPolicy(failure_threshold=2, cooldown=60))
    state.pipeline.router.inner.breakers = state.breakers  # type: ignore[attr-defined]
    setup.oa.then(*[OVERLOADED] * 6)
    client = setup.client()
    for _ in range(2):
        client.chat.completions.create(model="openai:gpt-4o-mini", messages=USER,  # type: ignore[arg-type]
                                       extra_body={"models": ["local:llama3"]})
    calls = len(setup.oa.chat_requests())
    status = admin.ok("GET", "/api/providers/openai/status")
    breaker, *keys = status["breakers"]  # the provider's, then its keys' (closed: a 503
    assert breaker["key_id"] is None     # says nothing about the key)
    assert [k["state"] for k in keys] == ["closed"] * len(keys)
    assert breaker["state"] == "open" and breaker["consecutive_failures"] == 2
    assert breaker["last_error"] == "overloaded" and 0 < breaker["retry_in_seconds"] <= 60
    member = Api(setup.server, setup.token)
    assert member.ok("GET", "/api/providers/openai/status")["breakers"][0]["last_error"] is None
    member.http.close()

    raw = client.chat.completions.with_raw_response.create(
        model="openai:gpt-4o-mini", messages=USER,  # type: ignore[arg-type]
        extra_body={"models": ["local:llama3"]})
    assert raw.parse().model == "local:llama3"
    assert "provider_paused" in raw.headers["x-switchboard-warnings"]
    assert len(setup.oa.chat_requests()) == calls  # not called while the breaker is open

    # No fallback left: a 503 at once, saying when the provider is tried again.
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="openai:gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    assert info.value.status_code == 503 and info.value.code == "provider_paused"
    assert 0 < int(info.value.response.headers["retry-after"]) <= 60
    assert "paused after repeated failures" in info.value.message
    assert len(setup.oa.chat_requests()) == calls


def test_a_keys_breaker_is_shown_with_the_keys_label(setup: Setup, admin: Api) -> None:
    admin.ok("POST", "/api/providers/openai/keys",
             {"api_key": "sk-test-openai-0000000000005678", "label": "backup"}, 201)
    keys = admin.ok("GET", "/api/providers/openai/keys")["keys"]
    backup = next(k for k in keys if k["label"] == "backup")
    key_id = str(backup["id"])
    breakers = setup.server.app.state.sb.breakers
    for _ in range(breakers.policy.failure_threshold):
        breakers.get("openai", key_id).failure("rate_limited")
    status = admin.ok("GET", "/api/providers/openai/status")
    by_key = {b["key_id"]: b for b in status["breakers"]}
    assert by_key[None]["state"] == "closed"
    assert by_key[key_id]["state"] == "open" and by_key[key_id]["key_label"] == "backup"
