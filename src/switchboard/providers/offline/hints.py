"""Values found in the user's text, handed out to the properties of a JSON schema.

Heuristics a person would use when filling a form from a sentence: a quoted string is
meant literally ("search for 'red shoes'"), capitalised words inside a sentence are names
and places ("weather in Paris"), numbers go to numeric properties in the order written.
Each value is handed out once, so two string properties get two different values.
"""

from __future__ import annotations

import re
from collections import deque

_QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”|`([^`]+)`|(?<!\w)'([^']+)'(?!\w)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*[A-Za-z])")
_CAPITALISED = re.compile(r"\b[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_AFTER_PREP = re.compile(r"\b(?:in|at|near|for|from|to)\s+([a-z][a-z-]{2,})\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+)$")
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.IGNORECASE)
_OPERAND = r"(?:\d+(?:\.\d+)?|\((?:[^()]|\([^()]*\))*\))"
# An arithmetic expression: numbers (or brackets) joined by at least one operator.
EXPRESSION = re.compile(
    rf"-?{_OPERAND}(?:\s*(?:\*\*|[-+*/%^\u00d7\u00f7x])\s*-?{_OPERAND})+")
# Capitalised words that are not names: sentence openers, pronouns, polite words.
_NOT_NAMES = frozenset(
    "i i'm i'd a an the what what's whats where when who why how which is are can could "
    "would should will please tell show give find get use call run look search check "
    "hello hi hey thanks thank okay ok yes no it this that my me you your".split()
)


class Hints:
    """The hand-out pool for one schema, built from the user's last message."""

    def __init__(self, text: str, context: str = "") -> None:
        self.text = text
        self.lower = text.lower()
        self._mentioned: dict[str, bool] = {}
        self._token_set: frozenset[str] | None = None
        ignore = {w.lower() for w in re.split(r"[_\W]+", context) if w}
        self.quoted: deque[str] = deque(
            next(g for g in m.groups() if g) for m in _QUOTED.finditer(text)
        )
        unquoted = _QUOTED.sub(" ", text)
        self.numbers: deque[float] = deque(float(n) for n in _NUMBER.findall(unquoted))
        self.names: deque[str] = deque(_names(unquoted, ignore))
        self.places: deque[str] = deque(
            w.title() for w in _AFTER_PREP.findall(unquoted) if w not in ignore
        )
        self.urls: deque[str] = deque(u.rstrip(".,;:!?") for u in _URL.findall(text))
        self.expressions: deque[str] = deque(expressions(_URL.sub(" ", text)))

    def take_quoted(self) -> str | None:
        return self.quoted.popleft() if self.quoted else None

    def take_name(self) -> str | None:
        """A proper noun, else a word after a preposition, capitalised ("in paris")."""
        if self.names:
            return self.names.popleft()
        return self.places.popleft() if self.places else None

    def take_number(self) -> float | None:
        return self.numbers.popleft() if self.numbers else None

    def take_url(self) -> str | None:
        """An http(s) URL written in the text (for ``fetch_url``'s ``url``)."""
        return self.urls.popleft() if self.urls else None

    def take_expression(self) -> str | None:
        """An arithmetic expression written in the text ("what is 12 * (3 + 4)?"), with
        ``x`` and the multiplication and division signs written as ``*`` and ``/`` (for
        ``calculator``)."""
        return self.expressions.popleft() if self.expressions else None

    def mentions(self, phrase: str) -> bool:
        """Whether ``phrase`` occurs in the text as whole words (case-insensitive).

        Asked once per schema property, so answered from a word set first (a phrase with
        a word the text lacks cannot match) and remembered: a schema of thousands of
        properties must not mean thousands of scans of a long message."""
        known = self._mentioned.get(phrase)
        if known is None:
            known = self._mentioned[phrase] = mentions(self.lower, phrase, self._tokens)
        return known

    @property
    def _tokens(self) -> frozenset[str]:
        if self._token_set is None:
            self._token_set = frozenset(re.split(r"[_\W]+", self.lower))
        return self._token_set


def mentions(lower: str, phrase: str, tokens: frozenset[str] | None = None) -> bool:
    """Whether ``phrase`` occurs in ``lower`` (lower-cased text) as whole words.

    ``tokens`` (``lower`` split on ``[_\\W]+``), when given, rules out most phrases
    without a scan: a whole-word match means every word of the phrase is such a token."""
    words = [w for w in re.split(r"[_\W]+", phrase.lower()) if w]
    if not words or (tokens is not None and not tokens.issuperset(words)):
        return False
    return re.search(r"\b" + r"[\s_-]+".join(map(re.escape, words)) + r"\b",
                     lower) is not None


def expressions(text: str) -> list[str]:
    """The arithmetic expressions in ``text`` (a date such as 2026-12-04 is not one)."""
    found = []
    for match in EXPRESSION.finditer(text):
        raw = match.group(0)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()) or re.fullmatch(r"[\d\s-]+", raw):
            continue  # dates, phone numbers, ranges: not sums
        found.append(re.sub(r"\s+", " ", raw.replace("\u00d7", "*").replace("\u00f7", "/")
                            .replace("^", "**")).replace(" x ", " * ").strip())
    return found


def _names(text: str, ignore: set[str]) -> list[str]:
    inner: list[str] = []
    initial: list[str] = []
    for match in _CAPITALISED.finditer(text):
        words = [w for w in match.group(0).split()
                 if w.lower() not in _NOT_NAMES and w.lower() not in ignore]
        if not words:
            continue
        name = re.sub(r"'s$", "", " ".join(words)).strip(" '-")
        if not name:
            continue
        starts_sentence = _SENTENCE_START.search(text[: match.start()]) is not None
        (initial if starts_sentence and words[0] == match.group(0).split()[0] else
         inner).append(name)
    return inner + initial
