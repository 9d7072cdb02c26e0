"""Image calls through the one pipeline (``Pipeline.images``): admission reserving the
price of all n pictures, one usage row with their cost, every grant settled once; one
model, no fallbacks; a wrong type or size refused before admission."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.services.metering import CallOutcome
from switchboard.services.pipeline import Pipeline, SequentialRouter
from switchboard.services.policy import CallSpec, RateLimited
from switchboard.spec import ImageCapabilities, ImageRequest, InvalidRequestError, ModelInfo
from tests.services.test_pipeline import WHO, Recording

DRAW = ImageRequest("a lighthouse at dusk", n=3, size="256x256")
PRICED = ImageCapabilities(prices={"standard": {"256x256": Decimal("0.016"),
                                                "512x512": Decimal("0.018")}},
                           default_size="512x512", default_quality="standard", max_n=2)


@dataclass
class Setup:
    rows: list[CallOutcome] = field(default_factory=list)

    def pipeline(self, *policies: Recording, priced: bool = False) -> Pipeline:
        models = {}
        if priced:  # the offline model, as if its catalog row priced each picture
            models["offline-image"] = ModelInfo(id="offline-image", type="image", image=PRICED)
        registry = Registry([OfflineProvider],
                            [ProviderInstance("offline", "offline", models=models)])

        async def source() -> Registry:
            return registry

        def record(spec: CallSpec, outcome: CallOutcome) -> None:
            assert spec.surface == "api"
            self.rows.append(outcome)

        return Pipeline(source, list(policies), SequentialRouter(), record)


def spec(model: str = "offline:offline-image", request: ImageRequest = DRAW) -> CallSpec:
    return CallSpec(WHO, "api", request, model, [], stream=False)


async def test_reserves_n_pictures_records_their_cost_once() -> None:
    setup, policy = Setup(), Recording("limits")
    done = await setup.pipeline(policy, priced=True).images(spec())
    assert len(done.result.images) == 3  # in calls of at most max_n = 2
    [admission] = policy.admitted
    assert admission.reserved_cost == Decimal("0.048")  # 3 x $0.016
    [row] = setup.rows
    assert (row.model, row.status, row.cost) == ("offline-image", "ok", Decimal("0.048"))
    assert done.cost == Decimal("0.048")
    assert policy.grants[0].settled == [row]
    assert done.headers["x-switchboard-model"] == "offline:offline-image"


async def test_defaults_are_the_models_and_priced() -> None:
    setup, policy = Setup(), Recording()
    done = await setup.pipeline(policy, priced=True).images(
        spec(request=ImageRequest("x", size="auto")))
    assert done.result.size == "512x512" and done.cost == Decimal("0.018")


async def test_refusals_make_no_call_and_no_row() -> None:
    setup = Setup()
    with pytest.raises(RateLimited):
        await setup.pipeline(Recording(refuse=True)).images(spec())
    assert setup.rows == []
    policy = Recording()
    with pytest.raises(InvalidRequestError, match="cannot make images"):
        await setup.pipeline(policy).images(spec("offline:offline-chat"))
    with pytest.raises(InvalidRequestError, match="makes size") as caught:
        await setup.pipeline(policy).images(spec(request=ImageRequest("x", size="1792x1024")))
    assert caught.value.param == "size"
    assert policy.admitted == [] and setup.rows == []
