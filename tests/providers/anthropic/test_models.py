"""The offline Claude model table: listed families resolve from dated ids and aliases;
an id the table does not know (a newer release) gets defaults that fit recent models."""

from __future__ import annotations

import pytest

from switchboard.providers.anthropic.convert_request import build_request
from switchboard.providers.anthropic.models import (
    DEFAULT_MAX_TOKENS,
    UNKNOWN,
    capabilities,
    default_max_tokens,
    family,
)
from switchboard.spec import ChatRequest, Message


@pytest.mark.parametrize(("model_id", "max_output", "exclusive"), [
    ("claude-opus-4-20250514", 32_000, False),
    ("claude-opus-4-0", 32_000, False),  # the alias of the dated id
    ("claude-opus-4-1-20250805", 32_000, True),
    ("claude-sonnet-4-5", 64_000, True),
    ("claude-haiku-4-5-20251001", 64_000, True),
    ("claude-3-5-sonnet-latest", 8_192, False),
    ("claude-3-7-sonnet-20250219", 64_000, False),
])
def test_listed_families_resolve(model_id: str, max_output: int, exclusive: bool) -> None:
    assert family(model_id).max_output == max_output
    assert family(model_id).exclusive_sampling is exclusive


@pytest.mark.parametrize("model_id", [
    "claude-opus-5", "claude-sonnet-4-6", "claude-opus-4-7-20260101", "claude-haiku-5-0",
])
def test_an_unknown_or_newer_minor_release_gets_the_unknown_defaults(model_id: str) -> None:
    """``claude-sonnet-4-6`` is not Sonnet 4 (whose table row would say both sampling
    knobs are fine): it is a release the table does not know."""
    assert family(model_id) is UNKNOWN
    caps = capabilities(model_id)
    assert caps.streaming and caps.tools and caps.vision and caps.reasoning
    assert default_max_tokens(model_id) == DEFAULT_MAX_TOKENS
    assert default_max_tokens(model_id, 100_000) == 100_000, "no ceiling: the API judges"


def test_unknown_model_request_keeps_one_sampling_knob_with_a_warning() -> None:
    request = ChatRequest(messages=[Message.user("Hi")], temperature=0.3, top_p=0.9)
    plan = build_request(request, "claude-sonnet-4-6", stream=True)
    assert plan.body["temperature"] == 0.3 and "top_p" not in plan.body
    assert [w.setting for w in plan.warnings] == ["top_p"]
    assert plan.body["max_tokens"] == DEFAULT_MAX_TOKENS
