from __future__ import annotations

from decimal import Decimal
from typing import Any

from switchboard.spec import (
    CallWarning,
    ErrorEvent,
    Finish,
    FinishReason,
    Price,
    ReasoningDelta,
    ReasoningPart,
    ResponseMetadata,
    StreamBrokenError,
    StreamStart,
    TextDelta,
    TextPart,
    ToolCall,
    ToolCallDelta,
    ToolCallPart,
    ToolCallStart,
    Usage,
    collect,
    cost,
    parse_arguments,
)


def test_collect_orders_parts_and_merges() -> None:
    result = collect([
        StreamStart(warnings=[CallWarning("unsupported-setting", "no seed", "seed")]),
        ResponseMetadata(response_id="r1", model="m"),
        ReasoningDelta("Think", id="0"),
        ReasoningDelta("ing", id="0", provider_metadata={"anthropic": {"signature": "sig"}}),
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallStart("c1", "f"),
        ToolCallDelta("c1", '{"a":'),
        ToolCallDelta("c1", "1}"),
        ToolCall("c1", "f", '{"a":1}'),
        Finish(FinishReason("tool_calls", "tool_use"), Usage(input_tokens=3, output_tokens=4)),
    ])
    assert result.text == "Hello"
    assert result.parts == [
        ReasoningPart(text="Thinking", provider_metadata={"anthropic": {"signature": "sig"}}),
        TextPart(text="Hello"),
        ToolCallPart(id="c1", name="f", arguments='{"a":1}'),
    ]
    assert [c.id for c in result.tool_calls] == ["c1"]
    assert result.finish_reason == FinishReason("tool_calls", "tool_use")
    assert result.usage.total_tokens == 7
    assert result.warnings[0].setting == "seed"
    assert result.metadata.response_id == "r1"
    assert result.complete
    assert result.message.role == "assistant"


def test_partial_stream_keeps_what_arrived() -> None:
    err = StreamBrokenError("cut")
    result = collect([StreamStart(), TextDelta("par"), ToolCallStart("c", "f"),
                      ToolCallDelta("c", '{"x"'), ErrorEvent(err)])
    assert result.text == "par"
    assert result.error is err
    assert not result.complete
    # the interrupted call is kept as a part but not offered as a finished call
    assert result.parts[-1] == ToolCallPart(id="c", name="f", arguments='{"x"')
    assert result.tool_calls == []


def test_usage_merge_later_wins() -> None:
    u = Usage(input_tokens=10, raw={"a": 1}).merge(Usage(output_tokens=5, raw={"b": 2}))
    assert (u.input_tokens, u.output_tokens, u.raw) == (10, 5, {"a": 1, "b": 2})


def test_cost_in_decimal_with_cache() -> None:
    price = Price(input=Decimal("3"), output=Decimal("15"), cached_input=Decimal("0.30"),
                  cache_write=Decimal("3.75"))
    usage = Usage(input_tokens=1_000_000, output_tokens=100_000, cached_input_tokens=200_000,
                  cache_write_tokens=100_000)
    # fresh 700k * 3 + cached 200k * 0.30 + written 100k * 3.75 + out 100k * 15, per million
    expected = Decimal("2.1") + Decimal("0.06") + Decimal("0.375") + Decimal("1.5")
    assert cost(usage, price) == expected


def test_unknown_cost_is_none_never_zero() -> None:
    assert cost(Usage(input_tokens=1, output_tokens=1), None) is None
    assert cost(Usage(), Price(input=Decimal(1), output=Decimal(1))) is None
    free = Price(input=Decimal(0), output=Decimal(0))
    assert cost(Usage(input_tokens=5, output_tokens=5), free) == Decimal(0)


def test_parse_arguments() -> None:
    assert parse_arguments("") == {}
    assert parse_arguments('{"a": [1]}') == {"a": [1]}
    try:
        parse_arguments("[1]")
    except ValueError as exc:
        assert "JSON object" in str(exc)
    else:
        raise AssertionError("a list is not an argument object")


