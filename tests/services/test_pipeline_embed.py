"""Embedding calls through the one pipeline (``Pipeline.embed``): the same admission,
one usage row and every grant settled exactly once — and one model, no fallbacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.services.metering import CallOutcome
from switchboard.services.pipeline import Pipeline, SequentialRouter
from switchboard.services.policy import CallSpec, RateLimited
from switchboard.spec import EmbeddingRequest, InvalidRequestError
from tests.services.test_pipeline import WHO, Recording

TEXTS = EmbeddingRequest(("first text to embed", "second one"))


@dataclass
class Setup:
    rows: list[CallOutcome] = field(default_factory=list)

    def pipeline(self, *policies: Recording) -> Pipeline:
        registry = Registry([OfflineProvider], [ProviderInstance("offline", "offline")])

        async def source() -> Registry:
            return registry

        def record(spec: CallSpec, outcome: CallOutcome) -> None:
            assert spec.surface == "api"
            self.rows.append(outcome)

        return Pipeline(source, list(policies), SequentialRouter(), record)


def spec(model: str = "offline:offline-embed", fallbacks: list[str] | None = None,
         request: EmbeddingRequest = TEXTS) -> CallSpec:
    return CallSpec(WHO, "api", request, model, fallbacks or [], stream=False)


async def test_admitted_once_recorded_once_settled_once() -> None:
    setup, policy = Setup(), Recording("limits")
    done = await setup.pipeline(policy).embed(spec())
    assert len(done.result.vectors) == 2
    assert done.headers == {"x-limits": "granted",
                            "x-switchboard-model": "offline:offline-embed"}
    [admission] = policy.admitted
    assert (admission.estimated_input_tokens, admission.max_output_tokens) == (8, 0)
    assert admission.reserved_cost == Decimal(0)
    [row] = setup.rows
    assert (row.model, row.status, row.result.usage.input_tokens) == ("offline-embed", "ok", 8)
    assert row.result.usage.output_tokens == 0 and row.cost == Decimal(0)
    assert policy.grants[0].settled == [row]


async def test_a_refusal_makes_no_call_and_no_row() -> None:
    setup = Setup()
    with pytest.raises(RateLimited):
        await setup.pipeline(Recording(refuse=True)).embed(spec())
    assert setup.rows == []


async def test_a_wrong_model_type_is_refused_before_admission() -> None:
    setup, policy = Setup(), Recording()
    with pytest.raises(InvalidRequestError, match="cannot make embeddings"):
        await setup.pipeline(policy).embed(spec("offline:offline-chat"))
    assert policy.admitted == [] and setup.rows == []


async def test_a_failed_call_settles_its_grant_with_the_error_outcome() -> None:
    setup, policy = Setup(), Recording()
    too_wide = EmbeddingRequest(("x",), dimensions=1000)  # the offline model makes <= 256
    with pytest.raises(InvalidRequestError, match="at most 256"):
        await setup.pipeline(policy).embed(spec(request=too_wide))
    [row] = setup.rows
    assert row.status == "error" and row.cost is None
    assert policy.grants[0].settled == [row]
