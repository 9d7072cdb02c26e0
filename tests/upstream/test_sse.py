from __future__ import annotations

import pytest

from switchboard.upstream.sse import SSEDecoder, SSEEvent, aiter_sse


def decode(*chunks: bytes) -> list[SSEEvent]:
    d = SSEDecoder()
    out: list[SSEEvent] = []
    for c in chunks:
        out.extend(d.feed(c))
    out.extend(d.flush())
    return out


def test_basic_event_and_default_type() -> None:
    [e] = decode(b"data: hello\n\n")
    assert (e.event, e.data) == ("message", "hello")


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_all_line_endings(eol: bytes) -> None:
    events = decode(b"event: a" + eol + b"data: 1" + eol + eol + b"data: 2" + eol + eol)
    assert [(e.event, e.data) for e in events] == [("a", "1"), ("message", "2")]


def test_crlf_split_across_chunks() -> None:
    events = decode(b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n")
    assert [e.data for e in events] == ["x", "y"]


def test_multiline_data_joined_with_lf() -> None:
    [e] = decode(b"data: a\ndata:b\ndata:  c\n\n")
    assert e.data == "a\nb\n c"  # one leading space removed, no more


def test_comments_ids_retry_and_empty_events() -> None:
    events = decode(b": ping\n\nid: 7\nretry: 300\ndata: z\n\nevent: nothing\n\n")
    assert len(events) == 1
    assert (events[0].id, events[0].retry, events[0].data) == ("7", 300, "z")


def test_field_without_colon_and_unknown_field() -> None:
    [e] = decode(b"data\nfoo: bar\n\n")
    assert e.data == ""


def test_bom_and_utf8_split_across_chunks() -> None:
    text = "data: héllo ☃\n\n".encode()
    cut = text.index("☃".encode()) + 1
    events = decode(b"\xef\xbb\xbf" + text[:cut], text[cut:])
    assert events[0].data == "héllo ☃"


def test_unterminated_last_event_is_kept_on_flush() -> None:
    events = decode(b"data: a\n\ndata: last")
    assert [e.data for e in events] == ["a", "last"]


def test_byte_at_a_time() -> None:
    raw = b"event: message_start\ndata: {\"a\":1}\n\n: c\r\ndata: [DONE]\r\n\r\n"
    events = decode(*[raw[i:i + 1] for i in range(len(raw))])
    assert [(e.event, e.data) for e in events] == [("message_start", '{"a":1}'),
                                                    ("message", "[DONE]")]


async def test_async_iteration() -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        yield b"data: 1\n"
        yield b"\ndata: 2\n\n"

    assert [e.data async for e in aiter_sse(chunks())] == ["1", "2"]


def test_every_two_way_split_decodes_like_the_whole() -> None:
    """The decoder splits lines with string operations, not a per-character loop: wherever
    a chunk boundary falls (inside a CRLF, a CR CR LF, a multi-byte character), the events
    are the same as for the undivided stream."""
    raw = ("data: a\r\r\nevent: é\rdata: b\r\ndata: c\n\r\n: x\r\rid: 7\ndata: ü\n\n"
           "data: tail").encode()
    whole = decode(raw)
    assert [(e.event, e.data, e.id) for e in whole] == [
        ("message", "a", None), ("é", "b\nc", None), ("message", "ü", "7"),
        ("message", "tail", "7")]
    for cut in range(1, len(raw)):
        assert decode(raw[:cut], raw[cut:]) == whole, cut


def test_data_lines_read_inline_as_the_field_rules_read_them() -> None:
    """``data: `` lines skip ``_line`` (the usual line of every event): the same value as
    the field rules give (one space removed, later colons kept, empty kept)."""
    text = (b"data: a:b\ndata: \ndata:  two\ndata:x\ndata\n\n"
            b"data: {\"k\": \"v: w\"}\n\n")
    assert [e.data for e in decode(text)] == ["a:b\n\n two\nx\n", '{"k": "v: w"}']
