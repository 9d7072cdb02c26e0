"""One conversation answered by offline, then OpenAI, then Anthropic, then offline again:
the stored history converts for each vendor, and what one cannot carry is a warning."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.chat_support import add_provider, client, set_offline_delay, stream_chat
from tests.fakes import anthropic as anthropic_fake
from tests.fakes import openai as openai_fake
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server


@pytest.fixture
def vendors() -> Iterator[tuple[FakeVendor, str, FakeVendor, str]]:
    openai, anthropic = FakeVendor(openai_fake.Wire()), FakeVendor(anthropic_fake.Wire())
    with serve_in_thread(openai) as openai_url, serve_in_thread(anthropic) as anthropic_url:
        yield openai, openai_url, anthropic, anthropic_url


def _texts(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(role, text) of an OpenAI or Anthropic ``messages`` array."""
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if b["type"] == "text")
        out.append((message["role"], content))
    return out


def test_switching_vendors_mid_conversation(
        vendors: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    openai, openai_url, anthropic, anthropic_url = vendors
    with running_server() as server:
        _run(server, openai, openai_url, anthropic, anthropic_url)


def _run(server: Running, openai: FakeVendor, openai_url: str, anthropic: FakeVendor,
         anthropic_url: str) -> None:
    gpt = add_provider(server, "gpt", "openai", openai_url, openai_fake.MODEL)
    claude = add_provider(server, "claude", "anthropic", anthropic_url, anthropic_fake.MODEL)
    set_offline_delay(server, 0)
    http = client(server, server.make_user())

    first = stream_chat(http, {"text": "Hi offline"})
    cid = first[0][1]["conversation"]["id"]
    offline_answer = first[-1][1]["message"]["text"]

    openai.then(Reply(chunks=["From", " OpenAI"]))
    second = stream_chat(http, {"conversation_id": cid, "text": "Now you, GPT", "model": gpt})
    assert second[-1][0] == "done" and second[-1][1]["message"]["text"] == "From OpenAI"
    # the conversation records the model it continues with, from the turn's start
    assert first[0][1]["conversation"]["model"] == "offline:offline-chat"
    assert second[0][1]["conversation"]["model"] == gpt
    assert _texts(openai.last.body["messages"]) == [
        ("user", "Hi offline"), ("assistant", offline_answer), ("user", "Now you, GPT")]

    anthropic.then(Reply(chunks=["From Claude"], reasoning=["Let me think."],
                         reasoning_signature="sig-abc"))
    third = stream_chat(http, {"conversation_id": cid, "text": "Claude?", "model": claude})
    assert [n for n, _ in third] == ["start", "reasoning", "delta", "done"]
    assert third[0][1]["conversation"]["model"] == claude
    assert http.get(f"/api/conversations/{cid}").json()["model"] == claude
    assert _texts(anthropic.last.body["messages"]) == [
        ("user", "Hi offline"), ("assistant", offline_answer), ("user", "Now you, GPT"),
        ("assistant", "From OpenAI"), ("user", "Claude?")]
    stored = third[-1][1]["message"]["parts"]
    assert stored[0]["type"] == "reasoning" and stored[0]["text"] == "Let me think."
    assert stored[0]["provider_metadata"] == {"anthropic": {"signature": "sig-abc"}}

    openai.then(Reply(chunks=["Back"]))
    fourth = stream_chat(http, {"conversation_id": cid, "text": "GPT again", "model": gpt})
    warnings = fourth[0][1]["warnings"]
    assert any("reasoning" in w for w in warnings), warnings
    assert _texts(openai.last.body["messages"])[-2:] == [("assistant", "From Claude"),
                                                         ("user", "GPT again")]

    fifth = stream_chat(http, {"conversation_id": cid, "text": "And offline"})
    assert fifth[-1][0] == "done"
    conversation = http.get(f"/api/conversations/{cid}").json()
    assert conversation["model"] == "offline:offline-chat"
    answers = [(m["model"], m["kind"]) for m in conversation["messages"]
               if m["role"] == "assistant"]
    assert answers == [("offline:offline-chat", "offline"), (gpt, "openai"),
                       (claude, "anthropic"), (gpt, "openai"),
                       ("offline:offline-chat", "offline")]
