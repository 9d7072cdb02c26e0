"""What the offline model says: a deterministic, useful text reply to a conversation.

The reply is a pure function of the request, so the same conversation always gets the same
answer (tests and the UI can rely on it). In order of precedence it:

1. answers tool results (the history ends with ``tool`` messages) using their content;
2. acknowledges each image / file attached to the user's last message;
3. writes a Markdown answer with a fenced code block when asked for code;
4. greets back, or explains what it is and how to add a real provider when asked;
5. otherwise echoes a short message or summarises a long one;
6. mentions the conversation length on later turns, quoting the first user message.

It reads at most ``limits.READ_CHARS`` of a message or tool result and lists at most
``limits.MAX_LISTED`` attachments or result fields, so its work and its reply stay small
whatever the request holds.
"""

from __future__ import annotations

import json
import re
from collections import Counter

from switchboard.providers.offline import code_samples
from switchboard.providers.offline.limits import MAX_LISTED, READ_CHARS
from switchboard.spec import (
    ChatRequest,
    FilePart,
    ImagePart,
    Message,
    ToolCallPart,
    ToolResultPart,
    is_tool_pictures,
)

MODEL_ID = "offline-chat"

HOW_TO_ADD = (
    "To chat with a real model, an administrator adds a provider (OpenAI, Anthropic, "
    "Mistral, Gemini or any OpenAI-compatible endpoint) and its API key under "
    "**Settings → Providers**."
)

