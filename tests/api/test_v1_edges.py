"""``/v1`` edges found with official clients (issue 11 item 8), on a real server with the
official ``openai`` SDK as the client and HTTP fakes of the vendors behind it; each test
checks what the fake vendor received."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import create_provider, update_provider
from tests.fakes import anthropic as anthropic_fake
from tests.fakes import openai as openai_fake
from tests.fakes.script import Break, Fail, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

USER = [{"role": "user", "content": "hello"}]


class Edges:
    def __init__(self, server: Running, vendors: dict[str, FakeVendor]) -> None:
        self.server = server
        self.vendors = vendors
        self.token = server.make_user("sdk-user")

    def client(self, max_retries: int = 0) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.server.v1, api_key=self.token,
                             max_retries=max_retries, _strict_response_validation=True)

    def raw(self, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{self.server.v1}/chat/completions", json=body, timeout=30,
                          headers={"authorization": f"Bearer {self.token}"})

    def sent(self, kind: str) -> list[dict[str, Any]]:
        """The chat bodies the fake vendor received, in order."""
        return [r.body for r in self.vendors[kind].chat_requests()]


@pytest.fixture
def edges() -> Iterator[Edges]:
    oa = FakeVendor(openai_fake.Wire())
    compat = FakeVendor(openai_fake.Wire())
    an = FakeVendor(anthropic_fake.Wire())
    with running_server() as server, serve_in_thread(oa) as oa_url, \
            serve_in_thread(compat) as compat_url, serve_in_thread(an) as an_url:
        async def configure() -> None:
            db = Database.from_url(server.settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{oa_url}/v1", enabled=True)
                await set_provider_key(db, "openai", "sk-test-openai-0000000000001234")
                await update_provider(db, "anthropic", base_url=an_url, enabled=True)
                await set_provider_key(db, "anthropic", "sk-ant-test-00000000000005678")
                await create_provider(db, name="local", kind="openai_compatible",
                                      base_url=f"{compat_url}/v1",
                                      settings={"requires_api_key": False})
            finally:
                await db.dispose()

        asyncio.run(configure())
        yield Edges(server, {"openai": oa, "local": compat, "anthropic": an})


# -- 429 after the gateway's own retries ------------------------------------------------


def test_retried_429_tells_the_sdk_not_to_retry_again(edges: Edges) -> None:
    limited = Fail(429, "Rate limit reached", error_type="rate_limit_error",
                   code="rate_limit_exceeded", headers={"retry-after": "0"})
    edges.vendors["openai"].then(*[limited] * 9)
    client = edges.client(max_retries=2)  # the SDK's default retry budget
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="openai:gpt-4o-mini", messages=USER)
    assert info.value.response.headers["x-should-retry"] == "false"
    # 1 try + 2 gateway retries; the SDK obeyed x-should-retry (before: 3 x 3 = 9 calls)
    assert len(edges.sent("openai")) == 3


# -- model "" -----------------------------------------------------------------------------


def test_empty_model_is_a_400_not_the_default_model(edges: Edges) -> None:
    for model in ("", "  "):
        with pytest.raises(openai.BadRequestError) as info:
            edges.client().chat.completions.create(model=model, messages=USER)
        body = info.value.body
        assert isinstance(body, dict) and body["param"] == "model", body
        assert body["type"] == "invalid_request_error"


# -- current spec values: forwarded, warned or refused by policy ---------------------------


def test_current_spec_values_reach_openai(edges: Edges) -> None:
    reply = edges.client().chat.completions.create(
        model="openai:gpt-5-mini", messages=USER, reasoning_effort="xhigh",  # type: ignore[arg-type]
        verbosity="low", prompt_cache_key="team-42", prompt_cache_retention="24h",
        safety_identifier="user-7", service_tier="flex", store=False,
        metadata={"run": "1"}, modalities=["text"], user="u-1")
    assert reply.choices[0].message.content == "Hello, world!"
    sent = edges.sent("openai")[-1]
    assert sent["reasoning_effort"] == "xhigh"
    assert {k: sent[k] for k in ("verbosity", "prompt_cache_key", "prompt_cache_retention",
                                 "safety_identifier", "service_tier", "store", "metadata",
                                 "user")} == {
        "verbosity": "low", "prompt_cache_key": "team-42", "prompt_cache_retention": "24h",
        "safety_identifier": "user-7", "service_tier": "flex", "store": False,
        "metadata": {"run": "1"}, "user": "u-1"}
    assert "modalities" not in sent  # text is the default; nothing to forward


def test_openai_only_values_are_warned_elsewhere(edges: Edges) -> None:
    raw = edges.raw({"model": "anthropic:claude-sonnet-4-5", "messages": USER,
                     "reasoning_effort": "none", "verbosity": "high",
                     "prompt_cache_key": "k"})
    assert raw.status_code == 200, raw.text
    sent = edges.sent("anthropic")[-1]
    assert "thinking" not in sent and "verbosity" not in sent  # none: thinking stays off
    warnings = raw.headers["x-switchboard-warnings"]
    assert "'verbosity' is only forwarded to openai" in warnings
    assert "'prompt_cache_key' is only forwarded to openai" in warnings


# -- errors name the caller's parameter, in one path syntax --------------------------------


@pytest.mark.parametrize(("extra", "param"), [
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_completion_tokens": 0}, "max_completion_tokens"),
    ({"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                   {"role": "user", "content": [{"type": "text", "text": "see"},
                                                {"type": "image_url", "image_url": {"url": 7}}]}]},
     "messages[2].content[1].image_url.url"),
    ({"tool_choice": "sometimes"}, "tool_choice"),
    ({"logprobs": True, "top_logprobs": 99}, "top_logprobs"),
    ({"n": 9}, "n"),
])
def test_errors_name_the_callers_parameter(edges: Edges, extra: dict[str, Any],
                                           param: str) -> None:
    body = {"model": "openai:gpt-4o-mini", "messages": USER, **extra}
    with pytest.raises(openai.BadRequestError) as info:
        edges.client().chat.completions.create(**body)
    error = info.value.body
    assert isinstance(error, dict) and error["param"] == param, error
    assert str(error["message"]).startswith(f"{param}: ")
    assert "max_output_tokens" not in str(error["message"])
    assert edges.sent("openai") == []


def test_unknown_parameter_is_still_a_400_naming_it(edges: Edges) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        edges.client().chat.completions.create(model="local:llama", messages=USER,  # type: ignore[arg-type]
                                               extra_body={"mirostat_tau": 5})
    assert isinstance(info.value.body, dict) and info.value.body["param"] == "mirostat_tau"
    assert "Unrecognized request argument" in info.value.body["message"]


# -- logprobs ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai:gpt-4o-mini", "local:llama-3.3-70b"])
def test_logprobs_non_stream(edges: Edges, model: str) -> None:
    reply = edges.client().chat.completions.create(model=model, messages=USER,
                                                   logprobs=True, top_logprobs=2)
    kind = model.split(":")[0]
    assert edges.sent(kind)[-1]["logprobs"] is True
    assert edges.sent(kind)[-1]["top_logprobs"] == 2
    logprobs = reply.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert [t.token for t in logprobs.content] == ["Hello", ", ", "world", "!"]
    assert [t.logprob for t in logprobs.content] == [-0.5, -1.0, -1.5, -2.0]
    assert [a.token for a in logprobs.content[0].top_logprobs] == ["alt0", "alt1"]
    assert logprobs.content[0].bytes == list(b"Hello")


def test_logprobs_stream(edges: Edges) -> None:
    chunks = list(edges.client().chat.completions.create(
        model="openai:gpt-4o-mini", messages=USER, logprobs=True, stream=True))
    assert edges.sent("openai")[-1]["logprobs"] is True
    assert "top_logprobs" not in edges.sent("openai")[-1]
    tokens = [(t.token, t.logprob) for c in chunks if c.choices and c.choices[0].logprobs
              for t in c.choices[0].logprobs.content or []]
    assert tokens == [("Hello", -0.5), (", ", -1.0), ("world", -1.5), ("!", -2.0)]


def test_logprobs_unsupported_vendor_warns(edges: Edges) -> None:
    raw = edges.raw({"model": "anthropic:claude-sonnet-4-5", "messages": USER,
                     "logprobs": True})
    assert raw.status_code == 200, raw.text
    assert raw.json()["choices"][0]["logprobs"] is None
    assert "logprobs" in raw.headers["x-switchboard-warnings"]
    assert "logprobs" not in edges.sent("anthropic")[-1]


# -- vendor extras through extra_body -------------------------------------------------------


def test_sampler_extras_reach_an_openai_compatible_server(edges: Edges) -> None:
    reply = edges.client().chat.completions.create(
        model="local:llama-3.3-70b", messages=USER,
        extra_body={"top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1,
                    "typical_p": 0.9, "top_a": 0.2, "min_tokens": 3})
    assert reply.choices[0].message.content == "Hello, world!"
    sent = edges.sent("local")[-1]
    assert {k: sent[k] for k in ("top_k", "min_p", "repetition_penalty", "typical_p",
                                 "top_a", "min_tokens")} == {
        "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.1, "typical_p": 0.9,
        "top_a": 0.2, "min_tokens": 3}
    assert sent["model"] == "llama-3.3-70b" and sent["messages"][0]["content"] == "hello"


def test_sampler_extras_elsewhere_are_neutral_or_warned(edges: Edges) -> None:
    raw = edges.raw({"model": "anthropic:claude-sonnet-4-5", "messages": USER,
                     "top_k": 5, "min_p": 0.1})
    assert raw.status_code == 200, raw.text
    sent = edges.sent("anthropic")[-1]
    assert sent["top_k"] == 5 and "min_p" not in sent  # Anthropic has top_k
    assert "'min_p' is only forwarded to openai_compatible" in raw.headers[
        "x-switchboard-warnings"]
    raw = edges.raw({"model": "openai:gpt-4o-mini", "messages": USER, "min_p": 0.1})
    assert raw.status_code == 200 and "min_p" not in edges.sent("openai")[-1]


# -- n > 1 ----------------------------------------------------------------------------------


def _usage_rows(edges: Edges, count: int) -> list[tuple[object, ...]]:
    deadline = time.monotonic() + 10  # the recorder flushes in batches every 0.5 s
    while True:
        rows = edges.server.query(
            "SELECT provider, input_tokens, output_tokens, status FROM usage_events")
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def test_n_choices_non_stream_is_one_openai_call(edges: Edges) -> None:
    """OpenAI takes ``n`` itself (decision 0084): ONE request carrying ``n``, the prompt
    billed once; the usage shown and the rows are the vendor's."""
    edges.vendors["openai"].then(Reply(chunks=["one"], input_tokens=12, output_tokens=7))
    reply = edges.client().chat.completions.create(model="openai:gpt-4o-mini",
                                                   messages=USER, n=3)
    assert [c.index for c in reply.choices] == [0, 1, 2]
    assert [c.message.content for c in reply.choices] == ["one (0)", "one (1)", "one (2)"]
    assert [c.finish_reason for c in reply.choices] == ["stop"] * 3
    sent = edges.sent("openai")
    assert len(sent) == 1 and sent[0]["n"] == 3
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (12, 21)
    rows = _usage_rows(edges, 3)
    assert sorted(rows) == [("openai", 0, 0, "ok"), ("openai", 0, 0, "ok"),
                            ("openai", 12, 21, "ok")]  # they sum to what was billed


