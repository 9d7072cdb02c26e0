"""``n`` forwarded to OpenAI (decision 0084): one response of n choices -> events with
choice ``i >= 1`` tagged ``Choice``, split into n answers whose usages sum to the bill.
Payloads shaped as https://platform.openai.com/docs/api-reference/chat-streaming shows."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

from switchboard.providers.openai.convert_response import convert_response
from switchboard.providers.openai.convert_stream import StreamConverter
from switchboard.spec import ChatResult, StreamEvent, StreamStart, collect_stream
from switchboard.spec.choices import ZERO_USAGE, split_choices

USAGE = {"prompt_tokens": 9, "completion_tokens": 8, "total_tokens": 17}


def chunk(index: int | None, delta: dict[str, Any] | None = None,
          finish: str | None = None, usage: dict[str, Any] | None = None) -> str:
    return json.dumps({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
        "model": "gpt-4o-mini", "system_fingerprint": "fp_1",
        "choices": [] if index is None else [
            {"index": index, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
        "usage": usage})


def split(events: list[StreamEvent], n: int) -> list[ChatResult]:
    async def source() -> AsyncGenerator[StreamEvent, None]:
        for event in events:
            yield event

    async def run() -> list[ChatResult]:
        return [await collect_stream(s) for s in split_choices(source(), n)]

    return asyncio.run(run())


def test_an_interleaved_stream_of_two_choices_is_two_answers() -> None:
    converter = StreamConverter("openai", "req_1", None, choices=2)
    call = {"index": 0, "id": "call_1", "type": "function",
            "function": {"name": "f", "arguments": ""}}
    data = [chunk(0, {"role": "assistant", "content": ""}),
            chunk(1, {"role": "assistant", "content": ""}),
            chunk(0, {"content": "Hi"}), chunk(1, {"tool_calls": [call]}),
            chunk(1, {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
            chunk(0, {"content": "!"}),
            chunk(0, {}, "stop"), chunk(1, {}, "tool_calls"),
            chunk(None, usage=USAGE), "[DONE]"]
    events: list[StreamEvent] = [StreamStart()]
    for item in data:
        events.extend(converter.feed(item))
    first, second = split(events, 2)
    assert first.text == "Hi!" and first.finish_reason is not None
    assert first.finish_reason.unified == "stop"
    assert (first.usage.input_tokens, first.usage.output_tokens) == (9, 8)
    assert second.text == "" and [(c.name, c.arguments) for c in second.tool_calls] == [
        ("f", "{}")]
    assert second.finish_reason is not None and second.usage == ZERO_USAGE
    assert second.finish_reason.unified == "tool_calls"
    assert first.metadata.response_id == second.metadata.response_id == "chatcmpl-1"


def test_one_choice_reads_only_index_0_as_before() -> None:
    converter = StreamConverter("openai", None, None)
    events: list[StreamEvent] = [StreamStart()]
    for item in [chunk(0, {"content": "a"}), chunk(1, {"content": "b"}), chunk(0, {}, "stop"),
                 "[DONE]"]:
        events.extend(converter.feed(item))
    (only,) = split(events, 1)
    assert only.text == "a"


def test_a_completion_with_three_choices_is_three_answers() -> None:
    body = {"id": "chatcmpl-2", "object": "chat.completion", "created": 1,
            "model": "gpt-4o-mini",
            "choices": [{"index": i, "message": {"role": "assistant", "content": f"c{i}",
                                                 "refusal": None},
                         "logprobs": None, "finish_reason": "stop"} for i in (2, 0, 1)],
            "usage": USAGE}
    results = split([StreamStart(), *convert_response("openai", body, None, None, n=3)], 3)
    assert [r.text for r in results] == ["c0", "c1", "c2"]
    assert [r.usage.input_tokens for r in results] == [9, 0, 0]
    assert [r.usage.output_tokens for r in results] == [8, 0, 0]
