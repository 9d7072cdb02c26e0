"""Markdown export of the parts a person cannot read as text (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.services.conversation_export import as_markdown, file_stem
from switchboard.services.conversations import ConversationView, MessageView

WHEN = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def _conversation(title: str | None) -> ConversationView:
    return ConversationView(id=7, title=title, model="openai:gpt-4o", provider="openai",
                            system_prompt=None, pinned=False,
                            created_at=WHEN, updated_at=WHEN, message_count=2)


def _message(role: str, parts: list[dict[str, object]], status: str = "complete",
             error: str | None = None) -> MessageView:
    return MessageView(
        id=1, conversation_id=7, parent_id=None, versions=[1], role=role, text="", parts=parts,
        model="openai:gpt-4o" if role == "assistant" else None, provider=None, kind=None,
        input_tokens=None, output_tokens=None, cached_tokens=None, reasoning_tokens=None,
        cost=None, usage_estimated=False, latency_ms=None, ttft_ms=None, finish_reason=None,
        status=status,
        error=error, rating=None, created_at=WHEN)


def test_binary_parts_are_named_and_fences_cannot_be_closed_early() -> None:
    messages = [
        _message("user", [{"type": "text", "text": "look"},
                          {"type": "image", "media_type": "image/png", "data": "iVBORw0KGgo="},
                          {"type": "file", "media_type": "application/pdf", "data": "JVBE",
                           "filename": "report.pdf"}]),
        _message("assistant", [
            {"type": "reasoning", "text": "thinking hard"},
            {"type": "tool-call", "id": "c1", "name": "search", "arguments": '{"q": "```"}'},
            {"type": "tool-result", "tool_call_id": "c1", "name": "search", "content": "ok"},
            {"type": "text", "text": "partial answ"}], status="partial", error="stopped"),
    ]
    text = as_markdown(_conversation("Cats"), messages, WHEN)
    assert "iVBORw0KGgo=" not in text and "JVBE" not in text
    assert "_[image: image/png]_" in text and "_[attachment: report.pdf]_" in text
    assert "<details><summary>Thinking</summary>" in text
    assert '````json\n{"q": "```"}\n````' in text
    assert "**Tool result:** `search`" in text
    assert "> _Not finished: stopped_" in text
    assert "last model: openai:gpt-4o" in text


def test_file_names_are_safe_and_never_empty() -> None:
    assert file_stem(_conversation("../../etc/passwd\r\n")) == "etc-passwd"
    assert file_stem(_conversation("日本語")) == "conversation-7"
    assert file_stem(_conversation(None)) == "conversation-7"
    assert len(file_stem(_conversation("a" * 500))) == 80
