"""The ``/v1`` wire model cannot fall behind OpenAI's API silently.

OpenAI's OpenAPI spec (``../shared/specs/openai``) is loaded and every property of
``CreateChatCompletionRequest`` must have a decided policy in ``params.PARAMS`` and a field
in ``wire.ChatCompletionRequest``; every value of every enum the spec gives a parameter
must be accepted by the wire model. When OpenAI adds ``reasoning_effort: "ultra"`` or a
new parameter, this fails and names it.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from switchboard.api.openai.params import PARAMS
from switchboard.api.openai.wire import ChatCompletionRequest
from tests.spec_validation import load_spec, require_spec

BASE: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "x"}]}


def _schemas() -> dict[str, Any]:
    require_spec("openai")
    schemas: dict[str, Any] = load_spec("openai")["components"]["schemas"]
    return schemas


def _resolve(node: Any, schemas: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = schemas[node["$ref"].rsplit("/", 1)[-1]]
    return node


def _properties(node: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """A schema's properties, through $ref and allOf (the request extends
    ``CreateModelResponseProperties``)."""
    node = _resolve(node, schemas)
    props: dict[str, Any] = {}
    for part in node.get("allOf", []):
        props.update(_properties(part, schemas))
    props.update(node.get("properties", {}))
    return props


def _enums(node: Any, schemas: dict[str, Any], depth: int = 0) -> list[tuple[Any, bool]]:
    """(value, is_array_item) for every enum value a parameter's schema allows at its top
    (through $ref, anyOf/oneOf and array items)."""
    node = _resolve(node, schemas)
    if not isinstance(node, dict) or depth > 4:
        return []
    out: list[tuple[Any, bool]] = [(v, False) for v in node.get("enum", []) if v is not None]
    for key in ("anyOf", "oneOf"):
        for alt in node.get(key, []):
            out.extend(_enums(alt, schemas, depth + 1))
    if node.get("type") == "array" and "items" in node:
        out.extend((v, True) for v, _ in _enums(node["items"], schemas, depth + 1))
    return out


def _wire_fields() -> set[str]:
    return {f.alias or name for name, f in ChatCompletionRequest.model_fields.items()}


def test_every_spec_parameter_is_decided_and_modelled() -> None:
    spec = set(_properties(_schemas()["CreateChatCompletionRequest"], _schemas()))
    assert len(spec) > 30  # the schema was found and read
    undecided = sorted(spec - set(PARAMS))
    assert not undecided, (
        f"OpenAI's CreateChatCompletionRequest has parameters with no policy: {undecided}; "
        "add each to api/openai/params.py (and wire.py) with a decision")
    assert _wire_fields() == set(PARAMS), "wire.py fields and params.PARAMS must match"
    ours = {name for name, p in PARAMS.items() if p.policy in ("extra", "gateway")}
    assert set(PARAMS) - spec == ours, "a parameter OpenAI dropped is still modelled"


def test_every_spec_enum_value_is_accepted() -> None:
    schemas = _schemas()
    checked = 0
    for name, schema in _properties(schemas["CreateChatCompletionRequest"], schemas).items():
        for value, in_array in _enums(schema, schemas):
            body = {**BASE, name: [value] if in_array else value}
            try:
                ChatCompletionRequest.model_validate(body)
            except ValidationError as exc:
                pytest.fail(f"{name}={value!r} (a value in OpenAI's spec) is refused by the "
                            f"wire model: {exc.errors()[0]['msg']}")
            checked += 1
    assert checked >= 15  # reasoning_effort, verbosity, service_tier, modalities, ...


def test_known_current_values() -> None:
    """The values the issue names, checked even where the spec is absent."""
    for name, value in (("reasoning_effort", "none"), ("reasoning_effort", "xhigh"),
                        ("reasoning_effort", "minimal"), ("verbosity", "low"),
                        ("prompt_cache_retention", "24h"), ("prompt_cache_key", "k"),
                        ("safety_identifier", "u1"), ("service_tier", "flex"),
                        ("store", False), ("metadata", {"a": "b"}),
                        ("modalities", ["text"]), ("user", "u")):
        ChatCompletionRequest.model_validate({**BASE, name: value})
