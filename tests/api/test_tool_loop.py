"""The server-side tool loop of the web chat (issue 14) on a real server: the model's calls
run (concurrently, bounded), every step saved as it happens, the next step sees the
results, the turn's cost is the sum of its steps, and what the chat API refuses.

The tools are small ``RunnableTool``s written here (the toolbox of lane ``tools-builtin``
gives the real ones); the models are the offline model and the OpenAI-shaped fake."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.principal import Principal
from switchboard.services.provider_models import create_model
from switchboard.services.providers import create_provider
from switchboard.services.tools.contract import RunnableTool, ToolContext, ToolOutput, ToolSpec
from switchboard.services.tools.toolbox import process_toolbox
from tests.api.chat_support import FAKE_KEY, add_provider, client, sse_events, stream_chat, wait_for
from tests.conftest import isolate
from tests.fakes import anthropic as anthropic_fake
from tests.fakes import gemini as gemini_fake
from tests.fakes import mistral as mistral_fake
from tests.fakes import openai as openai_fake
from tests.fakes.script import Fail, Reply, ScriptToolCall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.mcp_servers.test_sources import SCRIPT as MCP_SCRIPT
from tests.server import Running, running_server

OBJECT: dict[str, Any] = {"type": "object", "properties": {"text": {"type": "string"}}}


@dataclass
class Echo:
    """Echoes its ``text`` argument. With a ``meeting`` (a barrier) it returns only once
    every party has arrived: calls run one after another would wait there in vain and
    say "alone" (after the barrier's deadline)."""

    spec: ToolSpec
    meeting: asyncio.Barrier | None = None
    seen: list[tuple[Mapping[str, Any], ToolContext]] = field(default_factory=list)
    cost: Decimal = Decimal(0)

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        self.seen.append((arguments, context))
        how = ""
        if self.meeting is not None:
            try:
                await asyncio.wait_for(self.meeting.wait(), 10)
                how = " (together)"
            except TimeoutError:
                how = " (alone)"
        return ToolOutput(text=f"echo: {arguments.get('text', '')}{how}", cost=self.cost)


class Boom:
    spec = ToolSpec("boom", "Always fails.", OBJECT, "builtin")

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        raise RuntimeError("kaput")


class Sleepy:
    spec = ToolSpec("sleepy", "Never answers in time.", OBJECT, "builtin", timeout_s=0.05)

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        await asyncio.sleep(30)
        return ToolOutput(text="too late")


class Box:
    """A toolbox: ``for_turn`` as the real one (unknown names simply left out)."""

    def __init__(self, *tools: RunnableTool) -> None:
        self.tools = {t.spec.name: t for t in tools}

    async def for_turn(self, names: Sequence[str],
                       principal: Principal) -> Sequence[RunnableTool]:
        return [self.tools[n] for n in names if n in self.tools]


def echo(name: str = "echo_text", **kw: Any) -> Echo:
    return Echo(ToolSpec(name, "Repeats the text it is given.", OBJECT, "builtin"), **kw)


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """One server for the module (set up in its own data directory below), so the
    suite's per-test isolation is switched off here."""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("tool-loop") / "sb-data")
        with running_server() as running:
            yield running


@pytest.fixture(scope="module")
def vendor(server: Running) -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(openai_fake.Wire())
    with serve_in_thread(fake) as url:
        ref = add_provider(server, "fake", "openai", f"{url}/v1", "gpt-4o-mini")
        yield fake, ref


def use(server: Running, *tools: RunnableTool) -> None:
    server.app.state.sb.toolbox = Box(*tools)


def rows(server: Running, conversation_id: int) -> list[tuple[Any, ...]]:
    return server.query(
        "SELECT id, role, status, parent_id, parts, input_tokens, output_tokens, cost, "
        f"finish_reason FROM messages WHERE conversation_id = {conversation_id} ORDER BY id")


def parts(row: tuple[Any, ...]) -> list[dict[str, Any]]:
    value = row[4]
    loaded: list[dict[str, Any]] = json.loads(value) if isinstance(value, str) else value
    return loaded


