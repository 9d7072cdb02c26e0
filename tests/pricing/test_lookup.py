"""Price lookup (exact, alias, dated snapshot; unknown is None) and costs by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.pricing import Price, cost, lookup
from switchboard.spec import Usage


@pytest.mark.parametrize("kind,model_id,canonical", [
    ("openai", "gpt-4o", "gpt-4o"),
    ("openai", "gpt-4o-2024-08-06", "gpt-4o"),             # alias
    ("openai", "gpt-4.1-mini-2026-01-01", "gpt-4.1-mini"),  # unknown snapshot: stripped
    ("openai", "GPT-5-Mini", "gpt-5-mini"),                 # case-insensitive
    ("anthropic", "claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
    ("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku"),
    ("anthropic", "claude-haiku-4-5-20991231", "claude-haiku-4-5"),
    ("mistral", "mistral-large-2512", "mistral-large-latest"),
    ("mistral", "magistral-small-2601", "magistral-small-latest"),  # -YYMM, then -latest
    ("gemini", "gemini-2.0-flash-001", "gemini-2.0-flash"),
    ("offline", "offline-chat", "offline-chat"),
])
def test_lookup_resolves(kind: str, model_id: str, canonical: str) -> None:
    price = lookup(kind, model_id)
    assert price is not None
    assert price == lookup(kind, canonical)


def test_a_snapshot_with_its_own_price_wins_over_stripping() -> None:
    old, new = lookup("openai", "gpt-4o-2024-05-13"), lookup("openai", "gpt-4o")
    assert old is not None and new is not None and old.input == Decimal("5.00") != new.input
    large2, large3 = lookup("mistral", "mistral-large-2411"), lookup("mistral", "mistral-large")
    assert large2 is not None and large3 is not None and large2.input != large3.input


@pytest.mark.parametrize("kind,model_id", [
    ("openai", "gpt-9-ultra"),
    ("openai", "claude-sonnet-4-5"),   # right model, wrong vendor
    ("nobody", "gpt-4o"),
    ("openai", "2024-08-06"),
])
def test_unknown_is_none_never_zero(kind: str, model_id: str) -> None:
    assert lookup(kind, model_id) is None
    assert cost(Usage(input_tokens=10, output_tokens=10), lookup(kind, model_id)) is None


def test_offline_is_free_not_unknown() -> None:
    price = lookup("offline", "offline-chat")
    assert price is not None
    assert cost(Usage(input_tokens=1_000, output_tokens=500), price) == Decimal(0)


def test_openai_cost_with_cached_input() -> None:
    # gpt-4o: $2.50 in, $1.25 cached, $10 out per million.
    usage = Usage(input_tokens=1_000, cached_input_tokens=400, output_tokens=500)
    # 600 fresh * 2.50 + 400 cached * 1.25 + 500 out * 10 = 1500 + 500 + 5000 = 7000 per M
    assert cost(usage, lookup("openai", "gpt-4o")) == Decimal("0.007")


def test_anthropic_cost_with_cache_reads_and_writes() -> None:
    # claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15 out per million.
    usage = Usage(input_tokens=10_000, cached_input_tokens=2_000, cache_write_tokens=3_000,
                  output_tokens=1_000)
    # fresh 5000*3 = 15000; read 2000*0.30 = 600; write 3000*3.75 = 11250; out 1000*15 = 15000
    assert cost(usage, lookup("anthropic", "claude-sonnet-4-5")) == Decimal("0.04185")


def test_reasoning_tokens_are_billed_inside_output() -> None:
    # o4-mini: $1.10 in, $4.40 out. Output 2000 includes 1500 reasoning tokens.
    usage = Usage(input_tokens=100, output_tokens=2_000, reasoning_tokens=1_500)
    assert cost(usage, lookup("openai", "o4-mini")) == Decimal("0.00891")  # (110 + 8800)/1M


def test_no_cached_price_bills_cache_reads_at_the_input_price() -> None:
    price = lookup("gemini", "gemini-2.0-flash-lite")
    assert price == Price(input=Decimal("0.075"), output=Decimal("0.30"))
    usage = Usage(input_tokens=1_000_000, cached_input_tokens=500_000, output_tokens=0)
    assert cost(usage, price) == Decimal("0.075")


def test_missing_token_counts_give_unknown_cost() -> None:
    assert cost(Usage(input_tokens=10), lookup("openai", "gpt-4o")) is None
