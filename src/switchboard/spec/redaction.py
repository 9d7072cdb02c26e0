"""Remove credentials from text that came back from a vendor: the one redaction.

Vendors echo keys back in error bodies and headers, whole or in part: OpenAI's 401 says
``Incorrect API key provided: sk-proj-****...abcd``, others quote a truncated prefix, a
URL-encoded copy or put it in a request id. ``redact`` removes, for each given secret:

- the secret itself, and its URL-encoded and JSON-escaped spellings;
- any *word* (a run of characters without spaces, quotes or brackets) that contains
  ``MIN_RUN`` or more consecutive characters of the secret, or of one of those spellings
  (a truncated key, a key glued to other text);
- any word with a mask (``***``, ``...``, ``…``, ``xxxx``) next to a piece of at least
  ``MIN_PIECE`` characters that starts or ends the secret (``abcd****wxyz``,
  ``****wxyz``, ``abcd...``): the masked forms vendors print;

and, whatever the secrets, anything shaped like a well-known vendor key (``sk-…``,
``AIza…``, ``Bearer …``), so a key this process does not know is still not repeated.

It lives in ``spec`` because it is pure and because every ``ProviderError`` applies it to
all of its strings when it is built (``spec.errors``): no surface can forget it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET = 4  # shorter values are not secrets worth matching (and would match anything)
MIN_RUN = 8  # consecutive characters of a secret that give it away
MIN_PIECE = 4  # the visible head or tail of a masked key

_KEY_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-*.]{6,}|sk_[A-Za-z0-9_\-*]{6,}|AIza[0-9A-Za-z_\-]{10,}"
    r"|gsk_[A-Za-z0-9]{6,}|xai-[A-Za-z0-9]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-.=*]{8,})"
)
_WORD = re.compile(r"[^\s\"'`<>()\[\]{},;|]+")
_MASK = re.compile(r"\*{2,}|\.{2,}|\u2026+|x{4,}|X{4,}|#{3,}")


def spellings(secret: str) -> set[str]:
    """The forms a secret travels in: as is, URL-encoded (both ways), JSON-escaped."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}


def _runs(forms: Iterable[str]) -> frozenset[str]:
    return frozenset(form[i:i + MIN_RUN] for form in forms
                     for i in range(len(form) - MIN_RUN + 1))


def _gives_away(word: str, secret: str, runs: frozenset[str]) -> bool:
    if any(word[i:i + MIN_RUN] in runs for i in range(len(word) - MIN_RUN + 1)):
        return True
    for mask in _MASK.finditer(word):
        head, tail = word[:mask.start()], word[mask.end():]
        longest = min(max(len(head), len(tail)), len(secret))
        for k in range(MIN_PIECE, longest + 1):
            if head.endswith(secret[:k]):
                return True  # "abcd****": the secret's first characters, then a mask
            if tail.startswith(secret[-k:]):
                return True  # "****wxyz": a mask, then the secret's last characters
    return False


def _redact_one(text: str, secret: str) -> str:
    forms = spellings(secret)
    for form in forms:
        text = text.replace(form, REDACTED)
    if len(secret) < MIN_RUN:
        return text
    runs = _runs(forms)
    return _WORD.sub(
        lambda m: REDACTED if _gives_away(m.group(), secret, runs) else m.group(), text)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without the given secrets (in any of the forms above) and without
    anything shaped like a well-known vendor key."""
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            text = _redact_one(text, secret)
    return _KEY_PATTERNS.sub(REDACTED, text)


def redact_optional(text: str | None, secrets: Iterable[str | None] = ()) -> str | None:
    return None if text is None else redact(text, secrets)
