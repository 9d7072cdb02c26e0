from __future__ import annotations

import re

import pytest

from switchboard.providers.mistral.tool_ids import is_mistral_tool_id, mistral_tool_id

FORMAT = re.compile(r"^[a-zA-Z0-9]{9}$")


def test_mistral_ids_are_kept() -> None:
    assert mistral_tool_id("D681PevKs") == "D681PevKs"
    assert is_mistral_tool_id("D681PevKs")


@pytest.mark.parametrize("foreign", [
    "call_abc123XYZ", "toolu_01A09q90qw90lq917835lq9", "abc", "1234567890", "a-b_c.d:e",
    "", "ééééééééé",
])
def test_foreign_ids_map_to_the_mistral_format_deterministically(foreign: str) -> None:
    mapped = mistral_tool_id(foreign)
    assert FORMAT.match(mapped), mapped
    assert mistral_tool_id(foreign) == mapped, "the same id must always map the same way"
    assert not is_mistral_tool_id(foreign)


def test_different_ids_map_to_different_ids() -> None:
    ids = {mistral_tool_id(f"call_{i}") for i in range(2000)}
    assert len(ids) == 2000
