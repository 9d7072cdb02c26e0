"""The bundled catalog loads, every row is valid, and malformed rows fail loudly."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.pricing import builtin_models, catalog_kinds, load_catalog, parse_catalog
from switchboard.pricing.catalog import ModelRow
from switchboard.providers.offline import OfflineProvider
from switchboard.spec import Capabilities

TODAY = date(2026, 11, 21)


def raw() -> dict[str, Any]:
    text = resources.files("switchboard.pricing").joinpath("models.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_catalog_covers_every_builtin_kind() -> None:
    assert catalog_kinds() == ["anthropic", "gemini", "mistral", "offline", "openai"]
    assert load_catalog() is load_catalog(), "loaded once and cached"


@pytest.mark.parametrize("kind", ["anthropic", "gemini", "mistral", "offline", "openai"])
def test_every_row_is_plausible(kind: str) -> None:
    table = load_catalog().vendors[kind]
    assert table.as_of <= TODAY
    if kind != "offline":
        assert table.source.startswith("https://")
        assert len(table.models) >= 5
    for model_id, row in table.models.items():
        if row.type == "embedding":
            assert row.dimensions is not None and row.custom_dimensions is not None, model_id
            assert row.price.output == 0 and (kind == "offline" or row.input > 0), model_id
            continue
        if row.type == "image":
            info = row.info(model_id, kind).image
            assert info is not None and info.default_size in info.sizes, model_id
            assert info.price_of(None, None) is not None, model_id  # the defaults are priced
            assert all(p > 0 for by in info.prices.values() for p in by.values()) or (
                kind == "offline"), model_id
            continue
        assert "streaming" in row.capabilities, model_id
        assert row.max_output_tokens is not None
        assert row.max_output_tokens <= row.context_window, model_id
        if row.cached_input is not None:
            assert row.cached_input <= row.input, model_id
        if row.cache_write is not None:
            assert row.cache_write >= row.input, model_id
        if kind != "offline":
            assert row.output is not None and row.output >= row.input > 0, model_id


def test_anthropic_rows_carry_cache_write_prices() -> None:
    for model_id, row in load_catalog().vendors["anthropic"].models.items():
        assert row.cache_write is not None and row.cached_input is not None, model_id


def test_builtin_models_are_model_infos() -> None:
    models = {m.id: m for m in builtin_models("openai")}
    gpt = models["gpt-4o"]
    assert gpt.name == "GPT-4o" and gpt.owned_by == "openai"
    assert gpt.context_window == 128_000 and gpt.max_output_tokens == 16_384
    # A curated entry is complete: what it does not list is known to be absent.
    assert gpt.capabilities == Capabilities(streaming=True, tools=True, vision=True,
                                            json_output=True, image_output=False,
                                            reasoning=False)
    assert gpt.price is not None and str(gpt.price.input) == "2.50"
    pro = {m.id: m for m in builtin_models("gemini")}["gemini-2.5-pro"]
    assert pro.description is not None and "200K" in pro.description, "the tier is noted"
    assert builtin_models("nobody") == []


def test_embedding_rows_are_embedding_models() -> None:
    small = {m.id: m for m in builtin_models("openai")}["text-embedding-3-small"]
    assert small.type == "embedding" and small.embedding is not None
    assert (small.embedding.dimensions, small.embedding.custom_dimensions) == (1536, True)
    assert small.price is not None and (small.price.input, small.price.output) == (
        Decimal("0.02"), Decimal(0))
    assert small.capabilities == Capabilities.exactly(()), "no chat capability"
    assert {m.id: m for m in builtin_models("openai")}["gpt-4o"].type == "chat"


@pytest.mark.parametrize("edit,message", [
    ({"type": "embedding", "input": "0.1", "output": "1", "context_window": 10},
     "no output price"),
    ({"input": "0.1", "context_window": 10, "dimensions": 8, "output": "1",
      "max_output_tokens": 5, "capabilities": []}, "dimensions are for embedding"),
    ({"type": "vectors", "input": "0.1", "context_window": 10}, "type"),
])
def test_malformed_embedding_rows_fail(edit: dict[str, Any], message: str) -> None:
    data = copy.deepcopy(raw())
    data["vendors"]["openai"]["models"]["odd-embed"] = {"name": "Odd", **edit}
    with pytest.raises(ValueError, match="odd-embed") as exc:
        parse_catalog(data)
    assert message in str(exc.value)


async def test_offline_row_matches_the_offline_provider() -> None:
    [listed, embed, image] = await OfflineProvider().list_models()
    [row, embed_row, image_row] = builtin_models("offline")
    assert (image.id, image.type, image.image, image.capabilities) == (
        image_row.id, image_row.type, image_row.image, image_row.capabilities)
    assert (embed.id, embed.type, embed.embedding, embed.context_window) == (
        embed_row.id, embed_row.type, embed_row.embedding, embed_row.context_window)
    assert embed.price is not None and embed_row.price is not None
    assert (embed.price.input, embed_row.price.input) == (Decimal(0), Decimal(0))
    assert (row.id, row.capabilities, row.context_window, row.max_output_tokens) == (
        listed.id, listed.capabilities, listed.context_window, listed.max_output_tokens)
    assert row.price is not None and listed.price is not None
    assert (row.price.input, row.price.output) == (Decimal(0), Decimal(0))
    assert (listed.price.input, listed.price.output) == (Decimal(0), Decimal(0))


def _broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(raw())
    edit(data["vendors"]["openai"]["models"]["gpt-4o"], data)
    return data


@pytest.mark.parametrize("edit,message", [
    (lambda row, _: row.update(input=2.5), "strings"),
    (lambda row, _: row.update(output="-1"), "greater than or equal to 0"),
    (lambda row, _: row.update(capabilities=["telepathy"]), "capabilities"),
    (lambda row, _: row.update(colour="blue"), "colour"),
    (lambda row, _: row.pop("context_window"), "context_window"),
    (lambda row, _: row.update(aliases=["gpt-4o-mini"]), "listed twice"),
    (lambda row, _: row.update(aliases=["GPT 4o"]), "lowercase model id"),
    (lambda _, data: data["vendors"]["openai"].update(as_of="someday"), "as_of"),
])
def test_malformed_rows_fail_loudly(edit: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"models\.json: invalid entry at vendors\.openai") as exc:
        parse_catalog(_broken(edit))
    assert message in str(exc.value)


def test_image_models_are_priced_per_picture() -> None:
    """Prices as OpenAI publishes them (https://platform.openai.com/docs/pricing)."""
    gpt = {m.id: m for m in builtin_models("openai")}["gpt-image-1"]
    assert gpt.type == "image" and gpt.capabilities.image_output
    assert gpt.image is not None
    assert gpt.image.price_of("1024x1536", "high") == Decimal("0.25")
    assert gpt.image.price_of(None, None) == Decimal("0.042")  # 1024x1024, medium
    assert gpt.image.price_of("256x256", "low") is None  # unknown, never zero
    dalle = {m.id: m for m in builtin_models("openai")}["dall-e-3"]
    assert dalle.image is not None and dalle.image.max_n == 1
    assert dalle.image.price_of("1792x1024", "hd") == Decimal("0.12")


def test_an_image_row_needs_prices_and_no_output_price() -> None:
    with pytest.raises(ValidationError):
        ModelRow(name="x", type="image", input=Decimal(0), context_window=10,
                 capabilities=["image_output"])
    with pytest.raises(ValidationError):
        ModelRow(name="x", type="image", input=Decimal(0), output=Decimal(1), context_window=10,
                 capabilities=["image_output"], per_image={"standard": {"1x1": "1"}},
                 default_size="1x1")
