"""Auto's routing decisions with a fixed catalog and fixed grades: capability and
context filters, tiers, defaults (user, admin, global), grades per cost, the clear error
when nothing fits — and the routing step in front of a router."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from switchboard.registry.catalog import CatalogEntry
from switchboard.services.auto.picker import (
    Defaults,
    Needs,
    NoAdequateModel,
    NoGrades,
    StaticGrades,
    auto_tier,
    pick,
)
from switchboard.services.auto.route import AutoRouter, turn_of
from switchboard.services.pipeline import Routed
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.spec import Capabilities, ChatRequest, Message, Price, Tool
from switchboard.spec.messages import ImagePart, TextPart


def entry(ref: str, price: tuple[str, str] | None, *, window: int | None = 128_000,
          vision: bool | None = False, tools: bool | None = True, configured: bool = True,
          enabled: bool = True, type: str = "chat") -> CatalogEntry:
    provider, model = ref.split(":")
    return CatalogEntry(
        provider=provider, kind="openai", model_id=model, name=model,
        capabilities=Capabilities(vision=vision, tools=tools),
        price=Price(Decimal(price[0]), Decimal(price[1])) if price else None,
        context_window=window, max_output_tokens=None, configured=configured,
        enabled=enabled, is_default=False, type=type)  # type: ignore[arg-type]


CATALOG = [
    entry("a:tiny", ("0.1", "0.4"), window=8_000),
    entry("a:mid", ("1", "4"), vision=True),
    entry("b:big", ("5", "15"), window=1_000_000, vision=True),
    entry("b:notools", ("0.05", "0.1"), tools=False),
    entry("c:unpriced", None, tools=None),
    entry("c:nokey", ("0.01", "0.01"), configured=False),
    entry("c:off", ("0.01", "0.01"), enabled=False),
    entry("c:embed", ("0.01", "0"), type="embedding"),
]
NONE = Defaults(admin={}, user={})


def choose(task: str = "code", tier: str = "auto", needs: Needs = Needs(tokens=2_000),
           defaults: Defaults = NONE, grades: object = None,
           default: str | None = None) -> tuple[str, str]:
    got = pick(task, 0.9, tier, needs, CATALOG, defaults,  # type: ignore[arg-type]
               grades or NoGrades(), default)  # type: ignore[arg-type]
    return got.ref, got.why


def test_auto_refs() -> None:
    assert [auto_tier(r) for r in ("auto", "auto:cheap", "AUTO:best", "openai:gpt")] == [
        "auto", "cheap", "best", None]


def test_cheap_is_the_cheapest_usable_model_never_an_unconfigured_or_disabled_one() -> None:
    assert choose(tier="cheap")[0] == "b:notools"


def test_tools_vision_and_context_filter_the_candidates() -> None:
    assert choose(tier="cheap", needs=Needs(tools=True, tokens=100))[0] == "a:tiny"
    assert choose(tier="cheap", needs=Needs(tools=True, tokens=20_000))[0] == "a:mid"
    assert choose(tier="cheap", needs=Needs(vision=True, tokens=100))[0] == "a:mid"
    assert choose(tier="cheap", needs=Needs(vision=True, tokens=500_000))[0] == "b:big"


def test_unknown_capabilities_do_not_qualify_but_an_unknown_window_does() -> None:
    with pytest.raises(NoAdequateModel) as caught:
        choose(needs=Needs(vision=True, tools=True, tokens=2_000_000))
    assert "accepts images and accepts tools" in caught.value.message
    assert "2,000,000 tokens" in caught.value.message
    # c:unpriced has an unknown window (ok) and unknown tools (not ok for a tool turn)
    only = [entry("c:unpriced", None, window=None, tools=None)]
    assert pick("chat", 1, "auto", Needs(tokens=10**9), only, NONE, NoGrades(),
                None).ref == "c:unpriced"
    with pytest.raises(NoAdequateModel):
        pick("chat", 1, "auto", Needs(tools=True), only, NONE, NoGrades(), None)


def test_best_without_grades_is_the_most_capable_and_with_grades_the_best_graded() -> None:
    assert choose(tier="best") == ("b:big", "most capable model that fits "
                                            "(no grades for code yet)")
    grades = StaticGrades({("code", "a:mid"): 0.9, ("code", "b:big"): 0.7,
                           ("writing", "b:big"): 0.95})
    assert choose(tier="best", grades=grades) == ("a:mid", "best graded for code")


def test_balanced_tier_order_user_then_admin_then_grades_then_global() -> None:
    both = Defaults(admin={"code": "a:mid"}, user={"code": "b:big"})
    assert choose(defaults=both) == ("b:big", "your default for code")
    admin = Defaults(admin={"code": "a:mid"}, user={})
    assert choose(defaults=admin) == ("a:mid", "task default for code")
    assert choose(task="writing", defaults=admin, default="a:tiny") == (
        "a:tiny", "the default model")
    grades = StaticGrades({("writing", "a:mid"): 0.6, ("writing", "b:big"): 0.9})
    # per cost: 0.6 / 1.75 > 0.9 / 7.5
    assert choose(task="writing", grades=grades, default="a:tiny") == (
        "a:mid", "best graded per cost for writing")
    assert choose(task="writing")[1] == "cheapest model that fits"


def test_a_default_that_cannot_take_the_turn_is_skipped_and_said() -> None:
    admin = Defaults(admin={"vision": "a:tiny"}, user={})
    ref, why = choose(task="vision", needs=Needs(vision=True, tokens=100), defaults=admin)
    assert ref == "a:mid"
    assert "a:tiny cannot take this turn" in why


def test_turn_of_reads_the_last_user_message_images_tools_and_size() -> None:
    image = ImagePart(url="https://example.com/cat.png")
    request = ChatRequest(messages=[
        Message(role="user", parts=[TextPart(text="Translate 'hello' into French")]),
        Message(role="assistant", parts=[TextPart(text="Bonjour")]),
        Message(role="user", parts=[TextPart(text="what is in this picture?"), image]),
    ], tools=[Tool(name="f", parameters={"type": "object"})], max_output_tokens=500)
    turn = turn_of(request)
    assert turn.prompt == "what is in this picture?"
    assert turn.images == 1 and turn.history == ("Translate 'hello' into French",)
    assert turn.needs.vision and turn.needs.tools and turn.needs.tokens > 500


class Inner:
    def __init__(self) -> None:
        self.specs: list[CallSpec] = []

    async def route(self, spec: CallSpec, registry: object, open_one: object) -> Routed:
        self.specs.append(spec)
        return Routed(attempt=None)  # type: ignore[arg-type]


class FixedRegistry:
    default_model_ref = "a:tiny"

    def catalog(self) -> list[CatalogEntry]:
        return CATALOG


def test_the_routing_step_names_the_model_for_the_router_and_leaves_others_alone() -> None:
    inner = Inner()

    async def defaults(principal: Principal) -> Defaults:
        return Defaults(admin={"code": "a:mid"}, user={})

    router = AutoRouter(inner, defaults)  # type: ignore[arg-type]
    who = Principal(1, "u", "user")
    request = ChatRequest(messages=[Message.user("Write a Python function to sort a list")])

    async def run(model: str) -> Routed:
        return await router.route(CallSpec(who, "api", request, model), FixedRegistry(),  # type: ignore[arg-type]
                                  None)  # type: ignore[arg-type]

    routed = asyncio.run(run("auto"))
    assert inner.specs[-1].model == "a:mid"
    assert routed.auto is not None
    assert routed.auto.reason == "code → a:mid, task default for code"
    assert routed.auto.header == "code -> a:mid, task default for code"
    routed = asyncio.run(run("b:big"))
    assert inner.specs[-1].model == "b:big" and routed.auto is None
