"""A neutral script of what a fake vendor should answer next.

Tests say *what* happens (a reply in three chunks, a 429, a break after two chunks); each
vendor's renderer (``tests/fakes/<vendor>.py``) says how that vendor puts it on the wire.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScriptToolCall:
    id: str
    name: str
    arguments: str  # JSON text
    chunks: int = 2  # how many argument deltas when streamed


@dataclass
class Reply:
    """A successful answer. ``text`` is split into ``chunks`` streamed deltas."""

    chunks: list[str] = field(default_factory=lambda: ["Hello", ", ", "world", "!"])
    tool_calls: list[ScriptToolCall] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    reasoning_signature: str | None = None
    input_tokens: int = 12
    output_tokens: int = 7
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    finish: str = "stop"  # stop | length | tool_calls | content_filter
    model: str | None = None  # echoed model id (default: the requested one)
    response_id: str = "resp_fake_1"
    pictures: dict[int, str] | None = None
    """Pictures the answer draws (a vendor with image output, Gemini): after text chunk
    ``i``, a picture of the words given. ``None``: the vendor's default (Gemini draws
    one when the request asks for images); ``{}``: none."""

    @property
    def text(self) -> str:
        return "".join(self.chunks)


@dataclass
class Fail:
    """An HTTP error before any byte of the body."""

    status: int
    message: str = "fake failure"
    error_type: str | None = None
    code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Break:
    """Stream ``reply`` but cut the connection after ``after`` chunks of its text."""

    reply: Reply = field(default_factory=Reply)
    after: int = 2


@dataclass
class InBandError:
    """Stream ``after`` text chunks, then a vendor error event inside the stream."""

    reply: Reply = field(default_factory=Reply)
    after: int = 1
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass
class Slow:
    """Stream ``reply`` with ``delay`` seconds between events (a long answer)."""

    reply: Reply = field(default_factory=Reply)
    delay: float = 0.1


@dataclass
class Stall:
    """Stream ``after`` chunks, then go silent for ``seconds`` (to trip a read timeout)."""

    reply: Reply = field(default_factory=Reply)
    after: int = 1
    seconds: float = 5.0


@dataclass
class Hold:
    """Stream ``after`` chunks, wait until the test sets ``release`` (a
    ``threading.Event``; at most ``timeout`` seconds), then stream the rest: an answer
    that is surely still being written while the test acts on it."""

    reply: Reply = field(default_factory=Reply)
    after: int = 1
    release: threading.Event = field(default_factory=threading.Event)
    timeout: float = 30.0


@dataclass
class Hang:
    """Say nothing — not even the status line — for ``seconds``, then answer ``then``
    (an overloaded gateway holding the request; trips a first-byte deadline)."""

    seconds: float = 5.0
    then: Reply | Fail = field(default_factory=Reply)


@dataclass
class Raw:
    """Send exactly this status, headers and body (a recorded fixture)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


Step = Reply | Fail | Break | InBandError | Stall | Hold | Slow | Raw | Hang


@dataclass
class Received:
    """One request as the fake vendor saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
