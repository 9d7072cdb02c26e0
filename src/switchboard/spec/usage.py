"""Token usage and its price.

``input_tokens`` is the *total* prompt size, cached reads and cache writes included (the
OpenAI convention); adapters for vendors that report them apart (Anthropic) add them up.
``output_tokens`` includes reasoning tokens (Gemini reports thoughts apart; its adapter
adds them). With that one convention, ``cost()`` works for every vendor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_MILLION = Decimal(1_000_000)


@dataclass(slots=True)
class Usage:
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None
    image_output_tokens: int | None = None
    """The part of ``output_tokens`` that drew pictures (Gemini's image output reports
    them by modality); priced per picture instead (``cost``)."""
    output_images: int | None = None
    """Pictures in the answer (Gemini's image output), each at the catalog's price."""
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int | None:
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    def merge(self, other: Usage) -> Usage:
        """Later reports win field by field (vendors send usage in pieces)."""
        # Inline conditionals, not a helper per field: a collector merges once per
        # Finish, twice per /v1 JSON call (issue 12, fourth pass: 7 calls fewer each).
        new_raw = other.raw
        return Usage(
            other.input_tokens if other.input_tokens is not None else self.input_tokens,
            other.output_tokens if other.output_tokens is not None else self.output_tokens,
            other.cached_input_tokens if other.cached_input_tokens is not None
            else self.cached_input_tokens,
            other.cache_write_tokens if other.cache_write_tokens is not None
            else self.cache_write_tokens,
            other.reasoning_tokens if other.reasoning_tokens is not None
            else self.reasoning_tokens,
            other.image_output_tokens if other.image_output_tokens is not None
            else self.image_output_tokens,
            other.output_images if other.output_images is not None else self.output_images,
            {**self.raw, **new_raw} if self.raw else dict(new_raw),
        )


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens. ``cached_input`` / ``cache_write`` default to ``input``."""

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None


def cost(usage: Usage, price: Price | None, per_image: Decimal | None = None) -> Decimal | None:
    """The cost of one call in USD, or ``None`` when it cannot be known.

    Unknown is never zero: a missing price or missing token counts give ``None``.
    An answer with pictures (``usage.output_images``) pays ``per_image`` for each, as
    Google publishes Gemini's image output (https://ai.google.dev/gemini-api/docs/pricing:
    "$0.039 per image", i.e. 1290 tokens at $30 per million), and its other output
    tokens at the output price; the picture's own tokens (``image_output_tokens``) are
    not counted twice. A picture without a known price makes the cost unknown.
    """
    if price is None or usage.input_tokens is None or usage.output_tokens is None:
        return None
    pictures = usage.output_images or 0
    if pictures and per_image is None:
        return None
    output = max(usage.output_tokens - (usage.image_output_tokens or 0), 0)
    cached = usage.cached_input_tokens or 0
    written = usage.cache_write_tokens or 0
    fresh = max(usage.input_tokens - cached - written, 0)
    total = (
        fresh * price.input
        + cached * (price.input if price.cached_input is None else price.cached_input)
        + written * (price.input if price.cache_write is None else price.cache_write)
        + output * price.output
    )
    return total / _MILLION + pictures * (per_image or 0)