def chain(found: list[tuple[Any, ...]], leaf: int) -> list[tuple[Any, ...]]:
    """The rows from the first question down to ``leaf`` (the branch shown)."""
    by_id = {r[0]: r for r in found}
    out = []
    at: int | None = leaf
    while at is not None:
        out.append(by_id[at])
        at = by_id[at][3]
    return out[::-1]


def test_offline_model_calls_a_tool_and_answers_with_its_result(server: Running) -> None:
    tool = echo()
    use(server, tool)
    http = client(server, server.make_user("ada"))
    events = stream_chat(http, {"text": "Please use echo_text on the word banana",
                                "tools": ["echo_text"]})
    names = [n for n, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    for expected in ("tool_call", "step", "tool_running", "tool_result"):
        assert expected in names, names
    assert names.index("tool_call") < names.index("tool_running") < names.index("tool_result")
    call = dict(events)["tool_call"]
    assert call["name"] == "echo_text"
    result = dict(events)["tool_result"]
    assert result["id"] == call["id"] and result["is_error"] is False
    assert result["text"].startswith("echo: ") and result["duration_ms"] >= 0
    assert len(tool.seen) == 1 and tool.seen[0][1].principal.user_id > 0

    done = dict(events)["done"]["message"]
    assert result["text"] in done["text"]  # the answer uses the result
    cid = done["conversation_id"] if "conversation_id" in done else dict(events)["start"][
        "conversation"]["id"]
    found = chain(rows(server, cid), done["id"])
    assert [r[1] for r in found] == ["user", "assistant", "tool", "assistant"]
    assert all(r[2] == "complete" for r in found)
    step, results, final = found[1], found[2], found[3]
    assert parts(step)[0]["type"] == "tool-call" and step[8] == "tool_calls"
    assert parts(results)[0] == {"type": "tool-result", "tool_call_id": call["id"],
                                 "name": "echo_text", "content": result["text"],
                                 "is_error": False}
    # The answer shows the turn (both model calls); the step row its own call.
    assert final[0] == done["id"] and done["input_tokens"] == final[5] > step[5] > 0
    assert done["cost"] == "0"


@dataclass
class Recorder:
    """A tool that answers ``reply`` and remembers its arguments."""

    spec: ToolSpec
    reply: str
    seen: list[Mapping[str, Any]] = field(default_factory=list)

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        self.seen.append(arguments)
        return ToolOutput(text=self.reply)


def test_offline_model_chains_time_then_calculator_then_answers(server: Running) -> None:
    """The issue's three-step chain, driven by the offline model: it asks for the time,
    then for the sum written in the prompt, then answers with both results; every step
    is a saved message."""
    clock = Recorder(ToolSpec("datetime", "The current date and time in a time zone.", {
        "type": "object", "properties": {"timezone": {"type": "string"}}}, "builtin"),
        "2026-12-04 21:00 UTC")
    calc = Recorder(ToolSpec("calculator", "Evaluates an arithmetic expression.", {
        "type": "object", "properties": {"expression": {"type": "string"}},
        "required": ["expression"]}, "builtin"), "84")
    use(server, clock, calc)
    http = client(server, server.make_user("fay"))
    events = stream_chat(http, {"text": "What time is it? Then compute 12 * (3 + 4).",
                                "tools": ["calculator", "datetime"]})
    assert clock.seen == [{"timezone": "UTC"}]
    assert calc.seen == [{"expression": "12 * (3 + 4)"}]
    calls = [d["name"] for n, d in events if n == "tool_call"]
    assert calls == ["datetime", "calculator"]
    done = dict(events)["done"]["message"]
    assert "2026-12-04 21:00 UTC" in done["text"] and "84" in done["text"]
    cid = dict(events)["start"]["conversation"]["id"]
    found = chain(rows(server, cid), done["id"])
    assert [r[1] for r in found] == ["user", "assistant", "tool", "assistant", "tool",
                                     "assistant"]
    assert [parts(r)[0]["name"] for r in found[1:3]] == ["datetime", "datetime"]
    assert [parts(r)[0]["name"] for r in found[3:5]] == ["calculator", "calculator"]
    assert parts(found[4])[0]["content"] == "84"
    assert all(r[2] == "complete" for r in found)
    steps = [d for n, d in events if n == "step"]
    assert [(s["step"], s["role"]) for s in steps] == [
        (1, "assistant"), (1, "tool"), (2, "assistant"), (2, "tool")]
    assert [s["message_id"] for s in steps] == [r[0] for r in found[1:5]]


def test_unknown_tools_and_too_many_are_refused_before_anything_is_written(
        server: Running) -> None:
    use(server, echo())
    http = client(server, server.make_user("bob"))
    before = server.query("SELECT count(*) FROM messages")
    unknown = http.post("/api/chat", json={"text": "hi", "tools": ["echo_text", "nope"]})
    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["field"] == "tools"
    assert "'nope'" in unknown.json()["error"]["message"]
    many = http.post("/api/chat", json={"text": "hi", "tools": [f"t{i}" for i in range(65)]})
    assert many.status_code == 422, many.text
    assert server.query("SELECT count(*) FROM messages") == before


def test_parallel_calls_run_at_once_and_the_loop_goes_on_until_text(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, ref = vendor
    meeting = asyncio.Barrier(2)
    first = echo("first_tool", meeting=meeting)
    second = echo("second.tool", meeting=meeting, cost=Decimal("0.5"))
    use(server, first, second, Boom(), Sleepy())
    fake.then(
        Reply(chunks=[], finish="tool_calls", input_tokens=10, output_tokens=5, tool_calls=[
            ScriptToolCall("call_a", "first_tool", '{"text": "one"}'),
            ScriptToolCall("call_b", "second__tool", '{"text": "two"}')]),
        Reply(chunks=[], finish="tool_calls", input_tokens=20, output_tokens=5, tool_calls=[
            ScriptToolCall("call_c", "boom", "{}"),
            ScriptToolCall("call_d", "sleepy", "{}"),
            ScriptToolCall("call_e", "first_tool", "not json")]),
        Reply(chunks=["All ", "done."], input_tokens=30, output_tokens=3))
    http = client(server, server.make_user("cy"))
    events = stream_chat(http, {"text": "go", "model": ref,
                                "tools": ["first_tool", "second.tool", "boom", "sleepy"]})
    results = {d["id"]: d for n, d in events if n == "tool_result"}
    assert results["call_a"]["text"] == "echo: one (together)"
    assert results["call_b"]["name"] == "second.tool" and results["call_b"]["cost"] == "0.5"
    assert results["call_c"]["is_error"] and "failed (RuntimeError)" in results["call_c"]["text"]
    assert results["call_d"]["is_error"] and "did not answer within" in results["call_d"]["text"]
    assert results["call_e"]["is_error"] and "not valid JSON" in results["call_e"]["text"]
    done = dict(events)["done"]["message"]
    assert done["text"] == "All done."
    assert done["input_tokens"] == 60 and done["output_tokens"] == 13

    # Each step's request carried the previous steps; the tools by their wire names.
    requests = fake.chat_requests()[-3:]
    sent = [r.body for r in requests]
    assert {t["function"]["name"] for t in sent[0]["tools"]} == {
        "first_tool", "second__tool", "boom", "sleepy"}
    last = sent[2]["messages"]
    tool_messages = [m for m in last if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == [
        "call_a", "call_b", "call_c", "call_d", "call_e"]
    assert sent[2].get("tool_choice") in (None, "auto")

    cid = dict(events)["start"]["conversation"]["id"]
    found = chain(rows(server, cid), done["id"])
    assert [r[1] for r in found] == ["user", "assistant", "tool", "assistant", "tool",
                                     "assistant"]
    assert [r[5] for r in found if r[1] == "assistant"] == [10, 20, 60]


def test_the_step_cap_asks_the_last_step_for_text(server: Running,
                                                   vendor: tuple[FakeVendor, str]) -> None:
    fake, ref = vendor
    use(server, echo())
    calls = [Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall(f"call_{i}", "echo_text", '{"text": "x"}')]) for i in range(9)]
    fake.then(*calls, Reply(chunks=["Enough."]))
    http = client(server, server.make_user("dee"))
    events = stream_chat(http, {"text": "loop", "model": ref, "tools": ["echo_text"]})
    assert dict(events)["done"]["message"]["text"] == "Enough."
    sent = [r.body for r in fake.chat_requests()[-10:]]
    assert [s.get("tool_choice") for s in sent][-1] == "none"
    assert all(s.get("tool_choice") != "none" for s in sent[:-1])
    assert sum(1 for n, _ in events if n == "tool_result") == 9


def test_a_crash_mid_loop_keeps_the_steps_and_the_conversation_continues(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, ref = vendor
    use(server, echo())
    fake.then(Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall("call_1", "echo_text", '{"text": "kept"}')]))
    # The second step fails outright: the turn ends in an error, the first step and its
    # result stay, and the next message continues from them.
    fake.then(Fail(400, "bad request"))
    http = client(server, server.make_user("eve"))
    events = stream_chat(http, {"text": "go", "model": ref, "tools": ["echo_text"]})
    assert events[-1][0] == "error"
    cid = dict(events)["start"]["conversation"]["id"]
    found = wait_for(server, f"SELECT role, status FROM messages WHERE conversation_id = {cid} "
                     "ORDER BY id", lambda r: len(r) == 4 and r[-1][1] != "partial")
    # By id: the question, the placeholder answer (closed with the error), then the step
    # and its results, saved before it in the tree.
    assert [r[0] for r in found] == ["user", "assistant", "assistant", "tool"]
    assert found[1][1] == "error" and found[2][1] == found[3][1] == "complete"
    fake.then(Reply(chunks=["Continued."]))
    again = stream_chat(http, {"conversation_id": cid, "text": "and now?", "model": ref})
    assert dict(again)["done"]["message"]["text"] == "Continued."
    history = fake.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "user"]
    assert history[2]["content"] == "echo: kept"


