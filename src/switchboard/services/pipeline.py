"""The one call pipeline every surface calls (issue 12, decisions 0053 and 0054).

``/v1/chat/completions``, ``/api/chat`` and ``switchboard chat`` build a ``CallSpec`` and
hand it here; they only parse their own input and render their own output. The steps,
in order (each in ONE place):

1. **routing** — a ``Router`` turns the spec into candidates (``spec.model``, then
   ``spec.fallbacks``) and opens them in order through the pipeline's *opener* until one
   produces its first event. ``SequentialRouter`` is the default; the ``fallback`` lane
   swaps in one with catalog chains and circuit breakers without touching a surface.
2. **per candidate** (the opener, ``_Call.attempt``): the surface's ``prepare`` (the
   request adapted to the candidate's provider kind), the capability check (every
   surface refuses images to a text-only model the same way), **admission** — once per
   call, priced at the first candidate tried — then the model's stream, which carries
   the one retry layer (``upstream.retrying_stream``: retries before the first event),
   wrapped in **metering** (``services.metering.metered``: one outcome, so one usage row,
   per upstream attempt, ``source`` = the surface).
3. **settling** — every grant is settled exactly once with the outcome of the attempt
   that answered (or of the last that failed; ``None`` if no attempt was made), however
   the call ends: finished, failed, the client gone, cancelled. The surface's own
   ``on_done`` (the chat saves its answer there) gets the same outcome at the same time.

Non-streaming calls (``complete``) take the same steps; the vendor's non-streaming
answer is replayed as events through the same metering, and the folded result is read
from metering's own collector — folded once.

Where the policies come from: ``default_policies`` below is the ONE list the rate-limit
and budget steps are added to (docs/howto/add-a-policy-step.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import partial
from typing import Protocol, TypeVar

from switchboard.config import Settings
from switchboard.db import Database
from switchboard.providers.offline import tokens as heuristic
from switchboard.providers.offline.embed import request_tokens
from switchboard.registry import Registry, ResolvedModel
from switchboard.services.auto.picker import AutoPick
from switchboard.services.budget_policy import BudgetPolicy
from switchboard.services.keys import DatabaseKeyEvents
from switchboard.services.metering import (
    CallOutcome,
    metered,
    metered_embed,
    metered_fold,
    metered_images,
    total_usage,
)
from switchboard.services.metrics import NULL_METRICS, Hooks
from switchboard.services.policy import (
    Admission,
    AdmissionPolicy,
    CallSpec,
    Clock,
    Grant,
    Refused,
    wall_clock,
)
from switchboard.services.ratelimits import rate_limit_policy
from switchboard.services.tracing import CallTrace, Tracer
from switchboard.services.usage import UsageRecorder
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    ChatResult,
    Collector,
    ContextLengthError,
    EmbeddingRequest,
    EmbeddingResult,
    ImagePart,
    ImageRequest,
    ImageResult,
    InvalidRequestError,
    ProviderError,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    SwitchboardError,
    Usage,
    image_cost,
)
from switchboard.spec.choices import split_choices

log = logging.getLogger("switchboard.pipeline")

MAX_FALLBACKS = 5
"""Per-request fallbacks (``models`` on ``/v1``, ``fallbacks`` on the chat API): each one
may cost a whole upstream attempt, so a request names at most this many."""
MAX_MODEL_REF = 400
"""The longest model ref a fallback entry may be (as ``ChatInput.model``)."""
DEFAULT_MAX_OUTPUT = 4096
"""Output tokens assumed for a reservation when neither the request nor the catalog
says (``Admission.max_output_tokens``)."""

Events = AsyncGenerator[StreamEvent, None]
RegistrySource = Callable[[], Awaitable[Registry]]
Recorder = Callable[[CallSpec, CallOutcome], None]
"""Records one upstream attempt (a usage row); synchronous, like ``metered``'s
``on_done``, because it runs in ``finally`` blocks."""
Prepare = Callable[[ResolvedModel, ChatRequest], tuple[ChatRequest, list[CallWarning]]]
"""The surface's request for one candidate (``/v1`` adds vendor-only parameters for the
candidate's provider kind) and the warnings that go with it."""
Settle = Callable[[CallOutcome | None], None]
Later = list[Callable[[], None]]
"""Where a surface takes a call's accounting to run after its answer is sent
(``complete_n(..., later=...)``): the surface MUST run every item, in order, however
the request ends (``/v1``: ``api.after_response``)."""


