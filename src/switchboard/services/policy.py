"""The contract between the call pipeline and its policies (issue 12, decision 0053).

Every surface (``/v1``, ``/api/chat``, ``switchboard chat``) hands its call to the one
pipeline (``services.pipeline``); the pipeline runs, in this order:

1. **admission** — each ``AdmissionPolicy`` (rate limits, budgets) is asked to ``admit``
   the call before any upstream byte. A policy refuses by raising a ``Refused`` subclass
   (the surface renders it in its own shape: OpenAI's 429 on ``/v1``, a message naming
   the limit in the UI). Admitting returns a ``Grant``: what the policy reserved (a
   concurrency slot, an estimated cost) and the headers it wants on the response
   (``x-ratelimit-*``). Grants are settled exactly once, with the call's outcome, however
   the call ends (including a refusal by a LATER policy: then ``settle(None)``).
2. **routing** — the requested model (and, later, "auto"), then the fallback chain
   (per request, then per model from the catalog): an ordered list of candidates.
3. **resilience** — per candidate: circuit breaker, key from the provider's key pool,
   retries before the first byte; on a failure before the first byte that the chain may
   absorb, the next candidate answers.
4. **metering and recording** — ``services.metering.metered`` (one exit point), one usage
   row per upstream attempt, the outcome handed to every grant's ``settle``.

Policies are data-driven and cheap on the hot path: ``admit`` for a principal with no
limit and no budget must not touch the database (cache what you need; invalidate on
writes). Time comes from an injectable ``Clock`` so tests never sleep.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from switchboard.registry import ResolvedModel
from switchboard.services.metering import CallOutcome
from switchboard.services.principal import Principal
from switchboard.spec.embedding import EmbeddingRequest
from switchboard.spec.errors import SwitchboardError
from switchboard.spec.image import ImageRequest
from switchboard.spec.request import ChatRequest

Surface = Literal["api", "chat", "cli"]
Clock = Callable[[], float]
"""Seconds since the epoch (``time.time`` in production; a settable value in tests)."""

wall_clock: Clock = time.time


@dataclass(slots=True)
class CallSpec:
    """One call as a surface asks for it, before routing."""

    principal: Principal
    surface: Surface
    request: ChatRequest | EmbeddingRequest | ImageRequest
    """A chat call's request (``Pipeline.open`` / ``complete``), or an embedding call's
    (``Pipeline.embed``) or an image call's (``Pipeline.images``): one model, no
    fallbacks, never streamed."""
    model: str | None
    """The model ref asked for (None: the default model)."""
    fallbacks: list[str] = field(default_factory=list)
    """Per-request fallback chain (``models: [...]`` on ``/v1``, ``fallbacks`` on the
    chat API), tried after ``model`` and before the catalog's chain."""
    stream: bool = True


@dataclass(slots=True)
class Admission:
    """What an admission policy sees: the call, and the model routing chose first (its
    price prices the reservation; None when the call is refused before routing)."""

    spec: CallSpec
    model: ResolvedModel | None
    estimated_input_tokens: int
    """The prompt's size, estimated without a tokenizer (``usage_estimate``)."""
    max_output_tokens: int
    """The request's ``max_tokens``, or the model's output limit, or a default."""
    reserved_cost: Decimal | None = None
    """The most this call can cost at the first model's price (None: price unknown)."""


class Grant(Protocol):
    """What one admission policy holds for one call until it ends."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Response headers this policy adds (may be empty)."""
        ...

    def settle(self, outcome: CallOutcome | None) -> None:
        """The call ended (``outcome`` of the attempt that answered, or of the last one
        that failed); ``None``: it never reached a model. Called exactly once; must be
        synchronous and must not raise (it runs in ``finally`` blocks, possibly during
        cancellation); persist by queueing or spawning, as ``metering`` does."""
        ...


class AdmissionPolicy(Protocol):
    """One admission step (rate limits, budgets)."""

    name: str

    async def admit(self, admission: Admission) -> Grant:
        """Reserve what this call needs or raise ``Refused``."""
        ...


class Refused(SwitchboardError):
    """A policy refused the call before any upstream byte: a 429 on every surface.

    ``retry_after`` is in seconds (the ``retry-after`` header); ``headers`` are the
    policy's headers to send with the refusal too (``x-ratelimit-*``)."""

    code = "refused"
    status = 429

    def __init__(self, message: str, *, retry_after: float | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = dict(headers or {})


class RateLimited(Refused):
    """A gateway rate limit (requests, tokens or concurrency per minute) is reached.
    OpenAI's shape: 429, type ``requests`` / ``tokens``, code ``rate_limit_exceeded``."""

    code = "rate_limit_exceeded"


class BudgetExceeded(Refused):
    """A hard budget is spent. OpenAI's shape: 429, type and code ``insufficient_quota``;
    the message names the budget and when it resets."""

    code = "insufficient_quota"