def test_after_a_loop_cut_short_mistral_continues_the_conversation(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    """The loop ends between results and answer (here the next step fails); the next
    question goes to Mistral, which refuses ``user`` right after ``tool`` (its fake too):
    the adapter's bridging assistant turn makes the history acceptable (decision 0191)."""
    fake, ref = vendor
    use(server, echo())
    fake.then(Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall("call_1", "echo_text", '{"text": "kept"}')]), Fail(400, "bad request"))
    http = client(server, server.make_user("eva"))
    events = stream_chat(http, {"text": "go", "model": ref, "tools": ["echo_text"]})
    assert events[-1][0] == "error"
    cid = dict(events)["start"]["conversation"]["id"]
    wait_for(server, f"SELECT status FROM messages WHERE conversation_id = {cid} ORDER BY id",
             lambda r: len(r) == 4 and r[1][0] != "partial")
    mistral = FakeVendor(mistral_fake.Wire())
    mistral.then(Reply(chunks=["Continued."]))
    with serve_in_thread(mistral) as url:
        other = add_provider(server, "after-tools-mistral", "mistral", url,
                             mistral_fake.MODEL)
        again = stream_chat(http, {"conversation_id": cid, "text": "and now?",
                                   "model": other})
    assert again[-1][0] == "done", again[-1]
    assert dict(again)["done"]["message"]["text"] == "Continued."
    history = mistral.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant", "user"]
    assert history[2]["content"] == "echo: kept" and history[4]["content"] == "and now?"


