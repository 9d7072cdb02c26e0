"""Task types: what a prompt asks for, guessed locally in well under a millisecond
(issue 16 item 1; decision 0112).

A weighted-cue classifier, not a learned model: every task type has a few compiled
patterns (English plus the commonest words in French, Spanish, German, Italian and
Portuguese, and a few in Chinese and Japanese), each with a weight; a cue among the
first words of the prompt (an imperative: "Summarize…", "Translate…") counts more. The
highest score wins; the confidence is how far it leads the runner-up. Why rules: the
twelve types are mostly announced by their verbs, a rule set is 0 MB, needs no numpy,
runs in microseconds, and every decision can be read back from the cues — and its
accuracy is measured honestly on a held-out set it was never tuned on
(``tests/data/task_types_heldout.jsonl``; the rules were tuned on
``tests/data/task_types_dev.jsonl`` only).

Inputs beyond the text:

- an **image attached** to the prompt makes it ``vision`` (an image to read), unless
  the prompt asks for an image to be made ("turn this photo into a watercolor"): then
  ``image``;
- the **conversation**: a short follow-up with no cue of its own ("and in Spanish?",
  "make it sadder", "more please") takes the task of the previous user message.

Bounded work: only the first ``HEAD`` and last ``TAIL`` characters of a prompt are read
(the instruction is at one end of a pasted text), and at most ``HISTORY`` earlier
messages are looked at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

TaskType = Literal["code", "writing", "analysis", "chat", "summarize", "translation",
                   "math", "extraction", "brainstorming", "qa", "vision", "image"]

TASK_TYPES: Final[tuple[TaskType, ...]] = (
    "code", "writing", "analysis", "chat", "summarize", "translation", "math",
    "extraction", "brainstorming", "qa", "vision", "image")

TASK_WORDS: Final[dict[str, str]] = {
    "code": "code", "writing": "writing", "analysis": "analysis", "chat": "conversation",
    "summarize": "summaries", "translation": "translation", "math": "maths",
    "extraction": "extracting facts", "brainstorming": "ideas",
    "qa": "factual questions", "vision": "reading images", "image": "making images"}
"""A task type in words, after "for" (the names are for programs; a reason shown to a
person says "for factual questions", not "for qa")."""

HEAD: Final = 700
"""Characters read from the start of a prompt."""
TAIL: Final = 300
"""Characters read from its end (an instruction after a pasted text)."""
LEAD: Final = 60
"""The first characters, where an imperative verb counts double."""
HISTORY: Final = 3
"""Earlier user messages consulted for a follow-up."""

LEAD_BONUS: Final = 1.0


@dataclass(frozen=True, slots=True)
class Classification:
    task: TaskType
    confidence: float
    """0..1: how clearly the winner led (1: only one task type had any cue)."""


def _rx(*alternatives: str) -> str:
    return "|".join(f"(?:{a})" for a in alternatives)


@cache
def _pattern(source: str) -> re.Pattern[str]:
    """``source`` compiled, on the first prompt that needs it: compiling the whole cue
    table at import cost ~30 ms of every server start (issue 12, decision 0182), for a
    classifier that only ``auto`` calls use."""
    return re.compile(source)


_LANGS = (r"english|french|spanish|german|italian|portuguese|japanese|chinese|mandarin|"
          r"korean|russian|arabic|hindi|dutch|polish|swedish|norwegian|danish|finnish|"
          r"greek|turkish|thai|vietnamese|hebrew|latin|ukrainian|czech|indonesian|"
          r"anglais|français|espagnol|allemand|inglés|francés|alemán|español|englisch|"
          r"deutsch|französisch|inglese|inglês")

_MAKE = (r"generate|create|make|draw|paint|render|sketch|design|illustrate|produce|"
         r"génère|genere|crée|erstelle|erzeuge|genera|crea|turn|transform|convert|redo")
_PICTURE = (r"image|picture|photo|pic|illustration|logo|poster|wallpaper|icon|drawing|"
            r"painting|portrait|sprite|banner|avatar|3d render|book cover|cover art|"
            r"comic|artwork|bild|imagen|dessin|imagem|immagine|pixel art")
_LOOKS = (r"watercolou?r|oil painting|cartoon|anime|van gogh|pixel art|sketch|"
          r"photorealistic|digital art")
_STYLE = rf"style|{_LOOKS}"

# (pattern, weight) per task type. Patterns run on the lowercased text.
_CUES: Final[dict[TaskType, tuple[tuple[str, float], ...]]] = {
    "image": (
        (_rx(rf"\b(?:{_MAKE})\b[^.?!\n]{{0,40}}\b(?:{_PICTURE})s?\b"), 3.0),
        (_rx(r"^(?:please |can you |could you )?(?:draw|paint|sketch|illustrate|dibuja|"
             r"dessine|zeichne|disegna)\b"), 3.0),
        (_rx(rf"\b(?:{_PICTURE})\b[^.?!\n]{{0,30}}\b(?:erstellen|generieren|zeichnen)\b"), 3.0),
        (_rx(rf"\b(?:in the style of|{_STYLE})\b"), 0.8),
    ),
    "translation": (
        (_rx(r"\btranslat|\btraduc|\btraduz|\btradu[iz]s|\btraduci|\bübersetz|\bvertaal|"
             r"\bprzetłumacz|翻译|翻訳|怎么说|どう言|什么意思|どういう意味"), 4.0),
        (_rx(r"\bhow (?:do|would|can) (?:you|i|we) say\b", r"\bhow to say\b",
             r"\bcomo se dice\b", r"\bcomment dit-on\b"), 3.5),
        (_rx(rf"\b(?:in|into|to) (?:formal |informal )?(?:{_LANGS})\b",
             rf"\bthe (?:{_LANGS}) (?:for|word)\b", rf"\bfrom (?:{_LANGS})\b"), 2.0),
        (_rx(r"\bwhat does [\"'“].{1,40}[\"'”] mean\b", r"\bwhat is [\"'“].{1,40}[\"'”] in\b",
             r"\bwhat'?s [\"'“].{1,40}[\"'”] in\b"), 2.5),
        (_rx(r"^(?:and )?(?:in|to) (?:\w+ )?(?:" + _LANGS + r")\b"), 2.0),
    ),
    "code": (
        (_rx(r"\b(?:python|javascript|typescript|java|kotlin|scala|rust|golang|c\+\+|c#|"
             r"ruby|php|swift|haskell|perl|bash|shell script|powershell|sql|html|css|"
             r"react|vue|angular|django|flask|fastapi|node\.?js|npm|pip|numpy|pandas|"
             r"docker|dockerfile|kubernetes|k8s|terraform|git|github actions|regex|"
             r"json schema|yaml|api endpoint|rest api|graphql|valgrind|gcc|webpack|"
             r"reqwest|quicksort)(?!\w)"), 2.0),
        (_rx(r"\b(?:function|method|class|struct|interface|variable|loop|recursion|"
             r"compile[rd]?|compiler|syntax|stack ?trace|exception|segfault|null pointer|"
             r"bug|debug|refactor|unit tests?|pytest|jest|linked list|binary search|"
             r"array|hash ?map|algorithm|time complexity|big-?o|query|endpoint|deploy|"
             r"script|code|coroutines?|generator|closure|hooks|container|repo|commit|"
             r"detached head|linter|type hints)\b"), 2.0),
        (_rx(r"\b(?:typeerror|syntaxerror|valueerror|keyerror|undefined is not|"
             r"eacces|permission denied|traceback|nullpointerexception|404|500)\b"), 2.0),
        (_rx(r"\b(?:def|return|import|const|let|var|print|select|from|where|fn|func|"
             r"public|void|int)\b[^\n]{0,40}[(=:;{*]", r"[a-z_]+\([^)]*\)", r"`[^`]+`",
             r"\bin (?:c|go|js|ts)\b", r"\bgo http\b", r"\.(?:py|js|ts|jpe?g|csv)\b"),
         1.5),
        (_rx(r"[{};]\s*$", r"==|!=|=>|->|\+=|&&|\|\|"), 1.0),
        (_rx(r"\b(?:unit |integration )?tests? for (?:a|this|the|my) (?:function|class|method|"
             r"module|endpoint)\b"), 3.0),
        (_rx(r"\bfonction\b|\bfunción\b|\bfunktion\b|\bskript\b|\bcódigo\b"), 1.0),
    ),
    "math": (
        (_rx(r"\bsolve\b|\brésous\b|\bresuelve\b|\bcalcul|\bcompute\b|\bderivative\b|"
             r"\bintegra(?:l|te)\b|\beigen|\bdeterminant\b|\bprobability\b|\bprove\b|"
             r"\bshow that\b|\bsimplify\b|\blimit\b|\blímite\b|\bequation\b|\béquation\b|"
             r"\bstandard deviation\b|\bmean of\b|\baverage of\b|\bmoyenne\b|\bfactor(?:ise|ize)\b|"
             r"\bsquare root\b|\d\s*(?:mal|times|fois|por)\s*\d|"
             r"\bsqrt\b|\blog(?: base)?\b|\bprime\b|\bcombinations\b|"
             r"\bpermutations\b|\bhow many ways\b|\barea of\b|\bperimeter\b|\bvolume of\b|"
             r"\bcompound interest\b|\bpercent|\bconvert \d"), 2.5),
        (_rx(r"\d\s*[-+*/^\u00d7x\u00f7]\s*\d", r"\d+\s*%", r"\b[xy]\s*[=^²]", r"\d[xy]\b",
             r"[=<>]\s*-?\d", r"\bx²", r"\bsin\b|\bcos\b|\btan\b|\bln\b",
             r"\bwhat(?:'s| is) -?\d", r"\bwie viel ist\b", r"\baverage speed\b",
             r"\bhow (?:far|much|long) (?:does|will|do)\b.*\d", r"\bp\("), 1.5),
        (_rx(r"\b(?:matrix|integer|odd|even|sum of|fraction|radius|triangle|"
             r"marbles|dice|heads|km|miles|mph|fahrenheit|celsius)\b"), 1.0),
    ),
    "summarize": (
        (_rx(r"\bsummar|\btl;?dr\b|\brésum|\bresume (?:este|esta|el|la|en)\b|"
             r"\bresumen\b|\bzusammen|"
             r"\bcondense\b|\bshorten\b|\bgist\b|\brecap\b|\bsynopsis\b|\bboil (?:this|it) down\b|"
             r"\bsum (?:this |it )?up\b|\bkey (?:points|takeaways)\b|\bmain (?:points|arguments)\b|"
             r"\bin (?:a )?(?:one|few|two|three|\d) (?:sentences?|lines?|bullet points?)\b|"
             r"\bbrief overview\b|\bshort version\b|\bone-line\b|\bin \d+ words\b|"
             r"\bwhat is this (?:text|article) about\b|\bsintetiza\b|\briassum"), 4.0),
    ),
    "extraction": (
        (_rx(r"\bextract|\bextrae\b|\bextrahiere\b|\bextrais\b|\bpull (?:out|the)\b|"
             r"\bparse\b|\bclassify\b|\blabel\b|\btag each\b|\bcategori[sz]e\b|"
             r"\bsentiment\b|\bdetect the language\b|\bfind all\b|\bget the\b[^.?!]{0,40}\bfrom\b|"
             r"\b(?:identify|find) the\b[^.?!]{0,60}\b(?:in|from)\b|"
             r"\bwhich\b[^.?!]{0,40}\b(?:are |is )?(?:mentioned|appear)|"
             r"\bwhat\b[^.?!]{0,40}\bappear\b|\b(?:list|"
             r"name) (?:all )?the\b[^.?!]{0,40}\bmentioned\b|"
             r"\bmentioned\b|\b(?:into|to|as|return a|with) (?:json|csv)\b|\bjson with\b|"
             r"\bonly the rows\b|\bspam or\b|\bpositive,? (?:or )?negative\b|\btracking number\b"),
         3.0),
        (_rx(r"\b(?:from|in) (?:this|the following|the|these) (?:text|sentence|paragraph|"
             r"invoice|receipt|message|note|email|posting|resume|table|post|complaint|"
             r"recipe|abstract)\b", r"\bemail addresses\b|\bphone numbers\b|\burls\b|"
             r"\bhashtags?\b|\bdates\b|\bentities\b|\bkeywords\b"), 1.5),
    ),
    "brainstorming": (
        (_rx(r"\bideas?\b|\bidées\b|\bideen\b|\bbrainstorm|\bcome up with\b|"
             r"\bsuggest\b|\bsuggestions\b|\bpropose-moi\b|\bslogans\b|\btaglines\b|"
             r"\bnames? (?:ideas )?for\b|\bpossible names\b|\bthink of a name\b|"
             r"\bwhat (?:are|could be) (?:some|different)\b|\bsome (?:fun|creative|possible|"
             r"good) \w+|\bways to\b|\bthings to do\b|\boptions\b|\bthemes? for\b|"
             r"\bname my\b|\bwhat should i name\b|\bwhat could i\b"), 2.5),
        (_rx(r"\b(?:give me|list|dame|gib mir) (?:\d+|a few|some|several|ein paar)\b",
             r"^\d+ \w+ ideas\b", r"\bmore(?: please)?\b.*\b(?:ones|names|ideas)\b"),
         1.5),
    ),
    "writing": (
        (_rx(r"\bwrite\b|\bdraft\b|\bcompose\b|\brewrite\b|\bproofread\b|\bescribe\b|"
             r"\bécris\b|\bschreib(?:e)?\b|\bscrivi\b|\bescreva\b|\bpolish\b|"
             r"\bimprove (?:the )?(?:wording|flow|writing)\b|\bmake (?:this|it) (?:sound|"
             r"punchier|friendlier|more|less|shorter|longer|sadder|funnier|rhyme)"), 2.0),
        (_rx(r"\b(?:poem|poème|poema|gedicht|story|stories|letter|carta|lettre|brief|"
             r"email|e-mail|essay|speech|discurso|toast|lyrics|song|haiku|limerick|sonnet|"
             r"caption|post|bio|cover letter|tweet|novel|scene|eulogy|newsletter|"
             r"fairy tale|bedtime|script|message|note|announcement|apology|absage|"
             r"description|slogan|paragraph|intro|stanza|rhyme|ad)\b"), 1.5),
        (_rx(r"\bfunny but\b|\bpolite but\b|\bprofessional\b|\bformal\b|\bpersuasive\b"),
         0.8),
    ),
    "analysis": (
        (_rx(r"\bcompar|\bpros and cons\b|\badvantages\b|\bdisadvantages\b|\bavantages\b|"
             r"\bventajas\b|\bvorteile\b|\btrade-?offs?\b|\bevaluat|\bassess|\banaly[sz]|"
             r"\bcritique\b|\bweigh\b|\bstrengths\b|\bweaknesses\b|\bdrawbacks\b|"
             r"\bshould (?:i|we|our)\b|\bwhich is (?:a )?better\b|\bwhich one should\b|"
             r"\bbetter for\b|\bversus\b|\bvs\.?\b|\bworth it\b|\brisks?\b|\bethical\b|"
             r"\bwhat would happen\b|\bwhat could explain\b|\bfactors\b|\bcauses of\b|"
             r"\bwhy (?:did|do you think|is|does)\b|\bhow does\b[^.?!]{0,40}\baffect\b|"
             r"\bimpact of\b|\bfallac|\bmisleading\b|\boverkill\b|\bthemes of\b|"
             r"\bargument\b|\bdifferences? between\b|\bdifférences\b|\bwhat's going on\b|"
             r"\bexplain why\b|\bcompeting explanations\b|\blogical\b"), 2.5),
    ),
    "qa": (
        (_rx(r"^(?:who|when|where|which|what|how (?:many|much|tall|far|long|old|big|"
             r"does|do)|why do|is (?:a|an|the)|¿?(?:cuál|quién|cuándo|dónde|qué)|quel(?:le)?|"
             r"qui|wer|wie viele|wie|was|wann|wo|chi|quale)\b"), 1.0),
        (_rx(r"\bwhat (?:is|was|does) (?:the|a|an)\b", r"\bstand for\b",
             r"\bcapital of\b|\bcapitale\b|\bhauptstadt\b", r"\bwho (?:wrote|invented|"
             r"painted|discovered|was|is)\b", r"\bwhat year\b", r"\bhow does\b[^.?!]*\bwork\b",
             r"\bwhat causes\b", r"\bdifference between\b"), 1.0),
        (_rx(r"\?\s*$"), 0.3),
    ),
    "chat": (
        (_rx(r"^(?:hi|hello|hey|yo|hiya|howdy|hola|bonjour|salut|hallo|ciao|olá|"
             r"good (?:morning|evening|night|afternoon)|guten (?:morgen|tag|abend)|"
             r"buenos días|buenas|thanks|thank you|thx|merci|gracias|danke|lol|haha|"
             r"lmao|ok|okay|cool|nice|wow|great|bye|see you|sorry|ugh|awesome)\b"), 3.0),
        (_rx(r"\bhow are you\b|\bhow's it going\b|\bwhat's up\b|\bwie geht|\bça va\b|"
             r"\bqué tal\b|\bi'?m (?:so )?(?:bored|back|nervous|lonely|sad|tired|happy)\b|"
             r"\bi feel\b|\bfeeling\b|\bjust want to vent\b|\bcan'?t sleep\b|"
             r"\bjust got\b|\bi passed\b|\byou'?re (?:awesome|funny|great)\b|"
             r"\bare you a\b|\bdo you (?:ever|have|like)\b|\byour favou?rite\b|"
             r"\bjust chat\b|\btalk to me\b|\bplay a game\b|\bcan i ask you\b|"
             r"\bwhat do you like\b|\btell me something\b|\bmy (?:cat|dog)\b|"
             r"\brough day\b|[😀-🙏🤣😩🥲❤]|!!+|:\)"), 2.5),
    ),
}

_FOLLOW_UP = (
    r"^(?:and|now|also|then|what about|how about|ok(?:ay)?,? now|make it|more|again|"
    r"another|same|et|y|und|e)\b")
_MAKE_PICTURE = (
    rf"\b(?:{_MAKE})\b[^.?!\n]{{0,50}}\b(?:{_PICTURE}|{_STYLE}|version|similar|like this|"
    r"background)\b")
_RESTYLE = rf"\b(?:in|as|into) (?:an? |the )?(?:{_LOOKS})\b|\b(?:{_LOOKS}) style\b"
"""With an image and no verb: "in anime style please", "as a watercolour". Only a
visual look (not "in the style of", which a poem about a photo may ask), and only when
the prompt is not a question: "What style is this painting?" or "Is this in anime
style?" asks about the picture (vision). A bare style word was meant here once, but the
pattern held the literal text ``{_STYLE}`` and never matched; read as the real style
list it sent every question about a picture's style to image generation."""


