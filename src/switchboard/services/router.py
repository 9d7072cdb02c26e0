"""The fallback router: which models answer a call, in which order, and how fast a
failing one gives way (issue 12, items 4 and 5; decision 0064).

It plugs into the pipeline's ``Router`` seam (``services.pipeline``). For one call:

1. **Candidates**: the model asked for (or the default), then the request's own
   fallbacks (``models: [...]`` on ``/v1``, ``fallbacks`` in the chat API), then the
   catalog's chain of the model asked for (``provider_models.fallbacks``), each model
   once. A request's fallback that names no model is the caller's mistake, said at once;
   a catalog ref that no longer resolves (the model was deleted or disabled since) is
   skipped and logged — a stale chain must not fail a call.
2. **Breakers** (``services.breakers``), per provider instance: consulted before each
   candidate; an open breaker skips it (straight to the next one, no upstream call) and
   is fed after the attempt — success at the first event, failure on an error that says
   the provider is unwell. With a key pool, each key has its breaker too: the pool skips
   a key whose breaker is open (``ResolvedModel.skip_key``), a 429 rests only the key
   that got it (one key's quota is not the provider's health), and when every key is
   resting the candidate is skipped like an open provider. When every candidate is
   skipped or has failed, the call ends with the last error (an open breaker's is a 503
   saying when it is tried again).
3. **Failing fast** when another model can answer (``rest`` is not empty):
   - the candidate's retries get a **budget** (``retry_budget`` seconds of waiting in
     all; a ``Retry-After`` longer than that is not waited for), so a failover costs at
     most that over the fallback's own first byte, not a stack of backoffs;
   - a **first-byte deadline** (``first_byte_deadline``): a streaming candidate that has
     not started its answer by then — the vendor's response has not begun — is given
     up and counts as a timeout. It is not a deadline on the first *token*: a reasoning
     model may think for a minute after the response began, and that is not a failure.
     Non-streaming calls have no such deadline (their first byte is the whole answer).
   The last candidate gets the model's full retry policy and timeouts: nobody is left
   to fail over to.
4. **Context length**: after a prompt too long for a model whose context window is
   known, only candidates with a LARGER known window (or an unknown one: the vendor
   decides) are tried; the others would fail the same way.

What may fall back is ``falls_back`` (the pipeline's rule): a retryable vendor failure or
a prompt too long. A bad request, a refusal, a missing key end the call as they are.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from switchboard.config import Settings
from switchboard.registry import Registry, ResolvedModel
from switchboard.registry.keypool import PoolKey
from switchboard.services.breakers import Breaker, Breakers, Clock, State
from switchboard.services.pipeline import Attempt, Opener, Routed, falls_back
from switchboard.services.policy import CallSpec
from switchboard.spec import (
    ContextLengthError,
    MissingApiKeyError,
    OverloadedError,
    ProviderError,
    RateLimitError,
    SwitchboardError,
    UpstreamTimeoutError,
)

log = logging.getLogger("switchboard.router")

DEFAULT_FIRST_BYTE_DEADLINE = 15.0
DEFAULT_RETRY_BUDGET = 1.0


@dataclass(frozen=True, slots=True)
class RouterSettings:
    first_byte_deadline: float = DEFAULT_FIRST_BYTE_DEADLINE
    """Seconds a streaming candidate with a successor has to begin its response."""
    retry_budget: float = DEFAULT_RETRY_BUDGET
    """Seconds of retry waits a candidate with a successor may spend."""


def process_router(settings: Settings, breakers: Breakers | None = None) -> FallbackRouter:
    """THE router a process's pipeline uses (the server's ``AppState``, the CLI): one
    place, so every surface fails over the same way."""
    return FallbackRouter(breakers if breakers is not None else Breakers(),
                          RouterSettings(first_byte_deadline=settings.first_byte_deadline))


class BreakerOpen(OverloadedError):
    """A candidate skipped because its provider's breaker is open (no upstream call).
    If it was the last one, the caller gets a 503 saying when it is tried again."""

    code = "provider_paused"


def _context_window(model: ResolvedModel) -> int | None:
    return model.info.context_window if model.info is not None else None


def _unwell(error: SwitchboardError) -> bool:
    """Does ``error`` say the provider itself is failing (what breakers count)?"""
    return (isinstance(error, ProviderError) and error.retryable
            and not isinstance(error, ContextLengthError | BreakerOpen))


class FallbackRouter:
    """See the module docstring. One per process (its breakers are the process's)."""

    def __init__(self, breakers: Breakers, settings: RouterSettings | None = None,
                 clock: Clock = time.monotonic) -> None:
        self.breakers = breakers
        self.settings = settings or RouterSettings()
        self.clock = clock

    def candidates(self, spec: CallSpec, registry: Registry) -> list[ResolvedModel]:
        """The models to try, in order, each once (see the module docstring)."""
        first = registry.resolve(spec.model)
        chosen = [first]
        seen = {first.ref}
        for ref in spec.fallbacks:
            model = registry.resolve(ref)  # the caller's own list: a bad ref is an error
            if model.ref not in seen:
                seen.add(model.ref)
                chosen.append(model)
        for ref in registry.fallbacks_of(first):
            try:
                model = registry.resolve(ref)
            except SwitchboardError as exc:
                log.warning("fallback %s of %s skipped: %s", ref, first.ref, exc.message)
                continue
            if model.ref not in seen:
                seen.add(model.ref)
                chosen.append(model)
        return chosen

    async def route(self, spec: CallSpec, registry: Registry, open_one: Opener) -> Routed:
        candidates = self.candidates(spec, registry)
        failed: list[tuple[str, SwitchboardError]] = []
        too_long_for: int | None = None  # the largest known window a prompt overflowed
        last_error: SwitchboardError | None = None
        for i, model in enumerate(candidates):
            has_next = i < len(candidates) - 1
            window = _context_window(model)
            if too_long_for is not None and window is not None and window <= too_long_for:
                continue  # this prompt is too long for it as well
            breaker = self.breakers.get(model.provider_name)
            if not breaker.allow():
                last_error = self._paused(model, breaker)
                failed.append((model.ref, last_error))
                continue
            try:
                attempt = await self._attempt(spec, model, open_one, breaker,
                                              fail_fast=has_next)
            except SwitchboardError as exc:
                if not falls_back(exc):
                    raise
                failed.append((model.ref, exc))
                last_error = exc
                if isinstance(exc, ContextLengthError) and window is not None:
                    too_long_for = max(too_long_for or 0, window)
                if has_next:
                    log.info("%s failed before its first byte (%s); falling back",
                             model.ref, exc.code)
                continue
            return Routed(attempt, failed)
        assert last_error is not None  # there is always a first candidate
        if failed and failed[-1][1] is last_error:
            failed.pop()  # the error that ends the call is raised, not listed
        raise last_error

    async def _attempt(self, spec: CallSpec, model: ResolvedModel, open_one: Opener,
                       breaker: Breaker, *, fail_fast: bool) -> Attempt:
        """One candidate, with the breakers told how it went."""
        if fail_fast:
            model = dataclasses.replace(model, policy=dataclasses.replace(
                model.policy, budget=self.settings.retry_budget))
        keys = _KeyBreakers(self.breakers, model.provider_name)
        if model.keys is not None:
            model = dataclasses.replace(model, skip_key=keys.skip, key_id=None)
        deadline = self.settings.first_byte_deadline if fail_fast and spec.stream else None
        try:
            if deadline is None:
                attempt = await open_one(model)
            else:
                attempt = await _within(open_one(model), deadline, model)
        except MissingApiKeyError as exc:
            keys.done(model.key_id)
            breaker.release()
            if keys.skipped:  # the keys left were all paused: a fallback may answer
                raise keys.paused(model) from exc
            raise
        except SwitchboardError as exc:
            key = keys.done(model.key_id)
            if isinstance(exc, RateLimitError) and key is not None:
                key.failure(exc.code)  # one key's quota: that key rests, not the provider
                breaker.release()
            elif _unwell(exc):
                breaker.failure(exc.code)
                if key is not None:
                    key.release()
            else:
                breaker.release()
                if key is not None:
                    key.release()
            raise
        except BaseException:
            key = keys.done(model.key_id)
            breaker.release()  # cancelled (the client went away): says nothing
            if key is not None:
                key.release()
            raise
        key = keys.done(model.key_id)
        breaker.success()
        if key is not None:
            key.success()
        return attempt

    def _paused(self, model: ResolvedModel, breaker: Breaker) -> BreakerOpen:
        snapshot = breaker.snapshot(model.provider_name, None)
        wait = snapshot.retry_in
        when = f" it is tried again in {wait:.0f} s" if wait else " it is tried again soon"
        return BreakerOpen(
            f"{model.ref}: provider {model.provider_name!r} is paused after repeated "
            f"failures;{when}", provider=model.provider_name, retry_after=wait or None)


class _KeyBreakers:
    """The per-key breakers of one attempt on a provider with a key pool: ``skip`` is
    the pool's filter (an open key is skipped; a half-open one is let through as its
    probe), ``done`` says which key the attempt ended with and gives back the probes
    claimed for keys the pool did not choose."""

    __slots__ = ("breakers", "provider", "claimed", "skipped")

    def __init__(self, breakers: Breakers, provider: str) -> None:
        self.breakers = breakers
        self.provider = provider
        self.claimed: dict[int, Breaker] = {}
        self.skipped: list[Breaker] = []

    def skip(self, key: PoolKey) -> bool:
        breaker = self.breakers.get(self.provider, str(key.id))
        if breaker.state is State.CLOSED or key.id in self.claimed:
            return False
        if breaker.allow():
            self.claimed[key.id] = breaker
            return False
        self.skipped.append(breaker)
        return True

    def done(self, key_id: int | None) -> Breaker | None:
        """The breaker of the key the attempt used (None: no pool key), after giving
        back every other probe this attempt claimed."""
        for other, breaker in self.claimed.items():
            if other != key_id:
                breaker.release()
        if key_id is None:
            return None
        return self.claimed.get(key_id) or self.breakers.get(self.provider, str(key_id))

    def paused(self, model: ResolvedModel) -> BreakerOpen:
        waits = [b.snapshot(self.provider, None).retry_in for b in self.skipped]
        wait = min((w for w in waits if w is not None), default=None)
        return BreakerOpen(
            f"{model.ref}: every key of provider {self.provider!r} is paused after "
            "repeated failures", provider=self.provider, retry_after=wait or None)


async def _within(opening: Coroutine[Any, Any, Attempt], deadline: float,
                  model: ResolvedModel) -> Attempt:
    """``opening`` if it produces its first event within ``deadline`` seconds, else an
    ``UpstreamTimeoutError``. Not ``asyncio.wait_for``: when the answer arrives just as
    the deadline passes, wait_for (before Python 3.12) may drop it, and an opened attempt
    dropped unclosed would end the whole call when it is collected; here an attempt that
    made it is kept, and our own cancellation is never mistaken for the deadline."""
    task = asyncio.ensure_future(opening)
    try:
        done, _ = await asyncio.wait({task}, timeout=deadline)
    except BaseException:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise
    if done:
        return task.result()
    task.cancel()
    try:
        return await task  # it finished as it was being cancelled: it answered
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we are cancelled ourselves (the client went away)
        raise UpstreamTimeoutError(
            f"{model.ref}: the response had not begun after {deadline:g} s",
            provider=model.provider_name) from None