class Stuck:
    """Runs until the answer is stopped (its own timeout is far away)."""

    spec = ToolSpec("stuck", "Waits.", OBJECT, "builtin", timeout_s=60)

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        await asyncio.Event().wait()
        return ToolOutput(text="never")


def test_stop_while_tools_run_keeps_every_step_and_reattach_sees_the_cards(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, ref = vendor
    use(server, echo(), Stuck())
    fake.then(Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall("call_fast", "echo_text", '{"text": "quick"}'),
        ScriptToolCall("call_slow", "stuck", "{}")]))
    http = client(server, server.make_user("gus"))
    with http.stream("POST", "/api/chat/stream",
                     json={"text": "go", "model": ref, "tools": ["echo_text", "stuck"]}) as r:
        stream = sse_events(r)
        seen: list[tuple[str, dict[str, Any]]] = []
        for name, data in stream:
            seen.append((name, data))
            if name == "tool_result":
                break  # the quick one is done; the stuck one runs on
        answer = seen[0][1]["assistant_message_id"]
        # A second tab reattaches from the start and sees the same cards.
        with http.stream("GET", f"/api/messages/{answer}/stream") as other:
            replay = []
            for name, _data in sse_events(other):
                replay.append(name)
                if name == "tool_result":
                    break
        assert replay == [n for n, _ in seen]
        assert http.post(f"/api/messages/{answer}/stop").json()["stopping"] is True
        rest = list(stream)
    assert rest[-1][0] == "error" and rest[-1][1]["code"] == "stopped"
    cid = seen[0][1]["conversation"]["id"]
    found = wait_for(server, f"SELECT id, role, status, parent_id, parts FROM messages "
                     f"WHERE conversation_id = {cid} ORDER BY id",
                     lambda r: len(r) == 4 and r[1][2] != "partial")
    by_role = {r[1]: r for r in found[2:]}
    assert found[1][0] == answer and found[1][2] == "error"
    assert found[1][3] == by_role["tool"][0]  # the answer hangs under the results
    results = {p["tool_call_id"]: p for p in parts(by_role["tool"])}
    assert results["call_fast"]["content"] == "echo: quick"
    assert results["call_slow"]["is_error"] and "stopped" in results["call_slow"]["content"]


