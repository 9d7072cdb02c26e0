"""``GET /metrics`` on a real server after known traffic, parsed with the official
``prometheus_client`` parser: exact counts of requests by outcome, errors by class,
refusals, histograms, tokens and cost equal to the usage rows, budgets equal to
``/api/budgets``; and who may scrape (401 / 403 / 404 in the REST shape)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from switchboard.api.app import create_app
from switchboard.config import load_settings
from tests.api.chat_support import add_provider, client, stream_chat
from tests.conftest import isolate
from tests.fakes.openai import MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Fail, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

SCRAPE_TOKEN = "scrape-me-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "count me"}]
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("metrics") / "sb-data")
        mp.setenv("SWITCHBOARD_METRICS_TOKEN", SCRAPE_TOKEN)
        with running_server() as server, serve_in_thread(fake) as url:
            yield server, fake, add_provider(server, "fakeai", "openai", url, MODEL)


def scrape(base: str, token: str = SCRAPE_TOKEN) -> Samples:
    response = httpx.get(f"{base}/metrics", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_known_traffic_gives_exact_counts(env: tuple[Running, FakeVendor, str]) -> None:
    server, fake, ref = env
    admin = client(server, server.make_user("root", role="admin"))
    token = server.make_user("ada")
    fake.then(Reply(), Reply(), Reply(), Reply(), Fail(400, "bad things"), Reply())
    sdk = openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)
    for _ in range(3):
        stream = sdk.chat.completions.create(model=ref, messages=MESSAGES,  # type: ignore[call-overload]
                                             stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    sdk.chat.completions.create(model=ref, messages=MESSAGES)  # type: ignore[call-overload]
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model=ref, messages=MESSAGES)  # type: ignore[call-overload]
    # the web chat: the same pipeline, surface "chat"
    events = stream_chat(client(server, token), {"text": "hello from the page", "model": ref})
    assert events[-1][0] == "done", events[-1]
    # a member whose budget is spent: refused before any upstream byte
    poor = server.make_user("poor")
    poor_id = server.query("SELECT id FROM users WHERE username = 'poor'")[0][0]
    made = admin.post("/api/budgets", json={"scope": "user", "user_id": poor_id,
                                            "amount": "0.000000001", "period": "month"})
    assert made.status_code in (200, 201), made.text
    with pytest.raises(openai.RateLimitError):
        openai.OpenAI(base_url=server.v1, api_key=poor, max_retries=0).chat.completions.create(
            model=ref, messages=MESSAGES)  # type: ignore[call-overload]

    rows = _usage_rows(server, 6)
    assert value(scrape(server.url), "switchboard_requests_total", surface="chat",
                 provider="fakeai", model=MODEL, outcome="ok") == 1
    s = scrape(server.url)
    call = {"surface": "api", "provider": "fakeai", "model": MODEL}
    assert value(s, "switchboard_requests_total", **call, outcome="ok") == 4
    assert value(s, "switchboard_requests_total", **call, outcome="error") == 1
    assert value(s, "switchboard_requests_total", **call, outcome="refused") == 1
    assert value(s, "switchboard_errors_total", surface="api", provider="fakeai",
                 **{"class": "bad_request"}) == 1, _errors(s)
    assert value(s, "switchboard_errors_total", surface="api", provider="fakeai",
                 **{"class": "insufficient_quota"}) == 1, _errors(s)
    assert value(s, "switchboard_request_duration_seconds_count", **call) == 5
    assert value(s, "switchboard_time_to_first_token_seconds_count", **call) == sum(
        1 for r in rows if r[3] is not None)
    by_cost = {"provider": "fakeai", "model": MODEL, "source": "api"}
    assert value(s, "switchboard_tokens_total", **by_cost, direction="input") == sum(
        r[0] for r in rows)
    assert value(s, "switchboard_tokens_total", **by_cost, direction="output") == sum(
        r[1] for r in rows)
    assert value(s, "switchboard_cost_dollars_total", **by_cost) == pytest.approx(
        float(sum(Decimal(str(r[2])) for r in rows if r[2] is not None)))
    assert value(s, "switchboard_streams_in_flight") == 0
    assert value(s, "switchboard_catalog_cache_total", result="hit") > 0
    assert ("switchboard_usage_queue_depth", frozenset()) in s
    budget = admin.get("/api/budgets").json()["budgets"][0]
    labels = {"budget": str(budget["id"]), "scope": "user", "period": "month", "soft": "false"}
    assert value(s, "switchboard_budget_limit_dollars", **labels) == float(budget["amount"])
    assert value(s, "switchboard_budget_spent_dollars", **labels) == float(budget["spent"])
    # no user label unless opted in (decision 0119)
    assert not any(name.startswith("switchboard_user_") for name, _ in s)


def _errors(s: Samples) -> dict[str, float]:
    return {str(dict(k[1])): v for k, v in s.items() if k[0] == "switchboard_errors_total"}


def _usage_rows(server: Running, expected: int) -> list[tuple[int, int, object, object]]:
    """The ``/v1`` usage rows once all ``expected`` rows are written (batched every 0.5 s:
    wait for the state)."""
    deadline = time.monotonic() + 10
    while True:
        rows = server.query("SELECT input_tokens, output_tokens, cost, ttft_ms, source "
                            "FROM usage_events")
        if len(rows) >= expected or time.monotonic() > deadline:
            assert len(rows) == expected, rows
            return [(int(str(r[0])), int(str(r[1])), r[2], r[3]) for r in rows
                    if r[4] == "api"]
        time.sleep(0.05)


def test_who_may_scrape(env: tuple[Running, FakeVendor, str]) -> None:
    server, _, _ = env
    url = f"{server.url}/metrics"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(url, headers={"authorization": "Bearer not-the-scrape-token"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "unauthorized"
    member = httpx.get(url, headers={"authorization": f"Bearer {server.make_user('bob')}"})
    assert member.status_code == 403 and member.json()["error"]["code"] == "forbidden"
    admin = server.make_user("boss", role="admin")
    assert httpx.get(url, headers={"authorization": f"Bearer {admin}"}).status_code == 200
    scraped = httpx.get(url, headers={"authorization": f"Bearer {SCRAPE_TOKEN}"})
    assert scraped.status_code == 200
    assert "# TYPE switchboard_requests_total counter" in scraped.text


def test_metrics_turned_off_is_a_404_and_nothing_is_counted(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path / "sb-data")  # type: ignore[operator]
    settings = replace(load_settings(), metrics=False, metrics_token=SCRAPE_TOKEN)
    with TestClient(create_app(settings)) as http:
        off = http.get("/metrics", headers={"authorization": f"Bearer {SCRAPE_TOKEN}"})
        assert off.status_code == 404
        assert off.json()["error"]["code"] == "not_found"
        assert http.app.state.sb.metrics.enabled is False  # type: ignore[attr-defined]


def test_refusals_before_the_pipeline_are_counted_once(
        env: tuple[Running, FakeVendor, str]) -> None:
    """Requests on ``/v1`` refused before the pipeline (decision 0153) are counted with
    surface ``api``, empty provider and model, outcome ``refused`` and a class named
    from the status; a refusal the pipeline counted itself (a spent budget) is not
    counted again."""
    server, _, ref = env
    admin = client(server, server.make_user("root2", role="admin"))
    token = server.make_user("cleo")
    broke = server.make_user("broke")
    broke_id = server.query("SELECT id FROM users WHERE username = 'broke'")[0][0]
    made = admin.post("/api/budgets", json={"scope": "user", "user_id": broke_id,
                                            "amount": "0.000000001", "period": "month"})
    assert made.status_code in (200, 201), made.text
    before = scrape(server.url)
    chat = f"{server.v1}/chat/completions"
    body = {"model": ref, "messages": MESSAGES}
    assert httpx.post(chat, json=body).status_code == 401  # no token
    assert httpx.post(f"{server.v1}/messages", json=body,  # Anthropic's wire, a bad key
                      headers={"x-api-key": "sb-not-a-token"}).status_code == 401
    bearer = {"authorization": f"Bearer {token}"}
    assert httpx.post(chat, json={"model": ref}, headers=bearer).status_code == 400
    assert httpx.post(chat, json={"model": ref, "messages": "no"},
                      headers=bearer).status_code == 400
    big = (b'{"model": "m", "input": "' if i == 0 else b"x" * 65536
           for i in range(21))  # 1.25 MB, chunked: over the 1 MB limit
    too_big = httpx.post(f"{server.v1}/images/generations", content=big,
                         headers={**bearer, "content-type": "application/json"})
    assert too_big.status_code == 413, too_big.text
    unknown = httpx.post(chat, json={**body, "model": "nobody/nothing"}, headers=bearer)
    assert unknown.status_code == 404, unknown.text
    assert httpx.post(chat, json=body,  # the pipeline counts this one itself
                      headers={"authorization": f"Bearer {broke}"}).status_code == 429
    after = scrape(server.url)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)
    early = {"surface": "api", "provider": "", "model": ""}
    assert delta("switchboard_requests_total", **early, outcome="refused") == 6
    assert delta("switchboard_requests_total", **early, outcome="error") == 0
    errors = {"surface": "api", "provider": ""}
    for cls, count in (("authentication_error", 2), ("invalid_request_error", 2),
                       ("request_too_large", 1), ("not_found_error", 1),
                       ("rate_limit_exceeded", 0)):
        assert delta("switchboard_errors_total", **errors, **{"class": cls}) == count, (
            cls, _errors(after))
    call = {"surface": "api", "provider": "fakeai", "model": MODEL}
    assert delta("switchboard_requests_total", **call, outcome="refused") == 1
    assert delta("switchboard_errors_total", surface="api", provider="fakeai",
                 **{"class": "insufficient_quota"}) == 1
