"""``OpenAIChatModel.generate_events`` hands the converted answer to the framework as
events (decision 0210) instead of folding it into a ``ChatResult`` that was replayed as
events: folded once, they must give the very result the fold-and-replay gave."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.providers.openai.convert_response import convert_response
from switchboard.spec import collect, result_events

USAGE = {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19,
         "prompt_tokens_details": {"cached_tokens": 2},
         "completion_tokens_details": {"reasoning_tokens": 3}}
LOGPROBS = {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105],
                         "top_logprobs": []}]}


def body(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-1", "model": "gpt-4o-mini", "created": 1,
            "choices": [{"index": 0, "message": {"role": "assistant", **message},
                         "finish_reason": extra.pop("finish", "stop"), **extra}],
            "usage": USAGE}


BODIES = [
    body({"content": "Hello"}),
    body({"content": "Hi"}, logprobs=LOGPROBS),
    body({"content": None, "refusal": "I can't help with that."}),
    body({"content": "Partly", "refusal": "and no more"}),
    body({"content": "Answer", "reasoning_content": "thinking..."}),
    body({"content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "f", "arguments": '{"a":1}'}},
        {"id": "", "type": "function", "function": {"name": "g", "arguments": ""}},
        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
    ]}, finish="tool_calls"),
    body({"content": ""}, finish=None),
    {"id": "x", "choices": []},
    {"choices": [{"message": {"content": "no usage"}, "finish_reason": "length"}]},
]


@pytest.mark.parametrize("answer", BODIES)
@pytest.mark.parametrize("reasoning", [None, "reasoning_content"])
def test_the_events_fold_to_the_result_the_fold_and_replay_gave(
        answer: dict[str, Any], reasoning: Any) -> None:
    events = convert_response("oa", answer, "req-1", reasoning, ())
    before = collect(result_events(collect(events)))  # the adapter's fold, replayed
    assert collect(events) == before
