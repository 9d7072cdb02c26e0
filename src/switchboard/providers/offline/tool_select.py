"""Which tool the offline model calls, if any.

* ``tool_choice`` naming a function: that one.
* ``"required"``: the best-matching tool (the first one on a tie).
* ``"auto"`` (or unset): a tool only when the user plainly asks for it — names it
  ("use get_weather", "call the get weather tool") or uses a word of its name that is
  not a generic verb ("weather in Paris?" for ``get_weather``), or three or more words of
  its description.
* ``"none"`` or no tools: never.

The built-in tools of the server-side tool loop (issue 14) are also asked for by what the
user plainly wants of them, not only by name: ``datetime`` by "what time is it", "what
day"…; ``calculator`` by a sum written in the text ("what is 12 * (3 + 4)?");
``fetch_url`` by a URL with a verb such as "read" or "summarise". ``plain_requests``
lists every tool asked for, in the order the user asked, so the offline model can make a
chain of calls one step at a time (``answer.plan_answer``).
"""

from __future__ import annotations

import re

from switchboard.providers.offline.hints import EXPRESSION, mentions
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


_TIME_ASKED = re.compile(
    r"\b(?:what(?:'s| is)? (?:the )?(?:time|date|day)|time is it|today'?s date|current "
    r"(?:time|date)|what day|which day)\b")
_URL_ASKED = re.compile(r"https?://\S+")
_URL_VERBS = re.compile(r"\b(?:fetch|read|open|summari[sz]e|get|load|visit|look at|what does|"
                        r"download)\b")


def _intent(tool: Tool, lower: str) -> int | None:
    """Where in ``lower`` the user plainly asks for one of the built-in tools by what it
    does (None: not asked that way)."""
    found: re.Match[str] | None = None
    if tool.name == "datetime":
        found = _TIME_ASKED.search(lower)
    elif tool.name == "calculator":
        found = next((m for m in EXPRESSION.finditer(lower)
                      if not re.fullmatch(r"[\d\s-]+", m.group(0))), None)
    elif tool.name == "fetch_url" and _URL_VERBS.search(lower):
        found = _URL_ASKED.search(lower)
    return found.start() if found is not None else None


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


def _position(tool: Tool, lower: str) -> int:
    """Where the user first asks for ``tool``: its name, a word of its name, or its
    intent (the end of the text when none is found: asked for by its description)."""
    spots = [lower.find(tool.name.lower()), *(lower.find(w) for w in _words(tool.name)
                                               if w not in _GENERIC and len(w) > 2)]
    intent = _intent(tool, lower)
    if intent is not None:
        spots.append(intent)
    found = [s for s in spots if s >= 0]
    return min(found) if found else len(lower)


def plain_requests(request: ChatRequest, user_text: str) -> list[Tool]:
    """Every tool the user plainly asks for (as ``"auto"`` decides), in the order asked."""
    tools = request.tools or []
    if not tools or request.tool_choice not in (None, "auto"):
        return []
    said = _Said(user_text)
    asked = [t for t in tools
             if score(t, said) >= AUTO_THRESHOLD or _intent(t, said.lower) is not None]
    return sorted(asked, key=lambda t: _position(t, said.lower))


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
    asked = plain_requests(request, user_text)
    return asked[0] if asked else None
