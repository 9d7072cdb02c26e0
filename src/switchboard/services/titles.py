"""A new conversation's title, written by its own model after the first exchange.

The first message, cut at a word (``chat.title_from``), is the title from the start, so
the sidebar never shows "Untitled". Once the first answer is complete, the conversation's
model is asked for a few words that name the topic; the answer replaces the provisional
title unless the user renamed the conversation meanwhile. The call goes through the call
pipeline like the answer (surface ``chat``, the user as principal), so the user's budgets
and rate limits admit it and it is metered once (the user pays for it and sees it in the
usage report). It is small (the exchange cut to ``EXCERPT`` characters each way,
``MAX_OUTPUT_TOKENS``, not streamed), and is skipped for the offline model, whose
provisional title already is its summary: it cannot write a better one. A refused (a
spent budget, a rate limit), failed or empty answer keeps the provisional title: a title
is never worth an error in the user's face.
"""

from __future__ import annotations

import logging
import re

from switchboard.registry import ResolvedModel
from switchboard.services.pipeline import Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.spec import ChatRequest, Message, SwitchboardError

log = logging.getLogger("switchboard.titles")

EXCERPT = 1500
MAX_OUTPUT_TOKENS = 30
MAX_TITLE_CHARS = 80
NO_TITLE_KINDS = frozenset({"offline"})

INSTRUCTIONS = (
    "You name conversations. Reply with a title of at most six words for the conversation "
    "below, in the language of the user's message: no quotes, no final full stop, no "
    "explanation."
)

_PREFIX = re.compile("^(?:title|titre|titel|t\u00edtulo)\\s*[:\uff1a]\\s*", re.IGNORECASE)
# Quotes and markdown a model may wrap a title in (typographic quotes included).
_DECORATION = "\"'`*# \u201c\u201d\u2018\u2019\u00ab\u00bb"


def clean_title(text: str) -> str | None:
    """The model's answer as a title: first non-empty line, without quotes, markdown or a
    "Title:" prefix, at most ``MAX_TITLE_CHARS``; None when nothing usable is left."""
    line = next((ln for ln in (raw.strip() for raw in text.splitlines()) if ln), "")
    line = _PREFIX.sub("", line.strip(_DECORATION)).strip(_DECORATION).rstrip(".")
    line = " ".join(line.split())
    if not line:
        return None
    if len(line) > MAX_TITLE_CHARS:
        line = line[:MAX_TITLE_CHARS].rsplit(" ", 1)[0].rstrip() + "…"
    return line


def title_request(question: str, answer: str) -> ChatRequest:
    excerpt = (f"User: {question[:EXCERPT]}\n\n"
               f"Assistant: {answer[:EXCERPT]}")
    return ChatRequest(messages=[Message.user(excerpt)], system=INSTRUCTIONS,
                       max_output_tokens=MAX_OUTPUT_TOKENS)


async def suggest_title(pipeline: Pipeline, principal: Principal, model: ResolvedModel,
                        question: str, answer: str) -> str | None:
    """The title ``model`` (the one that answered) gives this exchange, or None (offline
    model, refused, failed, nothing usable)."""
    if model.kind in NO_TITLE_KINDS or not question.strip():
        return None
    spec = CallSpec(principal, "chat", title_request(question, answer), model.ref,
                    stream=False)
    try:
        result = (await pipeline.complete(spec)).result
    except SwitchboardError as exc:
        log.info("no title from %s: %s", model.ref, exc.code)
        return None
    if result.error is not None:
        return None
    return clean_title(result.text)
