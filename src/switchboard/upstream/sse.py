"""An incremental Server-Sent Events decoder following the WHATWG rules.

https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
Lines end in CRLF, LF or CR (a CR at the end of one chunk may be followed by LF in the
next); a leading BOM is dropped; ``:`` starts a comment; one space after the field colon
is removed; ``data`` lines are joined with LF; an event is dispatched on a blank line, and
an event with no data is not dispatched. Bytes are decoded incrementally, so a UTF-8
character split across chunks is safe.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(slots=True)
class SSEEvent:
    event: str
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    __slots__ = ("_decoder", "_buf", "_pending_cr", "_first", "_event", "_data",
                 "_has_data", "_last_id", "_retry")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buf = ""
        self._pending_cr = False
        self._first = True
        self._event = ""
        self._data: list[str] = []
        self._has_data = False
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Decode one chunk; return the events it completed."""
        text = self._decoder.decode(chunk)
        return self._feed_text(text)

    def flush(self) -> list[SSEEvent]:
        """End of stream. Per the spec an unterminated final event is discarded; we
        dispatch it anyway when it holds data, because some vendors omit the final blank
        line and dropping their last event would lose usage or a finish reason."""
        text = self._decoder.decode(b"", final=True)
        events = self._feed_text(text)
        if self._buf:
            self._line(self._buf)
            self._buf = ""
        out = self._dispatch()
        if out is not None:
            events.append(out)
        return events

    def _feed_text(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if self._first:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._pending_cr:
            self._pending_cr = False
            if text.startswith("\n"):
                text = text[1:]
        buf = self._buf + text
        if "\r" in buf:
            # Normalise CRLF and lone CR to LF (CRLF first, so it counts once). A CR that
            # ends the buffer ends its line; the LF that may open the next chunk is dropped.
            self._pending_cr = buf.endswith("\r")
            buf = buf.replace("\r\n", "\n").replace("\r", "\n")
        # Split with C string operations: a per-character loop in Python cost ~10 % of the
        # server's CPU on a 20-chunk stream (docs/performance.md, session 5).
        lines = buf.split("\n")
        self._buf = lines.pop()  # the incomplete last line ("" when the text ended one)
        events: list[SSEEvent] = []
        for line in lines:
            if line:
                if line.startswith("data: "):  # ``_line``'s answer for the usual line,
                    self._data.append(line[6:])  # inline: once per event of every stream
                    self._has_data = True
                else:
                    self._line(line)
            else:
                ev = self._dispatch()
                if ev is not None:
                    events.append(ev)
        return events

    def _line(self, line: str) -> None:
        if line[0] == ":":
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_data = True
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)

    def _dispatch(self) -> SSEEvent | None:
        if not self._has_data:
            self._event = ""
            return None
        ev = SSEEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            id=self._last_id,
            retry=self._retry,
        )
        self._event = ""
        self._data = []
        self._has_data = False
        return ev


async def aiter_sse(chunks: AsyncIterable[bytes]) -> AsyncIterator[SSEEvent]:
    """Decode an async stream of byte chunks (for example ``response.aiter_raw()``)."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for event in decoder.feed(chunk):
            yield event
    for event in decoder.flush():
        yield event
