"""Prometheus metrics: what the process counts, fed from the one place each fact is known.

- **Calls** — the pipeline's recorder (``pipeline.usage_recorder``), called once per
  upstream attempt with metering's ``CallOutcome``: requests by surface, provider, model
  and outcome; errors by class; latency and time-to-first-token histograms; tokens and
  cost by provider, model and source (and, opted in, by user: decision 0119).
- **Refusals** — ``Pipeline._admit``: a policy's 429 is a request with outcome
  ``refused`` and an error of its class (``rate_limit_exceeded``, ``insufficient_quota``).
- **Refusals before the pipeline** (decision 0153) — ``api.access_log``: a ``/v1``
  request answered with an error status that no attempt or admission of the pipeline
  counted (a bad or missing token, a body over the limit, a body that does not
  validate, an unknown model or path) is counted in the same two series, surface
  ``api``, provider and model empty, outcome ``refused`` (4xx) or ``error`` (5xx), its
  error class named from the status by a fixed table (``REFUSAL_CLASSES``), so the
  labels stay bounded whatever the client sends. The pipeline marks the request it
  counted (``watch``: a cell in a context variable, shared with the tasks the request
  starts) so nothing is counted twice.
- **In-flight streams** — ``Pipeline``: a streaming call counts from its first event to
  its end (``_Call.end``, exactly once).
- **Breakers** — ``Breakers``' transition hook: the state per provider and key, and the
  transitions.
- **Usage recorder** — its loop, after each flush: rows still queued (the backlog), and
  rows dropped on overflow.
- **Catalog cache** — ``CatalogCache.get``: hits and misses.
- **Budgets** — read at scrape time from the budgets' own counters (``budgets.states``):
  spent, reserved and the limit of each budget's current period.

The hot path is one dict lookup on a tuple of strings the outcome already holds, then a
few additions to pre-bound children: no label dict, no ``labels()`` call per request
(``bench/metrics.py`` measures it). In one process those additions are plain ints and
ordered float lists applied to the series before every collection (decision 0213:
the exported values are the same bit for bit); several workers update each child at
once. Label values come from the catalog, but a pass-through model id is the caller's
text: after ``MAX_SERIES`` label sets a process folds new models into ``other``, so a
token holder cannot grow the scrape without bound.

Several workers (decision 0118): ``switchboard serve --workers N`` points
``PROMETHEUS_MULTIPROC_DIR`` at a directory it empties at start; each worker writes its
values to its own memory-mapped files there and a scrape, answered by any worker, sums
them (``MultiProcessCollector``). One process keeps them in memory.

``prometheus_client`` is imported by ``build_metrics`` only: with
``SWITCHBOARD_METRICS=off`` the process never loads it and ``NULL_METRICS`` answers
every hook with nothing.
"""

from __future__ import annotations

import os
from bisect import bisect_left
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the module is loaded by build_metrics
    from prometheus_client import CollectorRegistry

    from switchboard.services.budgets import BudgetState
    from switchboard.services.metering import CallOutcome

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_SERIES = 2000
"""Label sets per process for calls (surface, provider, model, outcome); past it, new
models are counted as ``other``."""
OTHER = "other"
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
TTFT_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
LATENCY_BOUNDS = (*LATENCY_BUCKETS, float("inf"))
TTFT_BOUNDS = (*TTFT_BUCKETS, float("inf"))
"""The histograms' upper bounds as prometheus keeps them (``+Inf`` last): an
observation falls in the first bucket whose bound is >= it (``bisect_left``)."""
BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}
REFUSAL_CLASSES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 405: "method_not_allowed", 408: "request_timeout",
    409: "conflict", 413: "request_too_large", 415: "unsupported_media_type",
    422: "invalid_request_error", 429: "rate_limit_exceeded", 503: "unavailable",
}
"""The error class of a refusal before the pipeline, by status (others: ``client_error``
or ``server_error``): a fixed set, so a client cannot add label values."""
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


_counted: ContextVar[list[bool] | None] = ContextVar("switchboard_metrics_counted",
                                                    default=None)


def watch() -> list[bool]:
    """Start watching this request (its task and the tasks it starts): the cell becomes
    ``[True]`` when the pipeline counts an attempt or a refusal for it."""
    cell = [False]
    _counted.set(cell)
    return cell