def default_policies(settings: Settings, db: Database, *,
                     clock: Clock = wall_clock) -> list[AdmissionPolicy]:
    """THE list of admission steps, in the order they run (rate limits before budgets:
    a call refused by a rate limit should not hold a budget reservation even for a
    moment). Every surface's pipeline is built from it (``AppState``, the CLI).

    Add a policy here — one line — and every surface enforces it (see
    docs/howto/add-a-policy-step.md)."""
    policies: list[AdmissionPolicy] = []
    limits = rate_limit_policy(settings, db, clock=clock)  # None: SWITCHBOARD_RATE_LIMITS=off
    if limits is not None:
        policies.append(limits)
    policies.append(BudgetPolicy(db, timezone=settings.budget_timezone, clock=clock))
    return policies


def usage_recorder(usage: UsageRecorder, metrics: Hooks = NULL_METRICS) -> Recorder:
    """The production recorder: one ``usage_events`` row per attempt, named after the
    surface and the caller, and the same attempt counted in the process's metrics
    (metering's outcome is the one place a call's result is known)."""
    attempt = metrics.attempt
    record_row = usage.record_row

    def record(spec: CallSpec, outcome: CallOutcome) -> None:
        principal = spec.principal
        # user id 0: the local operator (the CLI), who has no account row.
        user_id = principal.user_id or None
        record_row(outcome.usage_row(spec.surface, user_id, principal.token_id))
        attempt(spec.surface, outcome, user_id)
    return record


def check_capabilities(model: ResolvedModel, request: ChatRequest) -> None:
    """Refuse only what the catalog KNOWS the model lacks (``False``); an unknown
    capability (``None``) is the vendor's to accept or refuse (decision 0036)."""
    if model.info is None:
        return  # a model the catalog does not know yet: let the vendor decide
    if model.capabilities.vision is False and any(
        isinstance(p, ImagePart) for m in request.messages for p in m.parts
    ):
        raise InvalidRequestError(
            f"model '{model.ref}' does not accept images; choose a vision-capable model "
            "(GET /v1/models lists them)", param="messages")
    if request.tools and model.capabilities.tools is False:
        raise InvalidRequestError(f"model '{model.ref}' does not support tools",
                                  param="tools")


def falls_back(error: SwitchboardError) -> bool:
    """May the next candidate answer after ``error`` (raised before the first byte)?
    A retryable vendor failure (already retried by the model's own retry layer) or a
    prompt too long for this model's context; never the caller's mistake or a refusal."""
    return isinstance(error, ContextLengthError) or (
        isinstance(error, ProviderError) and error.retryable)


# -- the router seam ----------------------------------------------------------------------------

@dataclass(slots=True)
class Attempt:
    """One candidate, opened: its first event is in hand, the rest is in ``events``."""

    model: ResolvedModel
    request: ChatRequest
    first: StreamEvent
    events: Events
    collector: Collector
    warnings: list[CallWarning]


class Opener(Protocol):
    async def __call__(self, model: ResolvedModel) -> Attempt:
        """Open ``model`` for the call (admission, metering included) or raise."""
        ...


@dataclass(slots=True)
class Routed:
    attempt: Attempt
    failed: list[tuple[str, SwitchboardError]] = field(default_factory=list)
    """The candidates that failed before the one that answered, in order."""
    auto: AutoPick | None = None
    """Set when the call asked for ``auto``: the model chosen and why
    (``services.auto.route.AutoRouter``)."""


class Router(Protocol):
    """Routing and resilience across candidates: which models, in which order."""

    async def route(self, spec: CallSpec, registry: Registry, open_one: Opener) -> Routed:
        """Open candidates in order with ``open_one``; return the first that produced
        its first event, or raise the error that ends the call."""
        ...


class SequentialRouter:
    """``spec.model`` (None: the default model), then ``spec.fallbacks`` in order; the
    next one is tried only on an error that ``falls_back`` (before the first byte).

    Every ref is resolved up front: a fallback that names no model is the caller's
    mistake, said at once rather than only when the first model fails."""

    async def route(self, spec: CallSpec, registry: Registry, open_one: Opener) -> Routed:
        models = [registry.resolve(spec.model)]
        models.extend(registry.resolve(ref) for ref in spec.fallbacks)
        failed: list[tuple[str, SwitchboardError]] = []
        last = len(models) - 1
        for i, model in enumerate(models):
            try:
                return Routed(await open_one(model), failed)
            except SwitchboardError as exc:
                if i == last or not falls_back(exc):
                    raise
                log.info("%s failed before its first byte (%s); trying %s", model.ref,
                         exc.code, models[i + 1].ref)
                failed.append((model.ref, exc))
        raise AssertionError("unreachable: the last candidate raises")


