"""The bundled model catalog (``models.json``): its schema, loading and validation.

Prices are stored as strings and read as ``Decimal`` so that no binary floating point ever
touches money. The file is read once, lazily, on first use (start-up stays fast and the
hot path never touches the disk), and validated with pydantic so a malformed row fails
loudly, naming the vendor and model, instead of silently pricing a call at zero.

Tiered prices (Gemini 2.5 Pro and GPT-5.4/5.5 above a prompt-size threshold, Claude
Sonnet 4/4.5 long-context beta) are simplified: the row holds the base tier and its
``tier`` note says what applies above the threshold. Costs of very long prompts on those
models are therefore underestimated; the note makes that visible in the catalog.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from switchboard.spec import (
    Capabilities,
    EmbeddingCapabilities,
    ImageCapabilities,
    ModelInfo,
    ModelType,
    Price,
)

CapabilityName = Literal["streaming", "tools", "vision", "image_output", "json_output",
                         "reasoning"]
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")


class ModelRow(BaseModel):
    """One model's catalog entry. Prices: USD per million tokens.

    ``type: "embedding"`` rows are embedding models: priced per million input tokens
    only (``output`` is absent, read as 0), no output limit or chat capabilities, and
    ``dimensions`` (default vector length) / ``custom_dimensions`` (accepts a shorter
    one) instead; ``context_window`` is then the most tokens one input may hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: ModelType = "chat"
    input: Decimal = Field(ge=0)
    output: Decimal | None = Field(default=None, ge=0)
    cached_input: Decimal | None = Field(default=None, ge=0)
    cache_write: Decimal | None = Field(default=None, ge=0)
    context_window: int = Field(gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    capabilities: list[CapabilityName] = Field(default_factory=list)
    dimensions: int | None = Field(default=None, gt=0)
    custom_dimensions: bool | None = None
    per_image: dict[str, dict[str, Decimal]] | None = None
    """Image models: USD per picture by quality then size, as the vendor publishes it
    (quality ``standard`` for models without a quality setting). Also on a chat model
    with ``image_output`` (Gemini's image models): the price of each picture in its
    answers (``spec.usage.cost``)."""
    default_size: str | None = None
    default_quality: str | None = None
    max_n: int | None = Field(default=None, gt=0)
    backgrounds: list[str] = Field(default_factory=list)
    output_formats: list[str] = Field(default_factory=list)
    edits: bool = False
    """Image models: it also edits pictures it is given (``/images/edits``)."""
    aliases: list[str] = Field(default_factory=list)
    tier: str | None = None

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> ModelRow:
        if self.type == "image":
            if not self.per_image or self.default_size is None:
                raise ValueError("an image model needs per_image prices and a default_size")
            if self.output is not None or self.capabilities != ["image_output"]:
                raise ValueError("an image model has no output price; its one capability "
                                 "is image_output")
            return self
        if self.per_image is not None and (
                self.type != "chat" or "image_output" not in self.capabilities):
            raise ValueError("per_image prices are for image models and for chat models "
                             "with image_output")
        if self.type == "chat":
            if self.output is None or self.max_output_tokens is None:
                raise ValueError("a chat model needs output and max_output_tokens")
            if self.dimensions is not None or self.custom_dimensions is not None:
                raise ValueError("dimensions are for embedding models")
        elif self.output is not None or self.max_output_tokens is not None or self.capabilities:
            raise ValueError("an embedding model has no output price, output limit or chat "
                             "capabilities")
        return self

    @field_validator("per_image", mode="before")
    @classmethod
    def _image_prices(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for by_size in v.values():
                for price in (by_size.values() if isinstance(by_size, dict) else ()):
                    if not isinstance(price, str):
                        raise ValueError("prices are decimal strings")
        return v

    @field_validator("input", "output", "cached_input", "cache_write", mode="before")
    @classmethod
    def _decimal_text(cls, v: Any) -> Any:
        if isinstance(v, float):
            raise ValueError("write prices as strings (\"1.25\"), not floats, to keep them exact")
        return v

    @field_validator("aliases")
    @classmethod
    def _aliases(cls, v: list[str]) -> list[str]:
        for alias in v:
            if not _MODEL_ID.match(alias):
                raise ValueError(f"alias {alias!r} is not a lowercase model id")
        return v

    @property
    def price(self) -> Price:
        return Price(input=self.input, output=self.output or Decimal(0),
                     cached_input=self.cached_input, cache_write=self.cache_write)

    def info(self, model_id: str, kind: str) -> ModelInfo:
        embedding = None
        if self.type == "embedding":
            embedding = EmbeddingCapabilities(self.dimensions, self.custom_dimensions)
        image = None
        if self.per_image is not None:  # an image model, or a chat model that draws
            image = ImageCapabilities(
                prices=self.per_image, default_size=self.default_size,
                default_quality=self.default_quality, max_n=self.max_n or 1,
                backgrounds=tuple(self.backgrounds),
                output_formats=tuple(self.output_formats or ["png"]), edits=self.edits)
        return ModelInfo(
            id=model_id,
            name=self.name,
            capabilities=Capabilities.exactly(self.capabilities),  # curated: complete
            context_window=self.context_window,
            max_output_tokens=self.max_output_tokens,
            price=self.price,
            description=self.tier,
            owned_by=kind,
            type=self.type,
            embedding=embedding,
            image=image,
        )


class VendorTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: date
    source: str = Field(min_length=1)
    models: dict[str, ModelRow] = Field(min_length=1)

    @field_validator("models")
    @classmethod
    def _ids(cls, v: dict[str, ModelRow]) -> dict[str, ModelRow]:
        seen: dict[str, str] = {}
        for model_id, row in v.items():
            if not _MODEL_ID.match(model_id):
                raise ValueError(f"model id {model_id!r} is not a lowercase model id")
            for name in (model_id, *row.aliases):
                if name in seen:
                    raise ValueError(f"{name!r} is listed twice ({seen[name]} and {model_id})")
                seen[name] = model_id
        return v


class Catalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str = ""
    vendors: dict[str, VendorTable]


def parse_catalog(data: Any, where: str = "models.json") -> Catalog:
    """Validate catalog data; a bad row raises ``ValueError`` naming its path."""
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"{where}: invalid entry at {path}: {first['msg']}") from None


@cache
def load_catalog() -> Catalog:
    """The bundled catalog, read and validated once per process."""
    text = resources.files("switchboard.pricing").joinpath("models.json").read_text("utf-8")
    return parse_catalog(json.loads(text))