def _scores(text: str) -> dict[TaskType, float]:
    lead = text[:LEAD]
    scores: dict[TaskType, float] = {}
    for task, cues in _CUES.items():
        total = 0.0
        for pattern, weight in cues:
            compiled = _pattern(pattern)
            found = compiled.search(text)
            if found is not None:
                total += weight
                if found.start() < LEAD and compiled.search(lead) is not None:
                    total += LEAD_BONUS * (weight / 2.5)
        if total:
            scores[task] = total
    return scores


def _bounded(text: str) -> str:
    text = text.strip().lower()
    if len(text) > HEAD + TAIL:
        text = text[:HEAD] + "\n" + text[-TAIL:]
    return text


def _decide(scores: dict[TaskType, float], text: str) -> Classification:
    if not scores:
        words = len(text.split())
        if text.endswith("?"):
            return Classification("qa", 0.35)
        return Classification("chat" if words <= 6 else "writing", 0.3)
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    top_task, top = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = round(min(1.0, 0.5 + (top - second) / (2 * top)), 2)
    return Classification(top_task, confidence)


def classify(prompt: str, *, images: int = 0, history: Sequence[str] = ()) -> Classification:
    """The task type of ``prompt`` (the last user message's text), given how many
    images are attached to it and the earlier user messages (oldest first)."""
    text = _bounded(prompt)
    if images:
        if _pattern(_MAKE_PICTURE).search(text) or (
                not text.endswith("?") and _pattern(_RESTYLE).search(text)):
            return Classification("image", 0.8)
        return Classification("vision", 0.9)
    scores = _scores(text)
    scores.pop("vision", None)
    result = _decide(scores, text)
    if history and (not scores or (len(text) < 60 and _pattern(_FOLLOW_UP).search(text)
                                   and result.task not in ("chat", "math"))):
        for earlier in reversed(history[-HISTORY:]):
            before = _decide(_scores(_bounded(earlier)), earlier)
            if before.task != "chat":
                return Classification(before.task, round(before.confidence * 0.8, 2))
    return result


__all__ = ["HEAD", "TAIL", "TASK_TYPES", "Classification", "TaskType", "classify"]
