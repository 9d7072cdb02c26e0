"""Stored message parts <-> ``spec.Message``, and the history a model is shown.

Parts are stored as the spec's own JSON (``part.model_dump(mode="json")``), so a
conversation written with one vendor replays against any other: the adapters convert
the neutral parts and report what they cannot carry (a foreign reasoning signature, an
image for a text model) as warnings.

The history is cleaned here of what no vendor should be sent:

- assistant rows that carry nothing (an ``error`` answer, an answer still being written);
- tool calls without a tool result after them (an answer cut mid-call: every vendor
  rejects a call that was never answered);
- attached files become text: a stored ``file`` part that carries the ``text`` read from
  it (``services.attachments``) is shown to the model as an ``<attachment>`` block —
  except a PDF to a model that reads PDFs itself, sent whole (``reads_pdfs``; its bytes
  read from the file store when the part references them, decision 0186);
- images kept in the file store (``services.message_files``, decision 0141) are shown
  inline, read once per turn (``inline``); one whose file is gone is left out;
- images an assistant answered with (an image model's pictures): no vendor takes images
  in an assistant turn, so a vision model is shown them at the start of the next
  question, introduced as the earlier answer's pictures;
- images a tool returned (``generate_image``, an MCP tool; kept on the tool message):
  no vendor takes images in a Chat-Completions tool message either, so they follow the
  results as a user message (merged into the next question when one follows), as the
  tool loop shows them within its turn (``tools.driver``);
- images, when the chosen model cannot see and nothing can describe them: left out with
  a warning (with a vision model configured, ``services.captions`` describes them);
- a row whose parts no longer parse (written by a newer version): skipped with a warning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from switchboard.services.message_files import resolve
from switchboard.spec import (
    TOOL_PICTURES,
    ImagePart,
    Message,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)

_PARTS: TypeAdapter[list[Part]] = TypeAdapter(list[Part])


def dump_parts(parts: Iterable[Part]) -> list[dict[str, Any]]:
    """Parts as JSON-ready dicts (what the ``messages.parts`` column holds)."""
    return [p.model_dump(mode="json", exclude_none=True) for p in parts]


def load_parts(data: Sequence[dict[str, Any]] | None) -> list[Part]:
    """The stored JSON back as spec parts (``ValidationError`` if it does not parse)."""
    return _PARTS.validate_python(list(data or []))


NATIVE_PDF_KINDS = frozenset({"anthropic", "gemini", "openai"})
"""Provider kinds whose adapters send a PDF as the vendor's own document input (decision
0149): Anthropic ``document`` blocks
(https://docs.anthropic.com/en/docs/build-with-claude/pdf-support), Gemini ``inline_data``
(https://ai.google.dev/gemini-api/docs/document-processing), OpenAI ``file`` parts
(https://platform.openai.com/docs/guides/pdf-files). All three read a PDF's pages as
images, so only their vision models take one."""
NATIVE_PDF_PAGES = 100
"""The most pages sent as a PDF: Anthropic's and OpenAI's per-request limit (Gemini's is
higher). A longer PDF goes as its extracted text."""


def reads_pdfs(kind: str, vision: bool | None) -> bool:
    """May a model of provider ``kind`` be sent a PDF itself (else: its text)?"""
    return kind in NATIVE_PDF_KINDS and vision is True


def model_parts(data: Sequence[dict[str, Any]],
                inline: dict[str, dict[str, Any]] | None = None, *,
                pdfs: bool = False) -> list[Part]:
    """Stored parts as the model is shown them: an attachment as its text (or — a PDF of
    at most ``NATIVE_PDF_PAGES`` pages to a model that ``reads_pdfs`` — the file itself),
    an image kept in the file store as the inline image ``inline`` holds for it (left
    out if none)."""
    shown: list[dict[str, Any]] = []
    for stored in data:
        p = resolve(stored, inline or {})  # a kept file's data back (decision 0186)
        if p is None:
            continue
        if pdfs and _sendable_pdf(p):
            shown.append(_native_pdf(p))
        elif p.get("type") == "file" and "text" in p:
            shown.append(_attachment_as_text(p))
        else:
            shown.append(p)
    return load_parts(shown)


def _sendable_pdf(part: dict[str, Any]) -> bool:
    pages = part.get("pages")
    return (part.get("type") == "file" and part.get("media_type") == "application/pdf"
            and isinstance(part.get("data"), str) and isinstance(pages, int)
            and 0 < pages <= NATIVE_PDF_PAGES)


def _native_pdf(part: dict[str, Any]) -> dict[str, Any]:
    return {"type": "file", "media_type": "application/pdf", "data": part["data"],
            "filename": str(part.get("filename") or "document.pdf")}


def _attachment_as_text(part: dict[str, Any]) -> dict[str, Any]:
    name = str(part.get("filename") or "attachment").replace('"', "'")
    return {"type": "text",
            "text": f'<attachment filename="{name}">\n{part.get("text", "")}\n</attachment>'}


def text_of(data: Sequence[dict[str, Any]] | None) -> str:
    """What a person reads: the text parts joined (no parsing of the other parts)."""
    return "".join(str(p.get("text", "")) for p in data or () if p.get("type") == "text")


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """The columns of a ``messages`` row that the history needs."""

    id: int
    role: str
    parts: list[dict[str, Any]]
    status: str


def _answered_calls(rows: Sequence[StoredMessage]) -> set[str]:
    answered: set[str] = set()
    for row in rows:
        if row.role == "tool":
            answered.update(str(p.get("tool_call_id")) for p in row.parts
                            if p.get("type") == "tool-result")
    return answered


EARLIER_PICTURES = "(The pictures of your previous answer:)\n"


def build_history(rows: Sequence[StoredMessage], *, vision: bool,
                  inline: dict[str, dict[str, Any]] | None = None, pdfs: bool = False,
                  ) -> tuple[list[Message], list[str]]:
    """The spec messages to send for ``rows`` (oldest first), and warnings for the user.
    ``inline``: the files the rows reference, as inline images (``message_files``);
    ``pdfs``: the model reads PDFs itself (``reads_pdfs``)."""
    answered = _answered_calls(rows)
    messages: list[Message] = []
    warnings: list[str] = []
    images_dropped = 0
    carried: list[Part] = []  # an answer's pictures, shown with the next question
    returned: list[Part] = []  # a tool message's pictures, shown right after it
    for row in rows:
        if row.role == "system" or not row.parts:
            continue
        if returned and row.role != "user":
            messages.append(Message(role="user", parts=[TextPart(text=TOOL_PICTURES),
                                                        *returned]))
            returned = []
        try:
            parts = model_parts(row.parts, inline, pdfs=pdfs)
        except ValidationError:
            warnings.append(f"message {row.id} could not be read and was left out")
            continue
        if not vision:
            kept: list[Part] = [p for p in parts if not isinstance(p, ImagePart)]
            images_dropped += len(parts) - len(kept)
            parts = kept
        if row.role == "user" and carried:
            parts = [TextPart(text=EARLIER_PICTURES), *carried, *parts]
            carried = []
        if row.role == "user" and returned:
            parts = [TextPart(text=TOOL_PICTURES), *returned, *parts]
            returned = []
        if row.role == "assistant":
            carried = [p for p in parts if isinstance(p, ImagePart)]
            parts = [p for p in parts if not isinstance(p, ImagePart)
                     and (not isinstance(p, ToolCallPart) or p.id in answered)]
            if carried and not any(isinstance(p, TextPart) and p.text for p in parts):
                parts = [TextPart(text=f"[{len(carried)} picture(s) drawn]"), *parts]
            if not any(not isinstance(p, TextPart) or p.text for p in parts):
                continue  # nothing was said (an error, or an answer being written)
        if row.role == "tool":
            returned = [p for p in parts if isinstance(p, ImagePart)]
            parts = [p for p in parts if isinstance(p, ToolResultPart)]
            if not parts:
                returned = []  # pictures of results nobody asked for stay out
        if not parts:
            continue
        messages.append(Message(role=row.role, parts=parts))
    if returned:
        messages.append(Message(role="user", parts=[TextPart(text=TOOL_PICTURES),
                                                    *returned]))
    if carried:  # the last answer's pictures: the question that follows starts with them
        messages.append(Message(role="user", parts=[TextPart(text=EARLIER_PICTURES),
                                                    *carried]))
    if images_dropped:
        warnings.append(f"{images_dropped} earlier image(s) were left out: this model does "
                        "not accept images")
    return messages, warnings