def test_n_choices_stream_is_one_openai_call(edges: Edges) -> None:
    edges.vendors["openai"].then(Reply(chunks=["A", "a"], input_tokens=5, output_tokens=2))
    chunks = list(edges.client().chat.completions.create(
        model="openai:gpt-4o-mini", messages=USER, n=2, stream=True,
        stream_options={"include_usage": True}))
    texts: dict[int, str] = {0: "", 1: ""}
    finishes: dict[int, str | None] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts == {0: "Aa (0)", 1: "Aa (1)"}
    assert finishes == {0: "stop", 1: "stop"}
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (5, 4)
    sent = edges.sent("openai")
    assert len(sent) == 1 and sent[0]["n"] == 2 and sent[0]["stream"] is True
    assert sorted(_usage_rows(edges, 2)) == [("openai", 0, 0, "ok"), ("openai", 5, 4, "ok")]


def test_n_to_openai_retries_the_one_call_before_the_first_byte(edges: Edges) -> None:
    edges.vendors["openai"].then(Fail(503, "overloaded", headers={"retry-after": "0"}),
                                 Reply(chunks=["ok"]))
    reply = edges.client().chat.completions.create(model="openai:gpt-4o-mini",
                                                   messages=USER, n=2)
    assert [c.message.content for c in reply.choices] == ["ok (0)", "ok (1)"]
    assert [body["n"] for body in edges.sent("openai")] == [2, 2]


