"""Known OpenAI-compatible vendors, as data (``presets.json`` beside this module).

A preset is a row: where the vendor's OpenAI-compatible endpoint is, which environment
variable conventionally holds its key (``None`` for local servers), a default model and
the quirk flags where the vendor departs from OpenAI. Adding a vendor is adding a row;
rows are validated on load (an unknown quirk name is an error, not ignored).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from switchboard.providers.openai.quirks import Quirks


class Preset(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    display_name: str
    base_url: str
    api_key_env: str | None
    docs_url: str
    default_model: str
    quirks: dict[str, Any] = {}

    @field_validator("quirks")
    @classmethod
    def _known_quirks(cls, v: dict[str, Any]) -> dict[str, Any]:
        Quirks.model_validate(v)  # unknown names or bad values fail here
        return v


@cache
def _load() -> tuple[Preset, ...]:
    text = resources.files(__package__).joinpath("presets.json").read_text("utf-8")
    rows = json.loads(text)["presets"]
    return tuple(Preset.model_validate(row) for row in rows)


def load_presets() -> dict[str, Preset]:
    """Every bundled preset by name, in file order."""
    return {p.name: p for p in _load()}
