"""Which model answers an ``auto`` turn (issue 16 item 3; decisions 0114, 0115).

Pure: given the turn's task type and needs, the usable models of the catalog, the
per-task defaults (the user's own, then the administrator's), the grades and the global
default, ``pick`` returns one model and the reason, in words a person reads
("code → anthropic:claude-sonnet-4-5, task default for code").

1. **Adequate models** only: a usable chat model (provider enabled and configured)
   that is KNOWN to take what the turn holds — ``vision`` for images, ``tools`` when
   tools are sent — and whose context window (when known) holds the conversation's
   estimated size plus the answer's room. Unknown capabilities do not qualify: routing a
   model *by choice* onto a capability nobody vouched for would turn "auto" into a
   guess that fails at the vendor (explicit choices still go to the vendor: decision
   0036).
2. **Tier** ``auto`` (balanced): the user's model for the task, else the
   administrator's default for the task, else (where grades exist) the best grade per
   cost, else the global default, else the cheapest adequate model. A default that is
   not adequate for this turn (a text-only model and an image) is skipped, and the
   reason says so.
3. **Tier** ``auto:cheap``: the cheapest adequate model (known prices first).
4. **Tier** ``auto:best``: the highest grade for the task; without grades, the most
   capable by proxy — the highest price, then the largest context window.

No adequate model is a clear error naming what was needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, Protocol

from switchboard.registry.catalog import CatalogEntry
from switchboard.services.auto.tasks import TaskType
from switchboard.spec import InvalidRequestError

Tier = Literal["auto", "cheap", "best"]

AUTO_REFS: Final[dict[str, Tier]] = {"auto": "auto", "auto:cheap": "cheap", "auto:best": "best"}
"""The refs that mean "choose for me" (reserved: a provider named ``auto`` cannot be
reached through them)."""

DEFAULT_ANSWER_ROOM: Final = 1024
"""Tokens kept free for the answer when the request sets no ``max_tokens``."""


def auto_tier(ref: str | None) -> Tier | None:
    """The tier ``ref`` asks for, or None when it names a model."""
    return AUTO_REFS.get((ref or "").strip().lower())


class Grades(Protocol):
    """What Auto asks of the grades (issue 16 item 5, built by another lane): a grade
    per (model, task type), higher is better, on a RATIO scale shared by all models of a
    task — a Bradley-Terry strength ``p`` (``services.bradley_terry``: ``exp(theta)``,
    1 = the average model) or a win probability against the average model, NOT the
    Elo-like rating (``1000 + 400·log10 p``), because "grade per cost" divides it by a
    price. Models without enough votes are left out; an empty mapping means "no grades
    yet" and Auto decides without them."""

    def for_task(self, task: TaskType, refs: Sequence[str]) -> Mapping[str, float]:
        ...


class NoGrades:
    """Until grades exist."""

    def for_task(self, task: TaskType, refs: Sequence[str]) -> Mapping[str, float]:
        return {}


@dataclass(frozen=True, slots=True)
class StaticGrades:
    """Fixed grades (tests; an import of grades computed elsewhere)."""

    grades: Mapping[tuple[str, str], float]
    """(task, ref) → grade."""

    def for_task(self, task: TaskType, refs: Sequence[str]) -> Mapping[str, float]:
        return {ref: self.grades[(task, ref)] for ref in refs if (task, ref) in self.grades}


@dataclass(frozen=True, slots=True)
class Needs:
    """What the turn needs from a model."""

    vision: bool = False
    tools: bool = False
    tokens: int = 0
    """The conversation's estimated size plus room for the answer."""

    def describe(self) -> str:
        wanted = [w for w, on in (("images", self.vision), ("tools", self.tools)) if on]
        size = f"a context window of at least {self.tokens:,} tokens"
        return " and ".join([*(f"accepts {w}" for w in wanted), size])


@dataclass(frozen=True, slots=True)
class Defaults:
    """Per-task default models: the user's own (preferences) and the administrator's."""

    admin: Mapping[str, str]
    user: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AutoPick:
    """The model Auto chose, and why."""

    task: TaskType
    confidence: float
    tier: Tier
    ref: str
    why: str
    """Why this model, e.g. "task default for code"."""

    @property
    def reason(self) -> str:
        """One line for people: ``code → anthropic:claude-sonnet-4-5, task default for
        code``."""
        return f"{self.task} → {self.ref}, {self.why}"

    @property
    def header(self) -> str:
        """The reason as an HTTP header value (``x-switchboard-auto``): ASCII only."""
        return f"{self.task} -> {self.ref}, {self.why}".encode("ascii", "replace").decode()

    def as_dict(self) -> dict[str, object]:
        return {"task": self.task, "confidence": self.confidence, "tier": self.tier,
                "model": self.ref, "why": self.why, "reason": self.reason}