def test_n_with_a_fallback_of_another_kind_fans_out(edges: Edges) -> None:
    """A chain mixing kinds fans out, so the fallback answers in the same shape."""
    edges.vendors["openai"].then(Reply(chunks=["x"]), Reply(chunks=["y"]))
    reply = edges.client().chat.completions.create(
        model="openai:gpt-4o-mini", messages=USER, n=2,
        extra_body={"models": ["anthropic:claude-sonnet-4-5"]})
    assert sorted(c.message.content or "" for c in reply.choices) == ["x", "y"]
    assert [body.get("n") for body in edges.sent("openai")] == [None, None]


def test_n_choices_stream_fans_out_for_anthropic(edges: Edges) -> None:
    edges.vendors["anthropic"].then(Reply(chunks=["A", "a"], input_tokens=5, output_tokens=2),
                                    Reply(chunks=["B", "b"], input_tokens=5, output_tokens=2))
    chunks = list(edges.client().chat.completions.create(
        model="anthropic:claude-sonnet-4-5", messages=USER, n=2, stream=True,
        stream_options={"include_usage": True}))
    texts: dict[int, str] = {0: "", 1: ""}
    finishes: dict[int, str | None] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert sorted(texts.values()) == ["Aa", "Bb"]
    assert finishes == {0: "stop", 1: "stop"}
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (10, 4)
    assert len(edges.sent("anthropic")) == 2
    assert sorted(_usage_rows(edges, 2)) == [("anthropic", 5, 2, "ok")] * 2


