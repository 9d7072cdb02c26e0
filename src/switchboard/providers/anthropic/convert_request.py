"""``ChatRequest`` -> the body of ``POST /v1/messages``
(https://docs.anthropic.com/en/api/messages).

Messages, thinking and JSON output have their own modules; this one assembles the body
and maps the sampling and tool settings, reporting each one Anthropic cannot honour:

- ``temperature`` is 0..1 at Anthropic (ours is 0..2): higher values are clamped.
- With extended thinking on, the API rejects ``temperature`` and ``top_k``, ``top_p``
  below 0.95, and forced tool use; those are dropped (forced choice becomes ``auto``).
- Newer models reject ``temperature`` together with ``top_p``: ``top_p`` is dropped.
- ``seed``, ``frequency_penalty``, ``presence_penalty`` and strict tools do not exist.
- ``user`` goes to ``metadata.user_id``; ``parallel_tool_calls=False`` to
  ``tool_choice.disable_parallel_tool_use``.
- ``provider_options["anthropic"]`` is merged into the body *last*, verbatim: the escape
  hatch for vendor-only fields (``metadata``, ``thinking``, ``top_k``, ``service_tier``,
  ``container``, ``mcp_servers``, a top-level ``cache_control`` hint, ...). A dict value is
  merged one level deep into a dict already there (so ``metadata`` keeps ``user_id``).
  Fields the gateway owns (``model``, ``stream``, ``messages``, ``system``, ``tools``,
  ``tool_choice``) were refused before this runs (``registry.passthrough``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.spec import CallWarning, ChatRequest, InvalidRequestError, ToolChoiceTool

from .convert_messages import convert_messages
from .models import family
from .response_format import JSON_TOOL_NAME, json_tool
from .thinking import plan_thinking


@dataclass(slots=True)
class RequestPlan:
    body: dict[str, Any]
    warnings: list[CallWarning]
    json_tool: str | None  # the forced tool whose input is the answer (response_format)


def build_request(
    request: ChatRequest, model_id: str, *, stream: bool, default_max_tokens: int | None = None,
) -> RequestPlan:
    warnings: list[CallWarning] = []
    system, history = request.with_system_folded()
    messages = convert_messages(history, warnings)
    if not messages:
        raise InvalidRequestError(
            "Anthropic needs at least one user or assistant message with content; this "
            "request has only a system prompt or empty messages", param="messages",
        )
    plan = plan_thinking(request, model_id, default_max_tokens, warnings)
    body: dict[str, Any] = {"model": model_id, "max_tokens": plan.max_tokens,
                            "messages": messages}
    if system:
        body["system"] = system
    if plan.thinking is not None:
        body["thinking"] = plan.thinking
    _sampling(request, model_id, plan.enabled, body, warnings)
    answer_tool = _tools(request, plan.enabled, body, warnings)
    if request.user:
        body["metadata"] = {"user_id": request.user}
    if stream:
        body["stream"] = True
    _merge_options(body, request.options_for("anthropic"))
    return RequestPlan(body, list(dict.fromkeys(warnings)), answer_tool)


def _unsupported(setting: str, why: str) -> CallWarning:
    return CallWarning("unsupported-setting", f"{setting}: {why}", setting=setting)


def _sampling(request: ChatRequest, model_id: str, thinking: bool, body: dict[str, Any],
              warnings: list[CallWarning]) -> None:
    if request.temperature is not None:
        if thinking:
            warnings.append(_unsupported(
                "temperature", "not allowed with extended thinking; it was dropped"))
        elif request.temperature > 1:
            warnings.append(_unsupported(
                "temperature", f"Anthropic takes 0..1; {request.temperature} was sent as 1"))
            body["temperature"] = 1.0
        else:
            body["temperature"] = request.temperature
    if request.top_p is not None:
        if thinking and request.top_p < 0.95:
            warnings.append(_unsupported(
                "top_p", "must be 0.95..1 with extended thinking; it was dropped"))
        elif "temperature" in body and family(model_id).exclusive_sampling:
            warnings.append(_unsupported(
                "top_p", f"{model_id} accepts temperature or top_p, not both; top_p was "
                "dropped"))
        else:
            body["top_p"] = request.top_p
    if request.top_k is not None:
        if thinking:
            warnings.append(_unsupported(
                "top_k", "not allowed with extended thinking; it was dropped"))
        else:
            body["top_k"] = request.top_k
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    for name in ("seed", "frequency_penalty", "presence_penalty", "logprobs"):
        if getattr(request, name) is not None:
            warnings.append(_unsupported(name, "Anthropic has no such setting; it was ignored"))


def _tools(request: ChatRequest, thinking: bool, body: dict[str, Any],
           warnings: list[CallWarning]) -> str | None:
    """Set ``tools`` / ``tool_choice``; return the JSON answer tool's name if forced."""
    answer = json_tool(request.response_format)
    if answer is not None and request.tools:
        warnings.append(_unsupported(
            "response_format", "Anthropic has no JSON mode and this request has tools, so "
            "the format cannot be enforced with a tool; it was ignored"))
        answer = None
    if answer is not None:
        if getattr(request.response_format, "strict", None):
            warnings.append(_unsupported(
                "response_format.strict", "the schema guides a tool call; Anthropic does "
                "not guarantee strict conformance"))
        body["tools"] = [answer]
        if thinking:
            warnings.append(_unsupported(
                "response_format", "extended thinking forbids forcing a tool, so the JSON "
                "answer tool is only offered and JSON output is not guaranteed"))
            body["tool_choice"] = {"type": "auto"}
        else:
            body["tool_choice"] = {"type": "tool", "name": JSON_TOOL_NAME}
        return JSON_TOOL_NAME
    if not request.tools:
        return None
    tools: list[dict[str, Any]] = []
    for tool in request.tools:
        spec: dict[str, Any] = {"name": tool.name}
        if tool.description:
            spec["description"] = tool.description
        spec["input_schema"] = tool.parameters
        if tool.strict:
            warnings.append(_unsupported(
                "strict", f"tool {tool.name!r}: Anthropic has no strict tool schemas; the "
                "schema is sent as guidance"))
        tools.append(spec)
    body["tools"] = tools
    choice = _tool_choice(request, thinking, warnings)
    if request.parallel_tool_calls is False:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None:
        body["tool_choice"] = choice
    return None


def _tool_choice(request: ChatRequest, thinking: bool,
                 warnings: list[CallWarning]) -> dict[str, Any] | None:
    tc = request.tool_choice
    if tc is None:
        return None
    if isinstance(tc, ToolChoiceTool):
        choice: dict[str, Any] = {"type": "tool", "name": tc.name}
    else:
        choice = {"type": {"auto": "auto", "none": "none", "required": "any"}[tc]}
    if thinking and choice["type"] in ("any", "tool"):
        warnings.append(_unsupported(
            "tool_choice", "extended thinking allows only 'auto' or 'none'; the forced "
            "choice was sent as 'auto'"))
        choice = {"type": "auto"}
    return choice


def _merge_options(body: dict[str, Any], options: dict[str, Any]) -> None:
    for key, value in options.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
