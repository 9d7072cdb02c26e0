"""Which tool the offline model calls, if any.

* ``tool_choice`` naming a function: that one.
* ``"required"``: the best-matching tool (the first one on a tie).
* ``"auto"`` (or unset): a tool only when the user plainly asks for it — names it
  ("use get_weather", "call the get weather tool") or uses a word of its name that is
  not a generic verb ("weather in Paris?" for ``get_weather``), or three or more words of
  its description.
* ``"none"`` or no tools: never.
"""

from __future__ import annotations

import re

from switchboard.providers.offline.hints import mentions
from switchboard.spec import ChatRequest, Tool, ToolChoiceTool

EXPLICIT = 100
NAME_WORD = 3
DESCRIPTION_WORD = 1
AUTO_THRESHOLD = 3

_GENERIC = frozenset(
    "get set fetch list find make create do run call use tool tools the a an of for to by "
    "with from current info data item items value values new update delete add remove "
    "lookup look".split()
)
_COMMON = frozenset(
    "the and for that this with from into your about what when where which their there "
    "them then than some given returns return using used uses also only each more most "
    "such other".split()
)


def _words(text: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w.lower() for w in re.split(r"[_\W]+", spaced) if w]


def _stem(word: str) -> str:
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


class _Said:
    """The user's words, read once per request (not once per tool: 128 tools x a long
    message would be 128 scans)."""

    def __init__(self, text: str) -> None:
        self.lower = text.lower()
        self.tokens = frozenset(re.split(r"[_\W]+", self.lower))
        self.stems = {_stem(w) for w in _words(text)}


def score(tool: Tool, text: str | _Said) -> int:
    """How plainly ``text`` asks for ``tool`` (0: not at all)."""
    said_ = text if isinstance(text, _Said) else _Said(text)
    if mentions(said_.lower, tool.name, said_.tokens):
        return EXPLICIT
    said = said_.stems
    total = 0
    name_words = {_stem(w) for w in _words(tool.name) if w not in _GENERIC and len(w) > 2}
    total += NAME_WORD * len(name_words & said)
    desc = {
        _stem(w) for w in _words(tool.description or "")
        if len(w) > 3 and w not in _COMMON and w not in _GENERIC
    } - name_words
    total += DESCRIPTION_WORD * len(desc & said)
    return total


def choose_tool(request: ChatRequest, user_text: str) -> Tool | None:
    tools = request.tools or []
    choice = request.tool_choice
    if not tools or choice == "none":
        return None
    if isinstance(choice, ToolChoiceTool):
        return next(t for t in tools if t.name == choice.name)
    said = _Said(user_text)
    scores = [score(t, said) for t in tools]
    best_score = max(scores)
    best = tools[scores.index(best_score)]  # the first one on a tie
    if choice == "required":
        return best
    return best if best_score >= AUTO_THRESHOLD else None