class NoAdequateModel(InvalidRequestError):
    """No usable model can take this turn (a 400 on every surface: the turn needs
    something no configured model offers; the caller can drop it or name a model)."""

    code = "no_model_for_auto"


def _blended(entry: CatalogEntry) -> Decimal | None:
    """A model's price per million tokens, prompt and answer weighted 3:1 (a typical
    chat turn reads more than it writes)."""
    if entry.price is None:
        return None
    return (entry.price.input * 3 + entry.price.output) / 4


def adequate(entries: Sequence[CatalogEntry], needs: Needs) -> list[CatalogEntry]:
    """The usable chat models that can take the turn (see the module docstring)."""
    found = []
    for entry in entries:
        if entry.type != "chat" or not entry.enabled or not entry.configured:
            continue
        if needs.vision and entry.capabilities.vision is not True:
            continue
        if needs.tools and entry.capabilities.tools is not True:
            continue
        if entry.context_window is not None and entry.context_window < needs.tokens:
            continue
        found.append(entry)
    return found


def _cheapest(entries: Sequence[CatalogEntry]) -> CatalogEntry:
    return min(entries, key=lambda e: (_blended(e) is None, _blended(e) or 0, e.ref))


def _most_capable(entries: Sequence[CatalogEntry]) -> CatalogEntry:
    return max(entries, key=lambda e: (_blended(e) is not None, _blended(e) or 0,
                                       e.context_window or 0, e.ref))


def _per_cost(grades: Mapping[str, float], by_ref: Mapping[str, CatalogEntry]) -> str:
    """The best grade per cost: grade ÷ blended price, a free or unpriced model counted
    at the cheapest known price (so "unknown" is never "free")."""
    known = [p for r in grades if (p := _blended(by_ref[r])) is not None and p > 0]
    floor = min(known, default=Decimal(1))

    def value(ref: str) -> tuple[float, str]:
        price = _blended(by_ref[ref])
        price = price if price is not None and price > 0 else floor
        return grades[ref] / float(price), ref

    return max(grades, key=value)


def pick(task: TaskType, confidence: float, tier: Tier, needs: Needs,
         entries: Sequence[CatalogEntry], defaults: Defaults, grades: Grades,
         global_default: str | None) -> AutoPick:
    """See the module docstring."""
    fit = adequate(entries, needs)
    if not fit:
        raise NoAdequateModel(
            f"auto found no usable model for this {task} turn: it needs a model that "
            f"{needs.describe()}; name a model instead, or ask an administrator to "
            "enable one", param="model")
    by_ref = {e.ref: e for e in fit}
    graded = grades.for_task(task, list(by_ref))
    graded = {ref: g for ref, g in graded.items() if ref in by_ref}

    def chose(ref: str, why: str) -> AutoPick:
        return AutoPick(task, confidence, tier, ref, why)

    if tier == "cheap":
        return chose(_cheapest(fit).ref, f"cheapest model that fits this {task} turn")
    if tier == "best":
        if graded:
            return chose(max(graded, key=lambda r: (graded[r], r)),
                         f"best graded for {task}")
        return chose(_most_capable(fit).ref,
                     f"most capable model that fits (no grades for {task} yet)")
    skipped: list[str] = []
    for ref, why in ((defaults.user.get(task), f"your default for {task}"),
                     (defaults.admin.get(task), f"task default for {task}")):
        if not ref:
            continue
        if ref in by_ref:
            return chose(ref, why)
        skipped.append(ref)
    note = f" ({', '.join(skipped)} cannot take this turn)" if skipped else ""
    if graded:
        return chose(_per_cost(graded, by_ref), f"best graded per cost for {task}{note}")
    if global_default and global_default in by_ref:
        return chose(global_default, f"the default model{note}")
    return chose(_cheapest(fit).ref, f"cheapest model that fits{note}")


__all__ = ["AUTO_REFS", "AutoPick", "Defaults", "Grades", "NoAdequateModel", "NoGrades",
           "Needs", "StaticGrades", "Tier", "adequate", "auto_tier", "pick"]