@pytest.mark.parametrize("kind", ["anthropic", "gemini", "mistral"])
def test_native_loops_with_parallel_calls_on_every_vendor(server: Running, kind: str) -> None:
    """The loop over each vendor's own tool-call wire: two calls in one step, both
    results sent back in the vendor's shape, then the answer in text."""
    module = {"anthropic": anthropic_fake, "gemini": gemini_fake, "mistral": mistral_fake}[kind]
    fake = FakeVendor(module.Wire())
    meeting = asyncio.Barrier(2)
    first, second = echo("first_tool", meeting=meeting), echo("second.tool", meeting=meeting)
    use(server, first, second)
    fake.then(
        Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall("call_1", "first_tool", '{"text": "one"}'),
            ScriptToolCall("call_2", "second__tool", '{"text": "two"}')]),
        Reply(chunks=["Both ", "ran."]))
    with serve_in_thread(fake) as url:
        ref = add_provider(server, f"loop-{kind}", kind, url, module.MODEL)
        http = client(server, server.make_user(f"user-{kind}"))
        events = stream_chat(http, {"text": "go", "model": ref,
                                    "tools": ["first_tool", "second.tool"]})
    assert dict(events)["done"]["message"]["text"] == "Both ran."
    texts = sorted(d["text"] for n, d in events if n == "tool_result")
    assert texts == ["echo: one (together)", "echo: two (together)"]
    first_body, second_body = (json.dumps(r.body) for r in fake.chat_requests()[-2:])
    assert "second__tool" in first_body and "first_tool" in first_body
    assert "echo: one (together)" in second_body and "echo: two (together)" in second_body


def _model_without_tools(server: Running, name: str, url: str) -> str:
    async def work(db: Database) -> None:
        await create_provider(db, name=name, kind="openai", base_url=f"{url}/v1",
                              settings={"max_retries": 0})
        await set_provider_key(db, name, FAKE_KEY)
        await create_model(db, name, "gpt-4o-mini", capabilities={
            "streaming": True, "tools": False, "vision": False})

    async def run() -> None:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            await work(db)
        finally:
            await db.dispose()

    asyncio.run(run())
    return f"{name}:gpt-4o-mini"