# -- what surfaces get back ---------------------------------------------------------------------

@dataclass(slots=True)
class OpenCall:
    """A streaming call whose first event arrived. Iterate ``events`` to the end or
    ``aclose()`` it: that is what settles the call."""

    model: ResolvedModel
    """The model that answered (after fallbacks, if any)."""
    request: ChatRequest
    first: StreamEvent
    events: Events
    collector: Collector
    """The answer so far (the chat saves its progress from it)."""
    headers: dict[str, str]
    """``x-switchboard-model`` and every grant's headers (``x-ratelimit-*``)."""
    warnings: list[CallWarning]
    failed: list[tuple[str, SwitchboardError]]
    auto: AutoPick | None = None
    """The ``auto`` pick (None: the caller named the model)."""

    async def aclose(self) -> None:
        await self.events.aclose()


@dataclass(slots=True)
class Completed:
    """A non-streaming call's folded answer."""

    model: ResolvedModel
    result: ChatResult
    headers: dict[str, str]
    warnings: list[CallWarning]
    failed: list[tuple[str, SwitchboardError]]
    auto: AutoPick | None = None


@dataclass(slots=True)
class Embedded:
    """An embedding call's vectors."""

    model: ResolvedModel
    result: EmbeddingResult
    headers: dict[str, str]


@dataclass(slots=True)
class Imaged:
    """An image call's pictures, and what they cost (``None``: unknown)."""

    model: ResolvedModel
    result: ImageResult
    headers: dict[str, str]
    cost: Decimal | None


_R = TypeVar("_R")
_Plan = tuple[Admission, Callable[[Callable[[CallOutcome], None]], Awaitable[_R]]]
"""What a one-shot call admits, and the metered call to run with the outcome's sink."""


# -- the pipeline -------------------------------------------------------------------------------

