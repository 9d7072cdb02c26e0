"""The contract between the tool loop and whatever provides tools (issue 14).

Three parties meet here and nowhere else:

- a **source** of tools (the built-in tools; each configured MCP server) lists the tools it
  offers as ``RunnableTool`` objects;
- the **toolbox** (one per process) merges the sources, applies the admin's settings
  (enabled, on by default, per-tool policy) and hands the loop the tools of one turn;
- the **loop** offers the tools' ``ToolSpec`` to the model, runs the calls the model makes
  (concurrently, each bounded by its own ``timeout`` and ``max_result_chars``) and feeds the
  ``ToolOutput`` back as a tool-result message.

Why public names and wire names differ: a tool's public name may contain a dot
(``server.tool`` for MCP), which no vendor accepts in a function name (OpenAI allows
``^[a-zA-Z0-9_-]{1,64}$``: https://platform.openai.com/docs/api-reference/chat/create);
``wire_name`` is what the model sees, ``name`` is what people and the chat API use.

A tool never raises for a failure the model should hear about (a bad argument, a server
that is down, a timeout): it returns ``ToolOutput(is_error=True)`` with one clear sentence,
so one failing tool never breaks a turn.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Protocol

from switchboard.services.principal import Principal
from switchboard.spec.errors import SwitchboardError
from switchboard.spec.messages import ImagePart

ToolPolicy = Literal["allow", "ask", "deny"]
"""``allow``: runs at once; ``ask``: the chat shows the call and waits for the user's
approve / deny; ``deny``: never offered to a model."""

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MAX_RESULT_CHARS = 32_000
"""A tool result larger than this is cut (with a note saying so) before a model sees it:
a result is part of the next prompt, and prompts cost money."""

_WIRE_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")


def wire_name(name: str) -> str:
    """A vendor-safe function name for a public tool name (``server.tool`` ->
    ``server__tool``), at most 64 characters."""
    return _WIRE_UNSAFE.sub("_", name.replace(".", "__"))[:64]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What a model is told about a tool, and the limits it runs under."""

    name: str
    """Public name: ``calculator``, ``server.tool``."""
    description: str
    """Written for a model: what it does, when to use it, what it returns."""
    parameters: Mapping[str, Any]
    """A JSON Schema of type ``object`` for the arguments."""
    source: str
    """``builtin`` or ``mcp:<server name>``."""
    policy: ToolPolicy = "allow"
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_result_chars: int = DEFAULT_MAX_RESULT_CHARS
    flag: str | None = None
    """A feature flag (``services.flags``) the tool belongs to, e.g. ``image_generation``:
    the composer's menu leaves the tool out for a person the flag is off for (the tool
    itself refuses when run)."""

    @property
    def wire_name(self) -> str:
        return wire_name(self.name)


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who the tool runs for. Tools that touch a user's data (``search_conversations``)
    scope every query to ``principal``; nothing else about the turn is shared."""

    principal: Principal
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """A tool's result: text for the model, images carried into the message (and shown
    in the answer), structured content when the tool has it."""

    text: str
    images: Sequence[ImagePart] = ()
    structured: Mapping[str, Any] | None = None
    is_error: bool = False
    cost: Decimal = Decimal(0)
    """What running the tool cost (``generate_image`` calls an image model); added to
    the turn's cost."""
    model: str | None = None
    """The model the tool called, if any (shown with the cost)."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    """Small facts for the tool card (size, prompt, duration is measured by the loop)."""


class RunnableTool(Protocol):
    """One tool a source offers."""

    @property
    def spec(self) -> ToolSpec: ...

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        """Run once. Arguments were parsed from the model's JSON but NOT validated
        against the schema: check what you use. Must return (not raise) for failures the
        model should hear about; the loop enforces ``spec.timeout_s`` around this."""
        ...


class ToolSource(Protocol):
    """A provider of tools: the built-ins, or one MCP server."""

    @property
    def name(self) -> str:
        """``builtin`` or ``mcp:<server name>`` (matches ``ToolSpec.source``)."""
        ...

    async def list_tools(self) -> Sequence[RunnableTool]:
        """The tools available now (an MCP server may change them at any time). A source
        that is down returns ``[]`` and logs why; it never raises."""
        ...


class LoopLimit(SwitchboardError):
    """A tool loop ended before the model answered in text (its cost cap): said to the
    caller as a budget refusal is (``/v1``: 429 ``insufficient_quota``). Declared here,
    with the contract, not in ``driver``: the ``/v1`` error mapping names it on every
    server, which need not import the loop to do so (decision 0223)."""

    code = "tool_loop_limit"