def test_emulated_loop_for_a_model_without_tools_repairs_one_malformed_reply(
        server: Running) -> None:
    """A model the catalog says has no tool calling: the tools and a JSON reply format go
    in the system prompt, the reply is read as calls or the answer, one malformed reply is
    asked for again, and what is saved is neutral (native tool-call and result parts)."""
    fake = FakeVendor(openai_fake.Wire())
    use(server, echo())
    fake.then(
        Reply(chunks=['```json\n{"tool_calls": [{"name": "echo_text", ',
                      '"arguments": {"text": "hi"}}]}\n```']),
        Reply(chunks=["Sure! Here it is: {answer: oops"]),
        Reply(chunks=['{"answer": "The tool said echo: hi"}']))
    with serve_in_thread(fake) as url:
        ref = _model_without_tools(server, "plain", url)
        http = client(server, server.make_user("hal"))
        events = stream_chat(http, {"text": "say hi with echo_text", "model": ref,
                                    "tools": ["echo_text"]})
    names = [n for n, _ in events]
    assert names[-1] == "done", events[-1]
    done = dict(events)["done"]["message"]
    assert done["text"] == "The tool said echo: hi"
    shown = "".join(d["text"] for n, d in events if n == "delta")
    assert shown == "The tool said echo: hi"  # the JSON replies are read, never shown
    assert dict(events)["tool_call"]["name"] == "echo_text"
    assert dict(events)["tool_result"]["text"] == "echo: hi"

    sent = [r.body for r in fake.chat_requests()[-3:]]
    assert all("tools" not in body for body in sent)
    system = sent[0]["messages"][0]
    assert system["role"] == "system" and "echo_text" in system["content"]
    assert '{"answer":' in system["content"]
    assert sent[1]["messages"][-1]["role"] == "user"
    assert "Tool results (JSON)" in str(sent[1]["messages"][-1]["content"])
    assert "could not be read" in str(sent[2]["messages"][-1]["content"])

    cid = dict(events)["start"]["conversation"]["id"]
    found = chain(rows(server, cid), done["id"])
    assert [r[1] for r in found] == ["user", "assistant", "tool", "assistant"]
    assert parts(found[1])[0]["type"] == "tool-call"
    assert parts(found[2])[0]["content"] == "echo: hi"
    assert parts(found[3]) == [{"type": "text", "text": "The tool said echo: hi"}]