class Pipeline:
    """See the module docstring. One per process (``AppState.pipeline``, the CLI's own)."""

    def __init__(self, registry_source: RegistrySource, admission: Sequence[AdmissionPolicy],
                 router: Router, recorder: Recorder, clock: Clock = wall_clock, *,
                 metrics: Hooks = NULL_METRICS, tracer: Tracer | None = None) -> None:
        self.registry_source = registry_source
        self.admission = list(admission)
        self.router = router
        self.recorder = recorder
        self.clock = clock
        self.metrics = metrics
        """Refusals and streams in flight (attempts are counted by the recorder)."""
        self.tracer = tracer
        """None (no tracing configured): no trace object is made for any call."""

    async def open(self, spec: CallSpec, *, prepare: Prepare | None = None,
                   on_done: Settle | None = None) -> OpenCall:
        """Route ``spec`` until a model gives its first event. Raises ``Refused`` or the
        error that ended routing (grants settled, usage recorded)."""
        registry = await self.registry_source()
        return await _Call(self, spec, _Ledger(self, spec, 1), prepare, on_done,
                           stream=True).open(registry)

    async def open_n(self, spec: CallSpec, n: int, *,
                     prepare: Prepare | None = None) -> list[OpenCall]:
        """``n`` choices (``/v1``'s ``n``): ONE admission (reserving for all n), n routed
        calls opened concurrently; the grants are settled once the last one ends, with
        the n outcomes summed (decision 0054). If one fails before its first event, the
        others are closed and its error raised."""
        if n == 1:
            return [await self.open(spec, prepare=prepare)]
        registry = await self.registry_source()
        if _native(registry, spec):
            return await _Choices(self, spec, prepare, n, stream=True).open_all(registry)
        ledger = _Ledger(self, spec, n)
        got = await asyncio.gather(
            *(_Call(self, spec, ledger, prepare, None, stream=True).open(registry)
              for _ in range(n)), return_exceptions=True)
        failure = next((g for g in got if isinstance(g, BaseException)), None)
        opened = [g for g in got if isinstance(g, OpenCall)]
        if failure is not None:
            for call in opened:
                await call.aclose()
            raise failure
        return opened

    async def complete(self, spec: CallSpec, *, prepare: Prepare | None = None,
                       on_done: Settle | None = None) -> Completed:
        """The same steps without streaming: the vendor's whole answer, folded once.
        A call that produced nothing but an error raises it (after the fallbacks)."""
        registry = await self.registry_source()
        return await _Call(self, spec, _Ledger(self, spec, 1), prepare, on_done,
                           stream=False).complete(registry)

    async def complete_n(self, spec: CallSpec, n: int, *, prepare: Prepare | None = None,
                         later: Later | None = None) -> list[Completed]:
        """``n`` non-streaming choices; admission as in ``open_n``.

        ``later`` (one call, ``n == 1``): the call's accounting — each attempt's usage
        row and metrics, the trace, the settling of every grant — is appended to it
        instead of done before returning, for the surface to run once its answer is
        sent (the caller waits for none of it; issue 12, fifth pass). The surface must
        run it however the request ends. With ``n > 1`` it is done here, as before."""
        registry = await self.registry_source()
        if n == 1:  # ``complete``, without one more coroutine per call
            return [await _Call(self, spec, _Ledger(self, spec, 1), prepare, None,
                                stream=False, later=later).complete(registry)]
        if _native(registry, spec):
            return await _Choices(self, spec, prepare, n, stream=False).complete_all(registry)
        ledger = _Ledger(self, spec, n)
        got = await asyncio.gather(
            *(_Call(self, spec, ledger, prepare, None, stream=False).complete(registry)
              for _ in range(n)), return_exceptions=True)
        failure = next((g for g in got if isinstance(g, BaseException)), None)
        if failure is not None:
            raise failure
        return [g for g in got if isinstance(g, Completed)]

    async def embed(self, spec: CallSpec) -> Embedded:
        """An embedding call (``spec.request`` is an ``EmbeddingRequest``): the same
        admission, metering (``metered_embed``: one outcome, one usage row) and
        settling as a chat call, but ONE model: no fallbacks, because vectors of two
        models live in different spaces and an index mixing them silently stops finding
        things (decision 0076). Type, key and input are checked before admission."""
        request = spec.request
        if not isinstance(request, EmbeddingRequest):
            raise TypeError("Pipeline.embed needs an EmbeddingRequest")

        def plan(model: ResolvedModel) -> _Plan[EmbeddingResult]:
            model.embedder(request)
            tokens = request_tokens(request)
            cost = model.cost(Usage(input_tokens=tokens, output_tokens=0))
            return (Admission(spec, model, tokens, 0, cost),
                    lambda done: metered_embed(model, request, done))

        model, result, headers, _ = await self._single_call(spec, "embeddings", plan)
        return Embedded(model, result, headers)

    async def images(self, spec: CallSpec) -> Imaged:
        """An image call (``spec.request`` is an ``ImageRequest``): the same admission,
        reserving the price of all ``n`` pictures at the settled size and quality,
        metering (``metered_images``: one outcome, one usage row with the pictures'
        cost) and settling as a chat call. One model, no fallbacks: a fallback would
        draw a different picture at a different price than the one admitted. Type, key
        and what the model makes are checked before admission."""
        request = spec.request
        if not isinstance(request, ImageRequest):
            raise TypeError("Pipeline.images needs an ImageRequest")

        def plan(model: ResolvedModel) -> _Plan[ImageResult]:
            settled = model.image_request(request)
            reserved = image_cost(model.image_capabilities, model.price, settled.size,
                                  settled.quality, settled.n)
            return (Admission(spec, model, 0, 0, reserved),
                    lambda done: metered_images(model, settled, done))

        model, result, headers, outcome = await self._single_call(spec, "generate_content",
                                                                  plan)
        return Imaged(model, result, headers, outcome.cost if outcome is not None else None)

    async def _single_call(self, spec: CallSpec, operation: str,
                           plan: Callable[[ResolvedModel], _Plan[_R]]
                           ) -> tuple[ResolvedModel, _R, dict[str, str], CallOutcome | None]:
        """The skeleton of a one-model, one-shot call (embeddings, images): resolve
        ``spec.model``; ``plan`` checks what the model can do (raising before anything
        is admitted) and says what to admit and how to run the metered call; admit;
        run; settle every grant exactly once with the call's outcome however it ends.
        Returns the model, the result, the response headers and the outcome.
        ``operation`` names the call on its trace span (GenAI conventions)."""
        trace = self.tracer.call(spec, operation) if self.tracer is not None else None
        outcomes: list[CallOutcome] = []
        grants: list[Grant] = []

        def done(outcome: CallOutcome) -> None:
            self.recorder(spec, outcome)
            outcomes.append(outcome)
            if trace is not None:
                trace.attempt(outcome)

        try:
            model = (await self.registry_source()).resolve(spec.model)
            admission, run = plan(model)
            grants = await self._admit(admission)
            result = await run(done)
        except BaseException as exc:
            _carry(exc, _grant_headers(grants))
            if trace is not None:
                trace.fail(exc)
            raise
        finally:
            for grant in grants:
                _settle(grant.settle, outcomes[0] if outcomes else None)
            if trace is not None:
                trace.end()
        headers = _grant_headers(grants)
        headers["x-switchboard-model"] = model.ref
        return model, result, headers, outcomes[0] if outcomes else None

    async def drain(self) -> None:
        """Wait for what the policies still write after their calls ended (a budget's
        settlement is spawned: ``settle`` cannot await), and for the marks of keys a
        vendor refused during a call (``services.keys.DatabaseKeyEvents``). Called once
        when the process stops: the server's lifespan, the end of a CLI command."""
        for policy in self.admission:
            drain = getattr(policy, "drain", None)  # optional: only writers have one
            if drain is not None:
                await drain()
        await DatabaseKeyEvents.drain()  # keys the vendor refused, being marked (0066)

    def admit(self, spec: CallSpec, model: ResolvedModel, request: ChatRequest,
              choices: int = 1) -> Awaitable[list[Grant]]:
        """Every policy's grant, in order; if one refuses, the grants already given are
        settled with ``None`` and the refusal is raised. (Returns ``_admit``'s
        coroutine rather than awaiting it in one of its own: one coroutine per call.)"""
        if not self.admission:
            return self._admit(None)  # the hot path without limits: no estimate
        max_output = (request.max_output_tokens
                      or (model.info.max_output_tokens if model.info is not None else None)
                      or DEFAULT_MAX_OUTPUT)
        estimated = heuristic.input_tokens(request)
        reserved = model.cost(Usage(input_tokens=estimated * choices,
                                    output_tokens=max_output * choices))
        return self._admit(Admission(spec, model, estimated, max_output, reserved))

    async def _admit(self, admission: Admission | None) -> list[Grant]:
        """Run every policy on ``admission`` (see ``admit``; None: there is none)."""
        if not self.admission or admission is None:
            return []
        grants: list[Grant] = []
        try:
            for policy in self.admission:
                grants.append(await policy.admit(admission))
        except BaseException as exc:
            for grant in grants:
                _settle(grant.settle, None)
            if isinstance(exc, Refused):
                model = admission.model
                self.metrics.refused(admission.spec.surface,
                                     model.provider_name if model is not None else "",
                                     model.model_id if model is not None else "", exc.code)
            raise
        return grants


