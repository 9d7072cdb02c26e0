"""The whole answer to one request, decided up front: text or one tool call, the finish
reason, usage and warnings. Streaming then only cuts it into events, so the stream and
``generate()`` give the same result by construction.

Precedence: a history ending in tool results is answered in text (so a tool loop always
ends) — unless the user plainly asked for another tool that has not been called since
their message (a chain such as "what time is it, then compute 6 * 7": one call per step,
each tool at most once, so the loop still ends); otherwise a tool is called when
``tool_choice`` forces one or the user plainly asks for it; otherwise the reply is text,
shaped as JSON when ``response_format`` asks.
``stop`` then cuts the text at the first stop sequence (finish ``stop``, raw
``stop_sequence``), and ``max_output_tokens`` truncates what remains (finish ``length``).
A tool call cut by ``max_output_tokens`` keeps its truncated (invalid) JSON arguments, as
real vendors do, with finish ``length``. The model's own output limit
(``limits.MAX_OUTPUT_TOKENS``) applies when the request sets none or a higher one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from switchboard.providers.offline import tokens
from switchboard.providers.offline.compose import (
    MODEL_ID,
    compose_reply,
    ends_in_tool_results,
    user_turns,
)
from switchboard.providers.offline.hints import Hints
from switchboard.providers.offline.limits import MAX_OUTPUT_TOKENS, READ_CHARS
from switchboard.providers.offline.schema_values import value_for
from switchboard.providers.offline.tool_select import choose_tool, plain_requests
from switchboard.providers.offline.warnings import call_warnings
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    FinishReason,
    Tool,
    ToolCallPart,
    Usage,
    is_tool_pictures,
)


@dataclass(frozen=True, slots=True)
class PlannedCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Answer:
    response_id: str
    text: str
    finish: FinishReason
    usage: Usage
    tool_call: PlannedCall | None = None
    warnings: list[CallWarning] = field(default_factory=list)


def request_digest(request: ChatRequest) -> str:
    """A stable fingerprint of the request: the seed of every id in the answer."""
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def plan_answer(request: ChatRequest, model_id: str = MODEL_ID) -> Answer:
    digest = request_digest(request)
    warnings = call_warnings(request)
    prompt = tokens.input_tokens(request)
    turns = user_turns(request)
    user_text = turns[-1].text[:READ_CHARS] if turns else ""
    tool = (_next_in_chain(request, user_text) if ends_in_tool_results(request)
            else choose_tool(request, user_text))
    if tool is not None:
        args = json.dumps(value_for(tool.parameters, Hints(user_text, tool.name),
                                    param="tools"), ensure_ascii=False)
        args, cut = _truncate(args, request.max_output_tokens)
        out = tokens.text_tokens(tool.name) + tokens.text_tokens(args)
        finish = FinishReason("length", "length") if cut else FinishReason(
            "tool_calls", "tool_calls")
        return Answer(
            response_id=f"offline-{digest[:24]}",
            text="",
            finish=finish,
            usage=_usage(prompt, out, model_id),
            tool_call=PlannedCall(f"call_{digest[24:48]}", tool.name, args),
            warnings=warnings,
        )
    text = _shaped_text(request, user_text)
    finish = FinishReason("stop", "stop")
    stop_at = _first_stop(text, request.stop or [])
    if stop_at is not None:
        text = text[:stop_at]
        finish = FinishReason("stop", "stop_sequence")
    text, cut = _truncate(text, request.max_output_tokens)
    if cut:
        finish = FinishReason("length", "length")
    return Answer(
        response_id=f"offline-{digest[:24]}",
        text=text,
        finish=finish,
        usage=_usage(prompt, tokens.text_tokens(text), model_id),
        warnings=warnings,
    )


def _next_in_chain(request: ChatRequest, user_text: str) -> Tool | None:
    """After tool results: the next tool the user asked for that has not been called
    since their last message (None: answer in text)."""
    last_user = max((i for i, m in enumerate(request.messages)
                     if m.role == "user" and not is_tool_pictures(m)), default=-1)
    called = {p.name for m in request.messages[last_user + 1:] for p in m.parts
              if isinstance(p, ToolCallPart)}
    return next((t for t in plain_requests(request, user_text) if t.name not in called),
                None)


def _shaped_text(request: ChatRequest, user_text: str) -> str:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return compose_reply(request)
    if fmt.type == "json_schema":
        value = value_for(fmt.schema_, Hints(user_text, fmt.name), param="response_format")
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(
        {"model": MODEL_ID, "turn": len(user_turns(request)), "reply": compose_reply(request)},
        ensure_ascii=False,
        indent=2,
    )


def _first_stop(text: str, stops: list[str]) -> int | None:
    hits = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(hits) if hits else None


def _truncate(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut ``text`` to ``max_tokens`` (at ~4 chars each), never more than the model's own
    output limit; True if anything was cut."""
    limit = min(max_tokens or MAX_OUTPUT_TOKENS, MAX_OUTPUT_TOKENS) * tokens.CHARS_PER_TOKEN
    if len(text) <= limit:
        return text, False
    return text[:limit], True


def _usage(prompt: int, output: int, model_id: str) -> Usage:
    return Usage(
        input_tokens=prompt,
        output_tokens=output,
        cached_input_tokens=0,
        reasoning_tokens=0,
        raw={"estimated": True, "model": model_id,
             "input_tokens": prompt, "output_tokens": output},
    )
