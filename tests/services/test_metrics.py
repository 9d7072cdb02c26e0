"""``services.metrics`` on its own: breaker transitions reach the gauge, hostile model ids
cannot grow the series without bound, the per-user series are capped, and metrics
turned off cost nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families

from switchboard.services import metrics as metrics_module
from switchboard.services.breakers import BreakerPolicy, Breakers
from switchboard.services.metering import CallOutcome
from switchboard.services.metrics import NULL_METRICS, Metrics, build_metrics
from switchboard.spec import Collector, Usage


def outcome(model: str = "m", status: str = "ok") -> CallOutcome:
    result = Collector().result()
    result.usage = Usage(input_tokens=3, output_tokens=2)
    return CallOutcome(provider="p", kind="openai", model=model, result=result,
                       status=status, started_at=0.0, latency_ms=120, ttft_ms=30,  # type: ignore[arg-type]
                       cost=Decimal("0.5"))


def samples(m: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for f in text_string_to_metric_families(m.render().decode())
            for s in f.samples}


def test_breaker_transitions_set_the_gauge() -> None:
    m = Metrics()
    now = [0.0]
    breakers = Breakers(BreakerPolicy(failure_threshold=2, cooldown=10),
                        clock=lambda: now[0], on_change=m.breaker)
    b = breakers.get("acme", "7")
    b.failure("boom")
    b.failure("boom")
    s = samples(m)
    assert s[("switchboard_breaker_state", frozenset({("provider", "acme"), ("key", "7")}))] == 2
    now[0] = 11
    assert b.allow()  # half-open: the probe
    b.success()
    s = samples(m)
    assert s[("switchboard_breaker_state", frozenset({("provider", "acme"), ("key", "7")}))] == 0
    for state in ("open", "half_open", "closed"):
        labels = frozenset({("provider", "acme"), ("key", "7"), ("state", state)})
        assert s[("switchboard_breaker_transitions_total", labels)] == 1


def test_new_models_past_the_cap_are_folded_into_other(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setattr(metrics_module, "MAX_SERIES", 5)
    m = Metrics()
    for i in range(50):
        m.attempt("api", outcome(model=f"made-up-{i}"), None)
    s = samples(m)
    models = {dict(k[1])["model"] for k in s if k[0] == "switchboard_requests_total"}
    assert len(models) == 6 and "other" in models
    assert len(m._bound) <= 6
    total = sum(v for k, v in s.items() if k[0] == "switchboard_requests_total")
    assert total == 50  # folded, never lost


def test_per_user_series_are_opt_in_and_capped() -> None:
    m = Metrics(users=2)
    for user in (1, 2, 3, 4, 1):
        m.attempt("chat", outcome(), user)
    s = samples(m)
    users = {dict(k[1])["user"]: v for k, v in s.items()
             if k[0] == "switchboard_user_tokens_total" and ("direction", "input") in k[1]}
    assert users == {"1": 6, "2": 3, "other": 6}
    assert not any(k[0].startswith("switchboard_user_") for k in samples(Metrics()))


def test_metrics_off_is_the_null_object() -> None:
    assert build_metrics(False) is NULL_METRICS
    NULL_METRICS.attempt("api", outcome(), 1)  # every hook: nothing, no error
    NULL_METRICS.breaker("p", None, "open")
    assert NULL_METRICS.enabled is False


def test_batched_updates_export_exactly_what_direct_updates_do() -> None:
    """One process applies the per-call additions in batches (``_Series``); every sample
    (float sums bit for bit, bucket boundaries included) equals the direct ``inc`` and
    ``observe`` of each call, whether the flush comes from a collection or from
    ``FLUSH_EVERY``."""
    import random

    def values(m: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        return {k: v for k, v in samples(m).items() if not k[0].endswith("_created")}

    rng = random.Random(12)
    direct, batched = Metrics(), Metrics()
    direct._deferred = False
    assert batched._deferred
    edges = [int(b * 1000) for b in (*metrics_module.LATENCY_BUCKETS,
                                     *metrics_module.TTFT_BUCKETS)]
    for i in range(1500):
        o = outcome(model=rng.choice(["a", "b"]), status=rng.choice(["ok", "ok", "error"]))
        o.latency_ms = rng.choice([*edges, 0, 1, 7, 333, 999_999, rng.randint(0, 400_000)])
        o.ttft_ms = rng.choice([None, *edges, rng.randint(0, 40_000)])
        o.cost = rng.choice([None, Decimal(0), Decimal(rng.randint(1, 10**6)) / 10**9])
        o.result.usage = Usage(input_tokens=rng.choice([None, 0, rng.randint(1, 5000)]),
                               output_tokens=rng.choice([None, rng.randint(0, 900)]))
        surface = rng.choice(["api", "chat"]) if i % 7 else "api"
        for m in (direct, batched):
            m.attempt(surface, o, None)
            m.cache(i % 5 != 0)
        if i % 400 == 0:
            assert values(batched) == values(direct)  # a scrape mid-way flushes
    assert values(batched) == values(direct)
    assert batched._pending == 0


def test_histogram_bounds_match_the_ones_bisected() -> None:
    m = Metrics()
    assert list(metrics_module.LATENCY_BOUNDS) == m._latency._upper_bounds
    assert list(metrics_module.TTFT_BOUNDS) == m._ttft._upper_bounds