def test_a_subclass_of_an_event_is_folded_like_its_base() -> None:
    """The collector finds each event's step by exact type; a subclass (not in its
    table) still gets its base's step, and an unknown event is ignored."""

    class LoudDelta(TextDelta):
        pass

    class LateFinish(Finish):
        pass

    result = collect([StreamStart(), LoudDelta(text="he"), TextDelta(text="llo"),
                      object(),  # type: ignore[list-item]
                      LateFinish(finish_reason=FinishReason("stop"),
                                 usage=Usage(input_tokens=2, output_tokens=3))])
    assert result.text == "hello"
    assert result.finish_reason == FinishReason("stop")
    assert result.usage.output_tokens == 3


def test_has_parts_says_whether_the_result_would_hold_parts() -> None:
    from switchboard.spec import Collector

    events = [StreamStart(), TextDelta(text="a"), ToolCallStart(id="c1", name="f"),
              ToolCallDelta(id="c1", arguments_delta="{}"), ToolCall(id="c1", name="f",
                                                                      arguments="{}"),
              ReasoningDelta(id="r", text="hm")]
    for upto in range(len(events) + 1):
        collector = Collector()
        for event in events[:upto]:
            collector.add(event)
        assert collector.has_parts == bool(collector.result().parts), upto
    only_start = Collector()
    only_start.add(ToolCallStart(id="c2", name="g"))
    assert only_start.has_parts and only_start.result().parts


def test_random_streams_fold_as_the_order_rule_says() -> None:
    """Text deltas join the text part that is last in the answer (the short way in
    ``add``), a part of another kind starting in between begins a new text part, a
    reasoning delta of a block already open does not; results read mid-stream and at
    the end are fresh lists and say what a fold of the same events from scratch says."""
    import random

    from switchboard.spec import (
        Collector,
        ReasoningDelta,
        TextDelta,
        TokenLogprob,
        ToolCall,
        ToolCallDelta,
        ToolCallStart,
    )

    rng = random.Random(5)
    for _ in range(400):
        events: list[Any] = []
        expected: list[tuple[str, str]] = []  # (kind, text or id) per part, in order
        last_text = False
        blocks: set[str] = set()
        calls: set[str] = set()
        for i in range(rng.randint(0, 14)):
            kind = rng.choice(["text", "text", "text", "logprob", "reasoning", "tool",
                               "call"])
            if kind in ("text", "logprob"):
                word = f"w{i} "
                logprobs = ([TokenLogprob(token=word, logprob=-0.5)]
                            if kind == "logprob" else None)
                events.append(TextDelta(word, logprobs))
                if last_text:
                    expected[-1] = ("text", expected[-1][1] + word)
                else:
                    expected.append(("text", word))
                last_text = True
            elif kind == "reasoning":
                block = rng.choice(["r1", "r2"])
                events.append(ReasoningDelta("hm", id=block))
                if block not in blocks:
                    blocks.add(block)
                    expected.append(("reasoning", block))
                    last_text = False
            elif kind == "tool":
                call = f"c{rng.randint(0, 2)}"
                events.append(ToolCallStart(call, "calc"))
                events.append(ToolCallDelta(call, "{}"))
                if call not in calls:
                    calls.add(call)
                    expected.append(("tool", call))
                    last_text = False
            else:
                call = f"c{rng.randint(0, 2)}"
                events.append(ToolCall(call, "calc", "{}"))
                if call not in calls:
                    calls.add(call)
                    expected.append(("tool", call))
                    last_text = False
        collector = Collector()
        for n, event in enumerate(events):
            collector.add(event)
            if n % 3 == 0:
                mid = collector.result()
                mid.parts.append(TextPart(text="not in the collector"))
        result = collector.result()
        got = [("text", p.text) if p.type == "text" else
               ("reasoning", p.text and "r") if p.type == "reasoning" else ("tool", p.id)
               for p in result.parts]
        want = [(k, "r") if k == "reasoning" else (k, v) for k, v in expected]
        assert got == want
        assert result.text == "".join(v for k, v in expected if k == "text")
        assert result.parts == collect(events).parts
        logprobs = [e.logprobs[0] for e in events
                    if isinstance(e, TextDelta) and e.logprobs is not None]
        assert result.logprobs == (logprobs or None)