def _mark() -> None:
    cell = _counted.get()
    if cell is not None:
        cell[0] = True


def refusal_class(status: int) -> str:
    found = REFUSAL_CLASSES.get(status)
    if found is not None:
        return found
    return "server_error" if status >= 500 else "client_error"


class NullMetrics:
    """Metrics off: every hook does nothing (and nothing of prometheus is imported)."""

    enabled = False

    def attempt(self, surface: str, outcome: CallOutcome, user_id: int | None) -> None:
        return None

    def refused(self, surface: str, provider: str, model: str, code: str) -> None:
        return None

    def refused_early(self, surface: str, status: int) -> None:
        return None

    def stream_opened(self) -> None:
        return None

    def stream_closed(self) -> None:
        return None

    def breaker(self, provider: str, key_id: str | None, state: str) -> None:
        return None

    def usage_backlog(self, pending: int) -> None:
        return None

    def usage_dropped(self, rows: int) -> None:
        return None

    def cache(self, hit: bool) -> None:
        return None

    def close(self) -> None:
        return None


NULL_METRICS = NullMetrics()


class _Series:
    """One (surface, provider, model)'s children, bound once, and — in one process —
    what its attempts added since the last flush (``Metrics._flush``).

    Why deferred: ``Counter.inc`` and ``Histogram.observe`` cost ~0.3 and ~0.7 us each
    (a validity check, a lock, a Python loop over the buckets), eleven of them per call
    (issue 12, fourth pass). Here a call adds to plain ints and lists; the flush applies
    them before anything reads the series (every collection of the registry) or after
    ``FLUSH_EVERY`` calls. Integer counts are summed (exact); float amounts (latency and
    ttft sums, dollars) are kept in order and added one by one as ``inc`` would have,
    so every exported value is bit for bit the same."""

    __slots__ = ("latency", "ttft", "tokens_in", "tokens_out", "cost", "latency_buckets",
                 "latency_sums", "ttft_buckets", "ttft_sums", "input", "output", "spent")

    def __init__(self, latency: Any, ttft: Any, tokens_in: Any, tokens_out: Any,
                 cost: Any) -> None:
        self.latency = latency
        self.ttft = ttft
        self.tokens_in = tokens_in
        self.tokens_out = tokens_out
        self.cost = cost
        self.latency_buckets = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sums: list[float] = []
        self.ttft_buckets = [0] * (len(TTFT_BUCKETS) + 1)
        self.ttft_sums: list[float] = []
        self.input = 0
        self.output = 0
        self.spent: list[float] = []

    def flush(self) -> None:
        if self.latency_sums:
            _observed(self.latency, self.latency_buckets, self.latency_sums)
        if self.ttft_sums:
            _observed(self.ttft, self.ttft_buckets, self.ttft_sums)
        if self.input:
            self.tokens_in.inc(self.input)
            self.input = 0
        if self.output:
            self.tokens_out.inc(self.output)
            self.output = 0
        if self.spent:
            _added(self.cost._value, self.spent)


def _added(value: Any, amounts: list[float]) -> None:
    """Add ``amounts`` to a prometheus value in order, as that many ``inc`` calls would
    (float sums depend on the order), and empty the list."""
    with value._lock:
        total = value._value
        for amount in amounts:
            total += amount
        value._value = total
    amounts.clear()


def _observed(histogram: Any, buckets: list[int], sums: list[float]) -> None:
    """What ``observe`` would have done for each pending observation."""
    _added(histogram._sum, sums)
    for i, count in enumerate(buckets):
        if count:
            histogram._buckets[i].inc(count)
            buckets[i] = 0


class _Bound:
    """One label set's children, bound once (the per-request path only calls them)."""

    __slots__ = ("requests", "series", "pending")

    def __init__(self, requests: Any, series: _Series) -> None:
        self.requests = requests
        self.series = series
        self.pending = 0
        """Attempts counted in ``requests`` at the next flush (one process)."""

    # the children the other hooks and tests reach through a bound
    @property
    def latency(self) -> Any:
        return self.series.latency

    @property
    def ttft(self) -> Any:
        return self.series.ttft

    @property
    def tokens_in(self) -> Any:
        return self.series.tokens_in

    @property
    def tokens_out(self) -> Any:
        return self.series.tokens_out

    @property
    def cost(self) -> Any:
        return self.series.cost