def test_n_choices_non_stream_fans_out_for_a_compatible_server(edges: Edges) -> None:
    """``openai_compatible`` servers are not trusted with ``n`` (several ignore it)."""
    edges.vendors["local"].then(Reply(chunks=["one"]), Reply(chunks=["two"]))
    reply = edges.client().chat.completions.create(model="local:llama3", messages=USER, n=2)
    assert sorted(c.message.content or "" for c in reply.choices) == ["one", "two"]
    assert [body.get("n") for body in edges.sent("local")] == [None, None]
    assert sorted(_usage_rows(edges, 2)) == [("local", 12, 7, "ok")] * 2


def test_n_with_a_failing_call_is_an_error_and_every_call_is_accounted(edges: Edges) -> None:
    edges.vendors["anthropic"].then(Reply(), Fail(400, "bad thing",
                                                  error_type="invalid_request_error"))
    with pytest.raises(openai.BadRequestError):
        edges.client().chat.completions.create(model="anthropic:claude-sonnet-4-5",
                                               messages=USER, n=2)
    rows = _usage_rows(edges, 2)
    assert sorted(r[3] for r in rows) == ["error", "ok"]


def test_n_to_openai_refused_is_one_error_row(edges: Edges) -> None:
    edges.vendors["openai"].then(Fail(400, "bad thing", code="bad"))
    with pytest.raises(openai.BadRequestError):
        edges.client().chat.completions.create(model="openai:gpt-4o-mini", messages=USER,
                                               n=2)
    assert _usage_rows(edges, 1) == [("openai", 0, 0, "error")]
    assert len(edges.sent("openai")) == 1


