"""Auto as a routing step of the one pipeline (issue 16 item 3; decision 0114).

``AutoRouter`` wraps the process's router (``services.router.FallbackRouter``): a call
whose model is ``auto``, ``auto:cheap`` or ``auto:best`` is classified (the last user
message, its images, the earlier user messages), a model is picked (``picker.pick``),
and the call goes on to the wrapped router with that model — its fallbacks, breakers,
admission and metering are the pipeline's as for any named model, so usage rows record
the real model. The pick rides back on ``Routed.auto``; the pipeline puts its reason in
the ``x-switchboard-auto`` header and on ``OpenCall.auto`` / ``Completed.auto``.

Any other model goes straight through, untouched.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from switchboard.registry import Registry
from switchboard.registry.catalog import CatalogEntry
from switchboard.services import flags
from switchboard.services.auto.picker import (
    DEFAULT_ANSWER_ROOM,
    AutoPick,
    Defaults,
    Grades,
    Needs,
    NoGrades,
    Tier,
    auto_tier,
    pick,
)
from switchboard.services.auto.tasks import HISTORY, classify
from switchboard.services.pipeline import Opener, Routed, Router
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.usage_estimate import prompt_tokens
from switchboard.spec import ChatRequest
from switchboard.spec.messages import ImagePart, TextPart

DefaultsSource = Callable[[Principal], Awaitable[Defaults]]


async def no_defaults(principal: Principal) -> Defaults:
    return Defaults(admin={}, user={})


@dataclass(frozen=True, slots=True)
class Turn:
    """What Auto reads of a turn."""

    prompt: str
    images: int
    history: tuple[str, ...]
    needs: Needs


def turn_of(request: ChatRequest) -> Turn:
    """The last user message (its text and images), up to ``HISTORY`` earlier user
    messages, and what the whole request needs of a model."""
    users = [m for m in request.messages if m.role == "user"]
    last = users[-1] if users else None
    prompt = " ".join(p.text for p in last.parts if isinstance(p, TextPart)) if last else ""
    images = sum(isinstance(p, ImagePart) for p in last.parts) if last else 0
    history = tuple(" ".join(p.text for p in m.parts if isinstance(p, TextPart))
                    for m in users[-1 - HISTORY:-1])
    any_image = any(isinstance(p, ImagePart) for m in request.messages for p in m.parts)
    room = request.max_output_tokens or DEFAULT_ANSWER_ROOM
    needs = Needs(vision=any_image, tools=bool(request.tools),
                  tokens=prompt_tokens(request) + room)
    return Turn(prompt, images, history, needs)


_catalogs: weakref.WeakKeyDictionary[Registry, list[CatalogEntry]] = (
    weakref.WeakKeyDictionary())


def chat_catalog(registry: Registry) -> list[CatalogEntry]:
    """The registry's chat models, listed once per registry (a registry is rebuilt on
    every catalog change, so this never goes stale)."""
    entries = _catalogs.get(registry)
    if entries is None:
        entries = _catalogs[registry] = [e for e in registry.catalog() if e.type == "chat"]
    return entries


class AutoRouter:
    """See the module docstring."""

    def __init__(self, inner: Router, defaults: DefaultsSource = no_defaults,
                 grades: Grades | None = None) -> None:
        self.inner = inner
        self.defaults = defaults
        self.grades: Grades = grades if grades is not None else NoGrades()

    async def choose(self, principal: Principal, tier: Tier, turn: Turn,
                     registry: Registry) -> AutoPick:
        """The model for ``turn`` (the preview endpoint asks this too). Refused with
        ``FeatureDisabled`` when an admin turned Auto off for ``principal``."""
        flags.require("auto_model", principal)
        found = classify(turn.prompt, images=turn.images, history=turn.history)
        return pick(found.task, found.confidence, tier, turn.needs, chat_catalog(registry),
                    await self.defaults(principal), self.grades, registry.default_model_ref)

    def route(self, spec: CallSpec, registry: Registry,
              open_one: Opener) -> Coroutine[Any, Any, Routed]:
        """The inner router's own coroutine when the call named its model (every call
        but an ``auto`` one: no coroutine of ours around it, issue 12, fifth pass)."""
        tier = auto_tier(spec.model)
        if tier is None or not isinstance(spec.request, ChatRequest):
            return self.inner.route(spec, registry, open_one)
        return self._auto(spec, tier, registry, open_one)

    async def _auto(self, spec: CallSpec, tier: Tier, registry: Registry,
                    open_one: Opener) -> Routed:
        assert isinstance(spec.request, ChatRequest)  # ``route`` checked it
        chosen = await self.choose(spec.principal, tier, turn_of(spec.request), registry)
        routed = await self.inner.route(replace(spec, model=chosen.ref), registry, open_one)
        routed.auto = chosen
        return routed


def preview_turn(prompt: str, *, images: int = 0, history: Sequence[str] = (),
                 tools: bool = False, tokens: int = 0) -> Turn:
    """A turn being typed (the composer's preview): its size is estimated by the
    caller, or from the prompt (4 characters a token)."""
    size = tokens or (len(prompt) + sum(len(h) for h in history)) // 4
    return Turn(prompt, images, tuple(history)[-HISTORY:],
                Needs(vision=images > 0, tools=tools, tokens=size + DEFAULT_ANSWER_ROOM))


__all__ = ["AutoRouter", "DefaultsSource", "Turn", "chat_catalog", "no_defaults",
           "preview_turn", "turn_of"]