FLUSH_EVERY = 512
"""Attempts a process adds up before applying them to the series even if nobody
collects (the pending float lists stay small)."""


class _Flush:
    """Registered first in the process's registry: a collection (a scrape, a test's
    ``get_sample_value``) applies the pending additions before any series is read."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> list[Any]:
        self.metrics._flush()
        return []


class Metrics:
    """This process's series. One per process (``AppState.metrics``)."""

    enabled = True

    def __init__(self, *, users: int = 0, multiproc_dir: str | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiproc_dir = multiproc_dir
        # Multiprocess: values live in the directory, a scrape reads them all; the
        # series are registered nowhere (registering them too would count them twice).
        self.registry: CollectorRegistry | None = (
            None if multiproc_dir else CollectorRegistry(auto_describe=True))
        reg = self.registry
        self._deferred = reg is not None
        """One process (values in memory): per-call additions are applied in batches
        (``_Series``). Several workers write each ``inc`` to their files as before."""
        self._pending = 0
        self._hits = 0
        self._misses = 0
        if reg is not None:
            reg.register(_Flush(self))
        calls = ("surface", "provider", "model")
        self._requests = Counter(
            "switchboard_requests", "Upstream attempts (and refusals) by surface, provider, "
            "model and outcome: ok, partial, error, refused.",
            [*calls, "outcome"], registry=reg)
        self._errors = Counter(
            "switchboard_errors", "Failed attempts and refusals by error class.",
            ["surface", "provider", "class"], registry=reg)
        self._latency = Histogram(
            "switchboard_request_duration_seconds", "Upstream attempt duration, from the "
            "call to its last event.", calls, buckets=LATENCY_BUCKETS, registry=reg)
        self._ttft = Histogram(
            "switchboard_time_to_first_token_seconds", "Time from the call to its first "
            "token (text, reasoning or tool call).", calls, buckets=TTFT_BUCKETS,
            registry=reg)
        self._tokens = Counter(
            "switchboard_tokens", "Tokens by provider, model, source and direction (input "
            "includes cached; output includes reasoning).",
            ["provider", "model", "source", "direction"], registry=reg)
        self._cost = Counter(
            "switchboard_cost_dollars", "Cost in US dollars by provider, model and source "
            "(calls of unknown price add nothing).", ["provider", "model", "source"],
            registry=reg)
        self._user_tokens = self._user_cost = None
        self._users: dict[int, tuple[Any, Any, Any]] = {}
        self._max_users = users
        if users:
            self._user_tokens = Counter(
                "switchboard_user_tokens", "Tokens by user id (the first "
                "SWITCHBOARD_METRICS_USERS users a process sees; the rest: other).",
                ["user", "direction"], registry=reg)
            self._user_cost = Counter(
                "switchboard_user_cost_dollars", "Cost in US dollars by user id (as "
                "switchboard_user_tokens).", ["user"], registry=reg)
        self._in_flight = Gauge(
            "switchboard_streams_in_flight", "Streaming calls between their first event and "
            "their end.", registry=reg, multiprocess_mode="livesum")
        self._breaker_state = Gauge(
            "switchboard_breaker_state", "Circuit breaker per provider and key: 0 closed, "
            "1 half-open, 2 open (the worst of the live workers).", ["provider", "key"],
            registry=reg, multiprocess_mode="livemax")
        self._breaker_changes = Counter(
            "switchboard_breaker_transitions", "Circuit breaker transitions by the state "
            "entered.", ["provider", "key", "state"], registry=reg)
        self._backlog = Gauge(
            "switchboard_usage_queue_depth", "Usage rows still queued after the recorder's "
            "last flush (grows when the database falls behind).", registry=reg,
            multiprocess_mode="livesum")
        self._dropped = Counter(
            "switchboard_usage_dropped_rows", "Usage rows dropped because the queue "
            "overflowed.", registry=reg)
        cache = Counter("switchboard_catalog_cache", "Catalog cache reads by result.",
                        ["result"], registry=reg)
        self._cache_hit = cache.labels("hit")
        self._cache_miss = cache.labels("miss")
        self._bound: dict[tuple[str, str, str, str], _Bound] = {}
        self._failed: dict[tuple[str, str, str], Any] = {}
        self._in_flight_inc = self._in_flight.inc
        self._in_flight_dec = self._in_flight.dec

    # -- hooks (the per-request ones first) ------------------------------------------
    def attempt(self, surface: str, outcome: CallOutcome, user_id: int | None) -> None:
        """One upstream attempt ended (the pipeline's recorder)."""
        _mark()
        key = (surface, outcome.provider, outcome.model, outcome.status)
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bind(key)
        usage = outcome.result.usage
        cost = outcome.cost
        if not self._deferred or (cost is not None and cost < 0):
            self._attempt_now(bound, outcome, usage.input_tokens, usage.output_tokens)
        else:
            series = bound.series
            bound.pending += 1
            latency = outcome.latency_ms / 1000
            series.latency_buckets[bisect_left(LATENCY_BOUNDS, latency)] += 1
            series.latency_sums.append(latency)
            if outcome.ttft_ms is not None:
                ttft = outcome.ttft_ms / 1000
                series.ttft_buckets[bisect_left(TTFT_BOUNDS, ttft)] += 1
                series.ttft_sums.append(ttft)
            if usage.input_tokens:
                series.input += usage.input_tokens
            if usage.output_tokens:
                series.output += usage.output_tokens
            if cost:
                series.spent.append(float(cost))
            self._pending += 1
            if self._pending >= FLUSH_EVERY:
                self._flush()
        if outcome.error is not None:
            self._error(surface, outcome.provider, outcome.error.code)
        if self._max_users and user_id is not None:
            self._user(user_id, usage.input_tokens, usage.output_tokens, outcome.cost)

    @staticmethod
    def _attempt_now(bound: _Bound, outcome: CallOutcome, input_tokens: int | None,
                     output_tokens: int | None) -> None:
        """Each series updated at once (several workers: each ``inc`` is written to the
        worker's file)."""
        bound.requests.inc()
        series = bound.series
        series.latency.observe(outcome.latency_ms / 1000)
        if outcome.ttft_ms is not None:
            series.ttft.observe(outcome.ttft_ms / 1000)
        if input_tokens:
            series.tokens_in.inc(input_tokens)
        if output_tokens:
            series.tokens_out.inc(output_tokens)
        if outcome.cost:
            series.cost.inc(float(outcome.cost))

    def _flush(self) -> None:
        """Apply what the calls added since the last flush (see ``_Series``)."""
        self._pending = 0
        for bound in self._bound.values():
            if bound.pending:
                bound.requests.inc(bound.pending)
                bound.pending = 0
                bound.series.flush()
        if self._hits:
            self._cache_hit.inc(self._hits)
            self._hits = 0
        if self._misses:
            self._cache_miss.inc(self._misses)
            self._misses = 0

    def refused(self, surface: str, provider: str, model: str, code: str,
                outcome: str = "refused") -> None:
        """Admission refused a call (``Pipeline._admit``), or ``refused_early``."""
        _mark()
        key = (surface, provider, model, outcome)
        bound = self._bound.get(key)
        if bound is None:
            bound = self._bind(key)
        bound.requests.inc()
        self._error(surface, provider, code)

    def refused_early(self, surface: str, status: int) -> None:
        """A request answered with an error status before the pipeline counted it."""
        self.refused(surface, "", "", refusal_class(status),
                     "error" if status >= 500 else "refused")

    def stream_opened(self) -> None:
        self._in_flight_inc()

    def stream_closed(self) -> None:
        self._in_flight_dec()

    def breaker(self, provider: str, key_id: str | None, state: str) -> None:
        key = key_id or ""
        self._breaker_state.labels(provider, key).set(BREAKER_VALUES.get(state, 0))
        self._breaker_changes.labels(provider, key, state).inc()

    def usage_backlog(self, pending: int) -> None:
        self._backlog.set(pending)

    def usage_dropped(self, rows: int) -> None:
        self._dropped.inc(rows)

    def cache(self, hit: bool) -> None:
        if not self._deferred:
            (self._cache_hit if hit else self._cache_miss).inc()
        elif hit:
            self._hits += 1
        else:
            self._misses += 1

    # -- binding -----------------------------------------------------------------------
    def _bind(self, key: tuple[str, str, str, str]) -> _Bound:
        surface, provider, model, outcome = key
        if len(self._bound) >= MAX_SERIES:
            folded = (surface, provider, OTHER, outcome)
            found = self._bound.get(folded)
            if found is not None:
                return found  # not stored under the new key: the dict stays bounded
            key, model = folded, OTHER
        shared = next((b for k, b in self._bound.items()
                       if k[:3] == (surface, provider, model)), None)
        if shared is not None:  # the other outcomes of the same model share the rest
            bound = _Bound(self._requests.labels(surface, provider, model, outcome),
                           shared.series)
        else:
            bound = _Bound(
                self._requests.labels(surface, provider, model, outcome),
                _Series(self._latency.labels(surface, provider, model),
                        self._ttft.labels(surface, provider, model),
                        self._tokens.labels(provider, model, surface, "input"),
                        self._tokens.labels(provider, model, surface, "output"),
                        self._cost.labels(provider, model, surface)))
        self._bound[key] = bound
        return bound

    def _error(self, surface: str, provider: str, code: str) -> None:
        key = (surface, provider, code)
        child = self._failed.get(key)
        if child is None:
            if len(self._failed) >= MAX_SERIES:
                key = (surface, provider, OTHER)
            child = self._failed.get(key) or self._errors.labels(*key)
            self._failed[key] = child
        child.inc()

    def _user(self, user_id: int, input_tokens: int | None, output_tokens: int | None,
              cost: Any) -> None:
        children = self._users.get(user_id)
        if children is None:
            assert self._user_tokens is not None and self._user_cost is not None
            label = str(user_id) if len(self._users) < self._max_users else OTHER
            children = (self._user_tokens.labels(label, "input"),
                        self._user_tokens.labels(label, "output"),
                        self._user_cost.labels(label))
            if label != OTHER:
                self._users[user_id] = children
        if input_tokens:
            children[0].inc(input_tokens)
        if output_tokens:
            children[1].inc(output_tokens)
        if cost:
            children[2].inc(float(cost))

    # -- scraping ----------------------------------------------------------------------
    def render(self, budgets: Iterable[BudgetState] = ()) -> bytes:
        """The exposition text: every worker's series (multiprocess) or this process's,
        then the budgets' gauges (read from the database by the caller)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if self.multiproc_dir:
            from prometheus_client.multiprocess import MultiProcessCollector

            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=self.multiproc_dir)  # type: ignore[no-untyped-call]
        else:
            assert self.registry is not None
            registry = self.registry  # collecting it flushes first (``_Flush``)
        text = generate_latest(registry)
        found = list(budgets)
        if found:
            extra = CollectorRegistry(auto_describe=False)
            extra.register(_BudgetCollector(found))
            text += generate_latest(extra)
        return text

    def close(self) -> None:
        """This worker is stopping: its live gauges leave the sums (multiprocess)."""
        if self.multiproc_dir:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid(), self.multiproc_dir)  # type: ignore[no-untyped-call]


class _BudgetCollector:
    """Each budget's current period, as read for this scrape."""

    def __init__(self, states: list[BudgetState]) -> None:
        self.states = states

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        labels = ["budget", "scope", "period", "soft"]
        spent = GaugeMetricFamily("switchboard_budget_spent_dollars",
                                  "Spent in the budget's current period.", labels=labels)
        reserved = GaugeMetricFamily("switchboard_budget_reserved_dollars",
                                     "Held for calls still running.", labels=labels)
        limit = GaugeMetricFamily("switchboard_budget_limit_dollars",
                                  "The budget's limit per period.", labels=labels)
        for state in self.states:
            b = state.budget
            values = [str(b.id), b.scope, b.period, "true" if b.soft else "false"]
            spent.add_metric(values, float(state.spent))
            reserved.add_metric(values, float(state.reserved))
            limit.add_metric(values, float(b.amount))
        return [spent, reserved, limit]


Hooks = Metrics | NullMetrics


def build_metrics(enabled: bool, *, users: int = 0) -> Hooks:
    """The process's metrics: ``NULL_METRICS`` when off; multiprocess when
    ``PROMETHEUS_MULTIPROC_DIR`` is set (``serve --workers N`` sets it)."""
    if not enabled:
        return NULL_METRICS
    return Metrics(users=users, multiproc_dir=os.environ.get(MULTIPROC_ENV) or None)


_current: Hooks = NULL_METRICS


def current() -> Hooks:
    """The process's metrics, for the process-wide singletons (the catalog cache)."""
    return _current


def install(metrics: Hooks) -> None:
    global _current
    _current = metrics