def test_n_stream_with_a_broken_call_raises_and_accounts_both(edges: Edges) -> None:
    edges.vendors["anthropic"].then(Reply(chunks=["fine", " answer"]),
                                    Break(Reply(chunks=["cut", " short", " here"]), after=1))
    stream = edges.client().chat.completions.create(
        model="anthropic:claude-sonnet-4-5", messages=USER, n=2, stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
    rows = _usage_rows(edges, 2)
    assert len(rows) == 2 and "partial" in {r[3] for r in rows}  # the cut one, at least


def test_n_stream_to_openai_cut_short_raises_and_accounts_every_choice(edges: Edges) -> None:
    edges.vendors["openai"].then(Break(Reply(chunks=["cut", " short", " here"]), after=2))
    stream = edges.client().chat.completions.create(
        model="openai:gpt-4o-mini", messages=USER, n=2, stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
    rows = _usage_rows(edges, 2)
    assert len(rows) == 2 and {r[3] for r in rows} <= {"partial", "error"}
    assert len(edges.sent("openai")) == 1


def test_warnings_header_stays_one_ascii_line(edges: Edges) -> None:
    """Adapter warnings now reach the header, and one may quote the caller's input."""
    raw = edges.raw({"model": "offline:offline-chat", "messages": USER, "seed": 1,
                     "temperature": 0.5, "provider_options": {"offline": {"st\u00f6p\u2028": 1}}})
    assert raw.status_code == 200, raw.text
    header = raw.headers["x-switchboard-warnings"]
    assert header.isascii() and "temperature has no effect" in header
    assert "provider option 'st\\xf6p" in header


# -- unknown routes and methods, as the official SDK sees them ---------------------------


def test_the_sdk_reads_unknown_routes_and_methods_as_openai_errors() -> None:
    """Issue 11's "done when": the /v1 edges hold for the official SDK, not only for a raw
    HTTP client. An endpoint this gateway does not serve (moderations, speech) is a
    NotFoundError whose body names the route; a method it does not take is a 405
    whose body names the allowed one; both parse as OpenAI errors (type, code, param)."""
    with running_server() as server:
        client = openai.OpenAI(base_url=server.v1, api_key=server.make_user("sdk-routes"),
                               max_retries=0)
        for call, route in ((lambda: client.moderations.create(input="x"),
                             "POST /v1/moderations"),
                            (lambda: client.audio.speech.create(
                                model="offline", voice="alloy", input="x"),
                             "POST /v1/audio/speech")):
            with pytest.raises(openai.NotFoundError) as missing:
                call()
            body = missing.value.body
            assert isinstance(body, dict), body
            assert route in body["message"] and "/v1/chat/completions" in body["message"]
            assert (body["type"], body["code"], body["param"]) == (
                "invalid_request_error", "unknown_url", None)
        with pytest.raises(openai.APIStatusError) as refused:
            client.models.delete("offline:offline-chat")
        assert refused.value.status_code == 405
        allowed = refused.value.response.headers["allow"]
        assert set(allowed.split(", ")) == {"GET", "HEAD"}
        body = refused.value.body
        assert isinstance(body, dict), body
        assert body["code"] == "method_not_allowed" and "DELETE" in body["message"]