_GREETING = re.compile(
    r"\b(hi|hello|hey|hiya|howdy|greetings|good (morning|afternoon|evening)|bonjour|hola|"
    r"hallo|salut|ciao)\b"
)
_IDENTITY = re.compile(
    r"\b(who are you|what are you|which model|what model|your name|what can you do|"
    r"help me get started|how do i add|are you (real|an? ai|offline))\b|^\s*help\b"
)
_QUESTION_START = re.compile(
    r"^(what|why|how|when|where|who|which|can|could|would|should|is|are|do|does|did|will)\b"
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_COMMON = frozenset(
    "the and for that this with you your are was were have has had not but from they them "
    "what when where which who why how can could would should will about into there their "
    "then than some just like been also more very does did its it's i'm please".split()
)
SHORT_WORDS = 40


def quote(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut to ``limit`` characters (reads only its beginning)."""
    head = text[: limit * 4]
    flat = " ".join(head.split())
    if len(flat) <= limit and len(head) == len(text):
        return flat
    return flat[: limit - 1].rstrip() + "…"


def user_turns(request: ChatRequest) -> list[Message]:
    """The user's questions (the pictures a tool returned are part of its results)."""
    return [m for m in request.messages if m.role == "user" and not is_tool_pictures(m)]


def ends_in_tool_results(request: ChatRequest) -> bool:
    """Does the history end with tool results (and, maybe, the pictures they returned)?"""
    last = request.messages[-1]
    return last.role == "tool" or (is_tool_pictures(last) and len(request.messages) > 1
                                   and request.messages[-2].role == "tool")


def compose_reply(request: ChatRequest) -> str:
    """The full text reply (before ``stop`` / ``max_output_tokens`` are applied)."""
    if ends_in_tool_results(request):
        return _after_tools(request)
    turns = user_turns(request)
    if not turns:
        return (
            "I'm Switchboard's built-in offline model. There is no user message to answer "
            "yet: send me one. " + HOW_TO_ADD
        )
    last = turns[-1]
    text = last.text[:READ_CHARS].strip()
    blocks: list[str] = []
    attached = _acknowledge(last)
    if attached:
        blocks.append(attached)
    if text:
        blocks.append(_answer_text(text, first=len(turns) == 1))
    elif not attached:
        blocks.append("Your message was empty. What would you like to talk about?")
    if len(turns) > 1:
        blocks.append(_conversation_note(request, turns))
    return "\n\n".join(blocks)


def _answer_text(text: str, *, first: bool) -> str:
    """The answer to the user's words; how to add a provider is said on the first turn."""
    low = text.lower()
    how = HOW_TO_ADD if first else ""
    if code_samples.is_code_request(text):
        return _code_answer(text, how)
    words = low.split()
    if _GREETING.search(" ".join(words[:4])) or (len(words) <= 5 and _GREETING.search(low)):
        return (
            "Hello! I'm Switchboard's built-in offline model: I run on this machine without "
            "any network access, so my answers are simple and always the same for the same "
            "conversation. " + HOW_TO_ADD
        )
    if _IDENTITY.search(low):
        return (
            "I'm **offline-chat**, the model built into Switchboard. I work without an API "
            "key or network, which makes me handy for trying the chat, the API and tools, "
            "but I don't really understand language: I echo, summarise, write code "
            "skeletons, fill in JSON schemas and call tools when asked.\n\n" + HOW_TO_ADD
        )
    if _QUESTION_START.match(low) or text.rstrip().endswith("?"):
        return (
            f"You asked: “{quote(text)}”\n\n"
            "I'm the built-in offline model, so I can't look that up or reason about it. "
            + _keywords_line(text)
            + how
        ).rstrip()
    return _echo_or_summary(text, how)


def _echo_or_summary(text: str, how: str) -> str:
    words = text.split()
    if len(words) <= SHORT_WORDS:
        return (
            f"You said: “{quote(text)}”\n\n"
            f"That is {_plural(len(words), 'word')}. I'm the built-in offline model, so I "
            "can repeat and summarise but not truly answer. " + how
        ).rstrip()
    sentences = [s for s in _SENTENCE.split(" ".join(words)) if s]
    lines = [
        f"Here is a summary of your message ({_plural(len(words), 'word')}, "
        f"{_plural(len(sentences), 'sentence')}):",
        "",
        f"- **Starts with:** “{quote(sentences[0], 120)}”",
    ]
    if len(sentences) > 1:
        lines.append(f"- **Ends with:** “{quote(sentences[-1], 120)}”")
    keys = _keywords(text)
    if keys:
        lines.append("- **Key words:** " + ", ".join(keys))
    return "\n".join(lines)


def _keywords(text: str, n: int = 5) -> list[str]:
    counts = Counter(
        w.lower() for w in _WORD.findall(text) if len(w) > 3 and w.lower() not in _COMMON
    )
    # most_common keeps first-seen order among equal counts: deterministic.
    return [w for w, _ in counts.most_common(n)]


def _keywords_line(text: str) -> str:
    keys = _keywords(text, 3)
    return f"Your question is about: {', '.join(keys)}. " if keys else ""


def _code_answer(text: str, how: str) -> str:
    tag, name = code_samples.language_of(text)
    ident = code_samples.task_name(text)
    code = code_samples.skeleton(tag, ident, text)
    return (
        f"Here is a {name} skeleton for “{quote(text, 100)}”:\n\n"
        f"```{tag}\n{code}```\n\n"
        "I'm the built-in offline model, so this is a starting point rather than a full "
        "solution. " + how
    ).rstrip()


def _conversation_note(request: ChatRequest, turns: list[Message]) -> str:
    first = turns[0].text[:READ_CHARS].strip()
    note = (
        f"(This is message {len(turns)} from you in this conversation, "
        f"{_plural(len(request.messages), 'message')} in all.)"
    )
    if first:
        note += f" You started with: “{quote(first, 80)}”"
    return note


def _acknowledge(message: Message) -> str:
    items: list[str] = []
    for part in message.parts:
        if isinstance(part, ImagePart):
            items.append(f"an image ({part.media_type}, {_source(part.data, part.url)})")
        elif isinstance(part, FilePart):
            label = f"“{part.filename}”, " if part.filename else ""
            items.append(f"a file ({label}{part.media_type}, {_source(part.data, part.url)})")
    if not items:
        return ""
    if len(items) == 1:
        return f"I received {items[0]}. I can't see its contents, but it arrived intact."
    listed = "\n".join(f"{i}. {item[0].upper()}{item[1:]}"
                       for i, item in enumerate(items[:MAX_LISTED], 1))
    if len(items) > MAX_LISTED:
        listed += f"\n\n…and {len(items) - MAX_LISTED:,} more."
    return (
        f"I received {len(items)} attachments:\n\n{listed}\n\n"
        "I can't see their contents, but they arrived intact."
    )


def _source(data: str | None, url: str | None) -> str:
    if url is not None:
        return f"from {quote(url, 200)}"
    return f"{_plural(inline_size(data or ''), 'byte')} inline"


def inline_size(data: str) -> int:
    """Decoded size of base64 ``data`` in bytes, counted without decoding it (an image
    of 20 MB need not be allocated again to say how big it is)."""
    spaces = sum(data.count(c) for c in " \t\r\n")
    pad = len(data.rstrip("= \t\r\n")) - len(data.rstrip(" \t\r\n"))
    return max(len(data) - spaces + pad, 0) * 3 // 4


def _after_tools(request: ChatRequest) -> str:
    """The results of every tool called since the user's last message (a chain of calls
    over several steps is answered with all of them), oldest first."""
    results: list[ToolResultPart] = []
    for message in reversed(request.messages):
        if message.role == "user" and not is_tool_pictures(message):
            break
        if message.role == "tool":
            results[:0] = [p for p in message.parts if isinstance(p, ToolResultPart)]
    names = _call_names(request)
    blocks = [_describe_result(r, names.get(r.tool_call_id)) for r in results[:MAX_LISTED]]
    if len(results) > MAX_LISTED:
        blocks.append(f"…and {len(results) - MAX_LISTED:,} more tool results.")
    return "\n\n".join(blocks) or "The tool returned nothing."


def _call_names(request: ChatRequest) -> dict[str, str]:
    return {
        p.id: p.name
        for m in request.messages
        if m.role == "assistant"
        for p in m.parts
        if isinstance(p, ToolCallPart)
    }


def _describe_result(result: ToolResultPart, called: str | None) -> str:
    name = result.name or called or "the tool"
    label = f"`{name}`" if name != "the tool" else name
    if result.is_error:
        return f"The {label} call failed: {quote(result.content, 300)}"
    value = None
    if len(result.content) <= READ_CHARS:
        try:
            value = json.loads(result.content)
        except ValueError:
            value = None
    if isinstance(value, dict) and value:
        fields = list(value.items())
        rows = "\n".join(f"- **{quote(str(k), 80)}**: {_scalar(v)}"
                         for k, v in fields[:MAX_LISTED])
        if len(fields) > MAX_LISTED:
            rows += f"\n- …and {len(fields) - MAX_LISTED:,} more fields"
        return f"Here is what {label} returned:\n\n{rows}"
    content = result.content[:READ_CHARS].strip()
    if not content:
        return f"{label[0].upper()}{label[1:]} returned an empty result."
    return f"According to {label}: {quote(content, 500)}"


def _scalar(value: object) -> str:
    if isinstance(value, str):
        return quote(value, 300)
    return quote(json.dumps(value, ensure_ascii=False), 300)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")