def test_ask_tools_wait_for_the_owner_to_approve_or_deny(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, ref = vendor
    asked = Echo(ToolSpec("careful", "Needs a yes.", OBJECT, "builtin", policy="ask"))
    use(server, asked)
    fake.then(
        Reply(chunks=[], finish="tool_calls", tool_calls=[
            ScriptToolCall("call_yes", "careful", '{"text": "go"}'),
            ScriptToolCall("call_no", "careful", '{"text": "stop"}')]),
        Reply(chunks=["Done."]))
    owner = client(server, server.make_user("ida"))
    stranger = client(server, server.make_user("jon"))
    with owner.stream("POST", "/api/chat/stream",
                      json={"text": "go", "model": ref, "tools": ["careful"]}) as r:
        stream = sse_events(r)
        seen: list[tuple[str, dict[str, Any]]] = []
        for name, data in stream:
            seen.append((name, data))
            if [n for n, _ in seen].count("approval_needed") == 2:
                break
        answer = seen[0][1]["assistant_message_id"]
        waiting = [d for n, d in seen if n == "approval_needed"]
        assert [(w["id"], w["name"], w["arguments"]) for w in waiting] == [
            ("call_yes", "careful", '{"text": "go"}'), ("call_no", "careful", '{"text": "stop"}')]
        assert asked.seen == []  # nothing runs before the owner says so
        # The wait is saved: a page loaded from the database shows it.
        note = wait_for(server, f"SELECT error FROM messages WHERE id = {answer}",
                        lambda rows: "approval" in str(rows[0][0]))
        assert note[0][0] == "waiting for your approval: careful"
        # A reloaded tab reattaches and sees the same request for approval.
        with owner.stream("GET", f"/api/messages/{answer}/stream") as other:
            replay = []
            for name, _data in sse_events(other):
                replay.append(name)
                if replay.count("approval_needed") == 2:
                    break
        base = f"/api/messages/{answer}/tool-calls"
        assert stranger.post(f"{base}/call_yes/approve").status_code == 404
        assert owner.post(f"{base}/nope/approve").status_code == 409
        assert owner.post(f"{base}/call_yes/approve").json() == {
            "message_id": answer, "call_id": "call_yes", "approved": True}
        assert owner.post(f"{base}/call_yes/deny").status_code == 409  # decided already
        assert owner.post(f"{base}/call_no/deny").status_code == 200
        rest = list(stream)
    events = seen + rest
    decisions = {d["id"]: d["approved"] for n, d in events if n == "approval"}
    assert decisions == {"call_yes": True, "call_no": False}
    results = {d["id"]: d for n, d in events if n == "tool_result"}
    assert results["call_yes"]["text"] == "echo: go"
    assert results["call_no"]["is_error"] and results["call_no"]["text"] == (
        "the user declined this tool call")
    assert [a["text"] for a, _ in asked.seen] == ["go"]
    assert events[-1][0] == "done" and events[-1][1]["message"]["text"] == "Done."
    assert events[-1][1]["message"]["error"] is None


def test_the_real_built_ins_chain_with_the_offline_model(server: Running) -> None:
    """The issue's chain with the server's own toolbox: datetime, then calculator, then
    the answer, all driven by the offline model."""
    state = server.app.state.sb
    state.toolbox = process_toolbox(state.settings, state.db, state.pipeline)
    http = client(server, server.make_user("kim"))
    events = stream_chat(http, {"text": "What time is it in Europe/Paris? "
                                        "Then compute 12 * (3 + 4).",
                                "tools": ["datetime", "calculator"]})
    calls = [(d["name"], json.loads(d["arguments"])) for n, d in events if n == "tool_call"]
    assert calls == [("datetime", {"timezone": "Europe/Paris"}),
                     ("calculator", {"expression": "12 * (3 + 4)"})]
    results = [d for n, d in events if n == "tool_result"]
    assert not any(r["is_error"] for r in results), results
    assert "Europe/Paris" in results[0]["text"] and "84" in results[1]["text"]
    done = dict(events)["done"]["message"]
    assert "84" in done["text"] and "Europe/Paris" in done["text"]
    unknown = http.post("/api/chat", json={"text": "hi", "tools": ["datetime", "nope"]})
    assert unknown.status_code == 422 and "'nope'" in unknown.json()["error"]["message"]


def pictures_after_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content of the user message that follows the last tool message."""
    messages = body["messages"]
    at = max(i for i, m in enumerate(messages) if m["role"] == "tool")
    shown = messages[at + 1]
    assert shown["role"] == "user"
    assert shown["content"][0]["text"].startswith("(The pictures the tools returned:)")
    content: list[dict[str, Any]] = shown["content"][1:]
    return content


def test_an_mcp_tools_image_is_kept_as_a_file_and_shown_to_the_next_steps(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    """A real MCP server (stdio, the SDK) returns a picture: the tool message keeps it as
    a reference to the owner's file store (not base64 in the row); a vision model is
    shown it in the next step (a user message after the results) and again in a later
    turn, rebuilt from the saved messages; a text-only model reads the caption the
    vision model (here the offline one, the catalog's first) made of it."""
    text_fake, text_ref = vendor
    admin = client(server, server.make_user("pix-admin", role="admin"))
    made = admin.post("/api/mcp-servers", json={
        "name": "pics", "command": shlex.join([sys.executable, str(MCP_SCRIPT)]),
        "default_policy": "allow"})
    assert made.status_code == 201, made.text
    state = server.app.state.sb
    state.toolbox = process_toolbox(state.settings, state.db, state.pipeline)
    state.toolbox.add_source(state.mcp.as_source())
    picture = Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall("call_pic", "pics__picture", "{}")])
    http = client(server, server.make_user("pix"))
    seeing = FakeVendor(openai_fake.Wire())
    with serve_in_thread(seeing) as url:
        ref = add_provider(server, "seeing", "openai", f"{url}/v1", "gpt-4o", vision=True)
        seeing.then(picture, Reply(chunks=["A tiny picture."]))
        events = stream_chat(http, {"text": "show me the picture", "model": ref,
                                    "tools": ["pics.picture"]})
        result = next(d for n, d in events if n == "tool_result")
        assert (result["name"], result["is_error"], result["images"]) == (
            "pics.picture", False, 1)
        done = dict(events)["done"]["message"]
        assert done["text"] == "A tiny picture."

        cid = dict(events)["start"]["conversation"]["id"]
        tool_row = next(r for r in chain(rows(server, cid), done["id"]) if r[1] == "tool")
        image = [p for p in parts(tool_row) if p["type"] == "image"]
        assert len(image) == 1 and "data" not in image[0]
        assert image[0]["media_type"] == "image/png"
        assert image[0]["meta"] == {"tool": "pics.picture", "call": "call_pic"}
        step = next(d for n, d in events if n == "step" and d["role"] == "tool")
        assert step["images"] == image  # the card shows it as the step ends
        got = http.get(f"/api/files/{image[0]['file']['sha256']}")
        assert got.status_code == 200 and got.content.startswith(b"\x89PNG")

        shown = pictures_after_results(seeing.chat_requests()[-1].body)
        assert [c["type"] for c in shown] == ["image_url"]
        assert shown[0]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")

        # The next turn, from the saved messages: the picture is shown again, after the
        # results it came with and before the answer that followed.
        seeing.then(Reply(chunks=["Still a tiny picture."]))
        again = stream_chat(http, {"text": "what was it?", "model": ref,
                                   "conversation_id": cid})
        assert dict(again)["done"]["message"]["text"] == "Still a tiny picture."
        sent = seeing.chat_requests()[-1].body
        assert pictures_after_results(sent) == shown
        assert sent["messages"][-1]["content"] == "what was it?"

    # A text-only model: the vision model's caption instead of the picture.
    text_fake.then(picture, Reply(chunks=["Described."]))
    events = stream_chat(http, {"text": "show me the picture", "model": text_ref,
                                "tools": ["pics.picture"]})
    assert dict(events)["done"]["message"]["text"] == "Described."
    shown = pictures_after_results(text_fake.chat_requests()[-1].body)
    assert [c["type"] for c in shown] == ["text"]
    assert shown[0]["text"].startswith('<image described_by="offline:offline-chat">')