def _carry(exc: BaseException, headers: Mapping[str, str]) -> None:
    """Give a call's error the headers its grants earned (``x-ratelimit-*``), so the
    error response carries them as a success would: OpenAI sends them on every response,
    and a client pacing itself by them must not lose them on a 502. Nothing to add when
    admission refused (the refusal carries its own) or never ran."""
    if headers and isinstance(exc, SwitchboardError):
        exc.call_headers = {**headers, **exc.call_headers}


def _grant_headers(grants: Sequence[Grant]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for grant in grants:
        headers.update(grant.headers)
    return headers


def _settle(settle: Settle, outcome: CallOutcome | None) -> None:
    """A grant must not raise (it runs in ``finally`` blocks); if one does anyway, the
    others are still settled and the bug is logged, not sent to the caller."""
    try:
        settle(outcome)
    except Exception:
        log.exception("settling a grant failed")


def combined(outcomes: Sequence[CallOutcome]) -> CallOutcome:
    """n choices' outcomes as one (for the grants): tokens and cost summed (cost None if
    any is unknown), the first outcome's other fields."""
    first = outcomes[0]
    if len(outcomes) == 1:
        return first

    usage = total_usage([o.result.usage for o in outcomes])
    cost: Decimal | None = Decimal(0)
    for outcome in outcomes:
        cost = None if cost is None or outcome.cost is None else cost + outcome.cost
    result = replace(first.result, usage=usage)
    return replace(first, result=result, cost=cost)


class _Ledger:
    """What the n calls of one request share: one admission, one settlement."""

    __slots__ = ("pipeline", "pending", "choices", "grants", "refusal", "outcomes", "_lock",
                 "trace")

    def __init__(self, pipeline: Pipeline, spec: CallSpec, n: int,
                 choices: int | None = None) -> None:
        self.pipeline = pipeline
        self.trace: CallTrace | None = (pipeline.tracer.call(spec)
                                        if pipeline.tracer is not None else None)
        """The request's trace (None: tracing off), ended with the last call."""
        self.pending = n
        self.choices = n if choices is None else choices
        """Choices to reserve for: n calls of one choice, or one call of n (0084)."""
        self.grants: list[Grant] | None = None
        self.refusal: BaseException | None = None
        self.outcomes: list[CallOutcome] = []
        self._lock: asyncio.Lock | None = asyncio.Lock() if n > 1 else None

    @property
    def headers(self) -> dict[str, str]:
        return _grant_headers(self.grants or ())

    async def admit(self, spec: CallSpec, model: ResolvedModel, request: ChatRequest) -> None:
        if self.grants is not None:
            return
        if self._lock is None:
            self.grants = await self.pipeline.admit(spec, model, request, self.choices)
            return
        async with self._lock:  # n calls: the first one admits for all
            if self.refusal is not None:
                raise self.refusal
            if self.grants is None:
                try:
                    self.grants = await self.pipeline.admit(spec, model, request,
                                                            self.choices)
                except BaseException as exc:
                    self.refusal = exc
                    raise

    def done(self, outcome: CallOutcome | None) -> None:
        """One of the n calls ended; the last one settles every grant, once."""
        if outcome is not None:
            self.outcomes.append(outcome)
        self.pending -= 1
        if self.pending:
            return
        if self.trace is not None:
            self.trace.end()
        if not self.grants:
            return
        final = combined(self.outcomes) if self.outcomes else None
        for grant in self.grants:
            _settle(grant.settle, final)


class _Call:
    """One routed call (one choice): the opener the router calls, and the settling."""

    __slots__ = ("pipeline", "spec", "ledger", "prepare", "on_done", "stream", "last",
                 "ended", "flowing", "later")

    def __init__(self, pipeline: Pipeline, spec: CallSpec, ledger: _Ledger,
                 prepare: Prepare | None, on_done: Settle | None, *, stream: bool,
                 later: Later | None = None) -> None:
        self.later = later
        """Non-streaming only: the accounting goes here, to run after the answer is
        sent (``Pipeline.complete_n``); None: done at once."""
        self.pipeline = pipeline
        self.spec = spec
        self.ledger = ledger
        self.prepare = prepare
        self.on_done = on_done
        self.stream = stream
        self.last: CallOutcome | None = None
        self.ended = False
        self.flowing = False
        """A stream handed to the surface: counted in flight until ``end``."""

    def end(self, outcome: CallOutcome | None) -> None:
        """The call is over: settle the grants and tell the surface — exactly once."""
        if self.ended:
            return
        self.ended = True
        if self.flowing:
            self.pipeline.metrics.stream_closed()
        if self.on_done is not None:
            _settle(self.on_done, outcome)
        self.ledger.done(outcome)

    def _prepared(self, model: ResolvedModel) -> tuple[ChatRequest, list[CallWarning]]:
        """One candidate's request (the surface's ``prepare``), checked; the caller
        admits it (``ledger.admit``)."""
        spec = self.spec
        if not isinstance(spec.request, ChatRequest):
            raise TypeError("an embedding or image call goes through Pipeline.embed or .images")
        request, warnings = (self.prepare(model, spec.request) if self.prepare is not None
                             else (spec.request, []))
        check_capabilities(model, request)
        return request, warnings

    async def attempt(self, model: ResolvedModel) -> Attempt:
        """The opener: one candidate, from the surface's request to its first event."""
        spec = self.spec
        request, warnings = self._prepared(model)
        await self.ledger.admit(spec, model, request)
        collector = Collector()
        opened = False
        record = self.pipeline.recorder

        trace = self.ledger.trace

        def done(outcome: CallOutcome) -> None:
            record(spec, outcome)
            if trace is not None:
                trace.attempt(outcome)
            if opened:
                self.end(outcome)
            else:
                self.last = outcome

        source = model.stream(request) if self.stream else model.generate_events(request)
        events = metered(model, source, done, request=request, collector=collector)
        try:
            first = await anext(events)
        except StopAsyncIteration:  # the retry layer always ends with an event; defensive
            raise StreamBrokenError(f"{model.ref}: empty response",
                                    provider=model.provider_name) from None
        if self.stream:
            opened = True
        return Attempt(model, request, first, events, collector, warnings)

    def fail(self, exc: BaseException) -> None:
        """Routing ended in ``exc``: end the call with the last attempt's outcome (after
        the answer, with ``later``: the error response needs only the grants' headers)."""
        if self.later is None:
            self._failed(exc)
        else:
            self.later.append(partial(self._failed, exc))
        _carry(exc, self.ledger.headers)

    def _failed(self, exc: BaseException) -> None:
        if self.ledger.trace is not None:
            self.ledger.trace.fail(exc)
        self.end(self.last)

    def flow(self) -> None:
        """The stream goes to the surface now (its end is ``end``)."""
        self.flowing = True
        self.pipeline.metrics.stream_opened()

    async def open(self, registry: Registry) -> OpenCall:
        try:
            routed = await self.pipeline.router.route(self.spec, registry, self.attempt)
        except BaseException as exc:
            self.fail(exc)
            raise
        attempt = routed.attempt
        if not self.ended:  # a stream whose end came with its first event is not flowing
            self.flow()
        return OpenCall(attempt.model, attempt.request, attempt.first, attempt.events,
                        attempt.collector, self._headers(attempt.model, routed.auto),
                        self._warnings(attempt, attempt.first, routed.failed), routed.failed,
                        routed.auto)

    async def complete(self, registry: Registry) -> Completed:
        try:
            routed = await self.pipeline.router.route(self.spec, registry, self._fold)
        except BaseException as exc:
            self.fail(exc)
            raise
        attempt = routed.attempt
        if self.later is None:
            self.end(self.last)  # the answering attempt's outcome (``_fold`` kept it)
        else:
            self.later.append(partial(self.end, self.last))
        result = attempt.collector.result()
        return Completed(attempt.model, result, self._headers(attempt.model, routed.auto),
                         self._warnings(attempt, attempt.first, routed.failed), routed.failed,
                         routed.auto)

    async def _fold(self, model: ResolvedModel) -> Attempt:
        """The non-streaming opener: the whole answer, folded by metering's collector in
        one pass (``metered_fold``: what ``attempt`` and a loop over its events did,
        without a generator layer per event); one that is nothing but an error is
        raised, so the router may fall back."""
        spec = self.spec
        request, warnings = self._prepared(model)
        await self.ledger.admit(spec, model, request)
        collector = Collector()
        record = self.pipeline.recorder
        trace = self.ledger.trace
        later = self.later

        def account(outcome: CallOutcome) -> None:
            record(spec, outcome)
            if trace is not None:
                trace.attempt(outcome)

        def done(outcome: CallOutcome) -> None:
            self.last = outcome  # ``complete`` ends the call with it
            if later is None:
                account(outcome)
            else:
                later.append(partial(account, outcome))

        first = await metered_fold(model, model.answer_events(request), done,
                                   request=request, collector=collector)
        if first is None:  # the retry layer always ends with an event; defensive
            raise StreamBrokenError(f"{model.ref}: empty response",
                                    provider=model.provider_name)
        if collector.error is not None and not collector.has_parts:
            raise collector.error  # what result() would say, without building it
        return Attempt(model, request, first, _folded(), collector, warnings)

    def _headers(self, model: ResolvedModel, auto: AutoPick | None = None) -> dict[str, str]:
        headers = self.ledger.headers
        headers["x-switchboard-model"] = model.ref
        if auto is not None:
            headers["x-switchboard-auto"] = auto.header
        return headers

    @staticmethod
    def _warnings(attempt: Attempt, first: StreamEvent,
                  failed: list[tuple[str, SwitchboardError]]) -> list[CallWarning]:
        warnings = attempt.warnings
        if isinstance(first, StreamStart) and first.warnings:
            warnings = [*warnings, *first.warnings]
        if failed:
            tried = ", ".join(f"{ref} ({error.code})" for ref, error in failed)
            warnings = [*warnings, CallWarning(
                "other", f"answered by {attempt.model.ref} after {tried} failed")]
        return warnings


async def _folded() -> Events:
    """A folded attempt's events: all consumed already (``_Call._fold``)."""
    return
    yield  # an async generator that ends at once


# -- n choices in one vendor call (decision 0084) ---------------------------------------------

def _native(registry: Registry, spec: CallSpec) -> bool:
    """``n`` goes to the vendor in ONE call when every candidate (the model and each
    fallback) takes it natively; a chain mixing kinds fans out, so a fallback answers
    in the same shape as the model it replaces. A ref that resolves to nothing is left
    to the fan-out path, which reports it."""
    try:
        models = [registry.resolve(spec.model),
                  *(registry.resolve(ref) for ref in spec.fallbacks)]
    except SwitchboardError:
        return False
    return all(model.native_choices for model in models)


class _Choices(_Call):
    """``n`` choices as ONE routed, admitted call: the vendor's one response is split
    into n event streams (``spec.choices``), each metered on its own (one usage row per
    choice: the vendor's usage on choice 0, zeros on the others, so the rows sum to
    what was billed). The grants are settled once, when the last choice ends, with the
    choices' outcomes combined. Routing, retries and fallbacks apply to the one call."""

    __slots__ = ("n", "others")

    def __init__(self, pipeline: Pipeline, spec: CallSpec, prepare: Prepare | None, n: int,
                 *, stream: bool) -> None:
        super().__init__(pipeline, spec, _Ledger(pipeline, spec, 1, choices=n), prepare,
                         None, stream=stream)
        self.n = n
        self.others: list[Attempt] = []
        """Choices 1..n-1 of the attempt that answered (choice 0 is the router's)."""

    async def attempt(self, model: ResolvedModel) -> Attempt:
        spec = self.spec
        if not isinstance(spec.request, ChatRequest):
            raise TypeError("an embedding call goes through Pipeline.embed")
        request, warnings = (self.prepare(model, spec.request) if self.prepare is not None
                             else (spec.request, []))
        check_capabilities(model, request)
        await self.ledger.admit(spec, model, request)
        n = self.n
        record = self.pipeline.recorder
        outcomes: list[CallOutcome] = []
        opened = False
        trace = self.ledger.trace

        def done(outcome: CallOutcome) -> None:
            record(spec, outcome)
            if not opened:  # failed before its first event: the one attempt's row
                self.last = outcome
                if trace is not None:
                    trace.attempt(outcome)
                return
            outcomes.append(outcome)
            if len(outcomes) == n:
                self.last = combined(outcomes)
                if trace is not None:  # one upstream call: one span, choices combined
                    trace.attempt(self.last)
                if self.stream:
                    self.end(self.last)

        source = (model.stream_choices(request, n) if self.stream
                  else model.generate_choice_events(request, n))
        collectors = [Collector() for _ in range(n)]
        streams = [metered(model, events, done, request=request, collector=collector)
                   for events, collector in zip(split_choices(source, n), collectors,
                                                strict=True)]
        try:
            first = await anext(streams[0])
        except StopAsyncIteration:
            raise StreamBrokenError(f"{model.ref}: empty response",
                                    provider=model.provider_name) from None
        opened = True
        # Every choice started now, so each one's metering ends exactly once.
        firsts = [first, *[await anext(stream) for stream in streams[1:]]]
        attempts = [Attempt(model, request, f, e, c, warnings)
                    for f, e, c in zip(firsts, streams, collectors, strict=True)]
        self.others = attempts[1:]
        if not self.stream:
            for each in attempts:
                async for _ in each.events:
                    pass
            result = collectors[0].result()
            if result.error is not None and not result.parts:
                raise result.error
        return attempts[0]

    async def open_all(self, registry: Registry) -> list[OpenCall]:
        try:
            routed = await self.pipeline.router.route(self.spec, registry, self.attempt)
        except BaseException as exc:
            self.fail(exc)
            raise
        if not self.ended:
            self.flow()
        headers = self._headers(routed.attempt.model)
        return [OpenCall(a.model, a.request, a.first, a.events, a.collector, dict(headers),
                         self._warnings(a, a.first, routed.failed), routed.failed)
                for a in (routed.attempt, *self.others)]

    async def complete_all(self, registry: Registry) -> list[Completed]:
        try:
            routed = await self.pipeline.router.route(self.spec, registry, self.attempt)
        except BaseException as exc:
            self.fail(exc)
            raise
        self.end(self.last)  # the n choices' outcomes, combined
        headers = self._headers(routed.attempt.model)
        return [Completed(a.model, a.collector.result(), dict(headers),
                          self._warnings(a, a.first, routed.failed), routed.failed)
                for a in (routed.attempt, *self.others)]
