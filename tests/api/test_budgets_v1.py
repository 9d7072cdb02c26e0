"""Budgets on ``/v1`` with the official OpenAI client: a hard budget's refusal is OpenAI's
429 ``insufficient_quota`` (naming the budget and its reset), a soft budget's warning is
an ``x-switchboard-warnings`` header, and what was spent shows in ``/api/me/budgets``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest

from tests.api.chat_support import add_provider, client
from tests.conftest import isolate
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module (it reads the
    master key file under SWITCHBOARD_DATA_DIR at request time: the env must not change
    under it), so the suite's per-test isolation is switched off here."""
    yield


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[Running, FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("budgets-v1") / "sb-data")
        with running_server() as server, serve_in_thread(fake) as url:
            ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
            yield server, fake, ref


def _settled(user: httpx.Client) -> list[dict[str, str]]:
    """The user's budgets once no call holds a reservation (settling is written just
    after the response; wait for the state, not for time)."""
    deadline = time.monotonic() + 10
    while True:
        budgets = user.get("/api/me/budgets").json()["budgets"]
        if all(Decimal(b["reserved"]) == 0 for b in budgets) or time.monotonic() > deadline:
            return budgets  # type: ignore[no-any-return]
        time.sleep(0.05)


def test_a_spent_hard_budget_is_openais_insufficient_quota(
        env: tuple[Running, FakeVendor, str]) -> None:
    server, fake, ref = env
    admin = client(server, server.make_user("root", role="admin"))
    token = server.make_user("eve")
    eve = client(server, token)
    sdk = openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)
    eve_id = eve.get("/api/me").json()["id"]
    # gpt-4o-mini: $0.15 / $0.60 per million tokens. 100 output tokens reserve $0.00006.
    made = admin.post("/api/budgets", json={"scope": "user", "user_id": eve_id,
                                            "amount": "0.0001", "period": "day"})
    assert made.status_code == 200, made.text

    fake.then(Reply(chunks=["fine"], input_tokens=20, output_tokens=10))
    answer = sdk.chat.completions.create(model=ref, messages=MESSAGES,  # type: ignore[arg-type]
                                         max_tokens=100)
    assert answer.choices[0].message.content == "fine"
    (state,) = _settled(eve)
    assert Decimal(state["spent"]) == Decimal("0.0000090")  # 20 x 0.15 + 10 x 0.60, per M
    assert Decimal(state["reserved"]) == 0

    for stream in (False, True):  # 1000 output tokens could cost $0.0006: refused
        with pytest.raises(openai.RateLimitError) as refused:
            sdk.chat.completions.create(model=ref, messages=MESSAGES,  # type: ignore[arg-type]
                                        max_tokens=1000, stream=stream)
        err = refused.value
        assert err.status_code == 429
        assert err.body == {
            "message": "The daily budget of $0.0001 for user 'eve' is used up ($0.000009 "
                       "spent; this call could cost up to $0.00060135). It resets on "
                       f"{state['resets_at'][:10]} at 00:00 (UTC).",
            "type": "insufficient_quota", "param": None, "code": "insufficient_quota"}
        assert err.code == "insufficient_quota" and err.type == "insufficient_quota"
        headers = err.response.headers
        assert 0 < int(headers["retry-after"]) <= 86400
        assert headers["x-should-retry"] == "false"
    assert len(fake.chat_requests()) == 1  # the refused calls never reached the vendor
    (after,) = _settled(eve)
    assert (after["spent"], after["reserved"]) == (state["spent"], "0")


def test_a_soft_budget_lets_the_call_through_and_says_so(
        env: tuple[Running, FakeVendor, str]) -> None:
    server, fake, ref = env
    admin = client(server, server.make_user("root2", role="admin"))
    token = server.make_user("finn")
    finn = client(server, token)
    sdk = openai.OpenAI(base_url=server.v1, api_key=token, max_retries=0)
    finn_id = finn.get("/api/me").json()["id"]
    assert admin.post("/api/budgets", json={"scope": "user", "user_id": finn_id,
                                            "amount": "0.00001", "period": "month",
                                            "soft": True}).status_code == 200
    fake.then(Reply(chunks=["over"], input_tokens=20, output_tokens=10))
    raw = sdk.chat.completions.with_raw_response.create(
        model=ref, messages=MESSAGES, max_tokens=100)  # type: ignore[arg-type]
    assert raw.parse().choices[0].message.content == "over"
    warning = raw.headers["x-switchboard-warnings"]
    assert warning.startswith(
        "The monthly soft budget of $0.00001 for user 'finn' is exceeded or about to be")
    (state,) = _settled(finn)
    assert Decimal(state["spent"]) == Decimal("0.000009")