def test_a_conversation_remembers_its_tools(server: Running) -> None:
    """The composer's choice of tools is the conversation's (decision 0164): saved with
    each message and by the menu (PATCH), given back when the conversation is opened."""
    use(server, echo(), echo("other_tool"))
    http = client(server, server.make_user("rem"))
    events = stream_chat(http, {"text": "hello", "tools": ["other_tool", "echo_text"]})
    cid = dict(events)["start"]["conversation"]["id"]
    assert dict(events)["start"]["conversation"]["tools"] == ["other_tool", "echo_text"]
    assert http.get(f"/api/conversations/{cid}").json()["tools"] == ["other_tool", "echo_text"]

    changed = http.patch(f"/api/conversations/{cid}", json={"tools": ["echo_text", "echo_text"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["tools"] == ["echo_text"]
    renamed = http.patch(f"/api/conversations/{cid}", json={"title": "Kept"})
    assert renamed.json()["tools"] == ["echo_text"]  # left out: left as it was
    assert http.get(f"/api/conversations/{cid}").json()["tools"] == ["echo_text"]

    for bad in (["x"] * 65, ["y" * 201], [""]):
        refused = http.patch(f"/api/conversations/{cid}", json={"tools": bad})
        assert refused.status_code == 422, refused.text
    # A message sent with no tools switched on: none, from now on.
    stream_chat(http, {"text": "again", "conversation_id": cid})
    assert http.get(f"/api/conversations/{cid}").json()["tools"] == []
