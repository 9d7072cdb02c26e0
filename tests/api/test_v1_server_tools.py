"""``/v1/chat/completions`` with the ``server_tools`` extension (issue 14 item 6, decision
0162), driven by the official ``openai`` SDK (strict response validation) against a real
server on loopback: the offline model chains the real built-ins (time -> calculator ->
answer), the server runs the loop and answers with the final text, usage summed over the
steps; without the field ``/v1`` stays client-executed; bad opt-ins are OpenAI-shaped
400s naming ``server_tools``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.api.chat_support import add_provider, wait_for
from tests.api.v1_support import V1Member, v1_member
from tests.fakes import openai as openai_fake
from tests.fakes.script import Reply, ScriptToolCall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

MODEL = "offline:offline-chat"
CHAIN = "What time is it? Then compute 12 * (3 + 4)."
CALCULATOR = {"type": "function", "function": {
    "name": "calculator", "description": "Evaluates an arithmetic expression.",
    "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}}}}


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[V1Member]:
    with v1_member(tmp_path_factory, "toolsy", "/chat/completions") as member:
        yield member


def usage_sql(after: int) -> str:
    return ("SELECT id, source, input_tokens, output_tokens FROM usage_events "
            f"WHERE id > {after} ORDER BY id")


def usage_rows(setup: V1Member, after: int) -> list[tuple[Any, ...]]:
    return setup.server.query(usage_sql(after))


def three_rows(setup: V1Member, after: int) -> list[tuple[Any, ...]]:
    """The usage rows after ``after`` once three are written (the recorder batches)."""
    return wait_for(setup.server, usage_sql(after), lambda rows: len(rows) >= 3)


def last_row(setup: V1Member) -> int:
    found = setup.server.query("SELECT max(id) FROM usage_events")
    return int(found[0][0] or 0)  # type: ignore[call-overload]


def test_the_server_runs_the_chain_and_answers_with_usage_summed(setup: V1Member) -> None:
    before = last_row(setup)
    done = setup.client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": CHAIN}],
        extra_body={"server_tools": ["datetime", "calculator"]})
    choice = done.choices[0]
    assert choice.finish_reason == "stop" and not choice.message.tool_calls
    text = choice.message.content or ""
    assert "According to `calculator`: 84" in text and "According to `datetime`: " in text
    # One usage row per model call (three: time, calculator, answer), source api; the
    # response's usage is their sum.
    rows = three_rows(setup, before)
    assert [r[1] for r in rows] == ["api", "api", "api"]
    assert done.usage is not None
    assert done.usage.prompt_tokens == sum(int(r[2]) for r in rows)
    assert done.usage.completion_tokens == sum(int(r[3]) for r in rows)


def test_streaming_sends_the_text_and_one_finish_with_the_summed_usage(
        setup: V1Member) -> None:
    before = last_row(setup)
    stream = setup.client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": CHAIN}], stream=True,
        stream_options={"include_usage": True},
        extra_body={"server_tools": ["datetime", "calculator"]})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "According to `calculator`: 84" in text
    assert not any(c.choices and c.choices[0].delta.tool_calls for c in chunks)
    finishes = [c.choices[0].finish_reason for c in chunks
                if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    assert [c.choices[0].delta.role for c in chunks if c.choices and
            c.choices[0].delta.role] == ["assistant"]  # one start, not one per step
    usage = chunks[-1].usage
    assert usage is not None and not chunks[-1].choices
    rows = three_rows(setup, before)
    assert usage.prompt_tokens == sum(int(r[2]) for r in rows)


def test_without_the_field_v1_stays_client_executed(setup: V1Member) -> None:
    done = setup.client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "What is 2 * (3 + 4)?"}],
        tools=[CALCULATOR])  # type: ignore[list-item]
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["calculator"]  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {  # type: ignore[union-attr]
        "expression": "2 * (3 + 4)"}


@pytest.mark.parametrize(("extra", "param", "words"), [
    ({"server_tools": ["calculator", "nope"]}, "server_tools", "'nope'"),
    ({"server_tools": []}, "server_tools", "at least one"),
    ({"server_tools": ["calculator"], "tools": [CALCULATOR]}, "server_tools",
     "cannot be combined with tools"),
    ({"server_tools": ["calculator"], "n": 2}, "n", "one choice"),
])
def test_bad_opt_ins_are_openai_shaped_400s(setup: V1Member, extra: dict[str, Any],
                                            param: str, words: str) -> None:
    before = last_row(setup)
    with pytest.raises(openai.BadRequestError) as caught:
        setup.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "2 * (3 + 4)"}],
            extra_body=extra)
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == param and body["type"] == "invalid_request_error"
    assert words in body["message"]
    assert usage_rows(setup, before) == []  # refused before any model call


def test_the_step_cap_bounds_the_loop_and_the_last_step_answers_in_text(
        setup: V1Member) -> None:
    """A model that would call tools for ever: the 10th call is sent with
    ``tool_choice: "none"`` and its text is the answer; 9 calculator runs, no more."""
    fake = FakeVendor(openai_fake.Wire())
    with serve_in_thread(fake) as url:
        ref = add_provider(setup.server, "loopy", "openai", f"{url}/v1", "gpt-4o-mini")
        fake.then(*[Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall(f"call_{i}", "calculator", '{"expression": "1 + 1"}')])
            for i in range(9)], Reply(chunks=["Enough: 2."]))
        done = setup.client.chat.completions.create(
            model=ref, messages=[{"role": "user", "content": "add forever"}],
            extra_body={"server_tools": ["calculator"]})
        sent = [r.body for r in fake.chat_requests()]
    assert done.choices[0].message.content == "Enough: 2."
    assert len(sent) == 10
    assert [s.get("tool_choice") for s in sent][-1] == "none"
    assert all(s.get("tool_choice") != "none" for s in sent[:-1])
    results = [m for m in sent[-1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in results] == ["2"] * 9
