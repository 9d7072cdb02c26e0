"""JSON Schema as Gemini accepts it.

Gemini has two schema fields for structured output: ``responseSchema`` (a subset of the
OpenAPI 3.0 Schema object, upper-case type names) and ``responseJsonSchema`` (standard JSON
Schema). We send ``responseJsonSchema``, so the caller's schema needs no translation, only
trimming: Google documents that "only the following properties are supported" and lists
them (``SUPPORTED`` below); it also says a sub-schema with ``$ref`` may carry no other
keyword except ``$``-prefixed ones.
https://ai.google.dev/api/generate-content#FIELDS.response_json_schema

Keywords outside that list are removed and *reported* (a ``CallWarning``), never dropped
silently. ``const`` is rewritten as a one-value ``enum`` (same meaning, supported). The
``$schema`` declaration is removed without a warning: it names the dialect, it constrains
nothing.

Tool parameters go to ``functionDeclarations[].parametersJsonSchema``, whose documentation
lists no restriction beyond "an object schema"; for those only ``$schema`` is removed
(``strip_meta``).
https://ai.google.dev/api/caching#FunctionDeclaration
"""

from __future__ import annotations

from typing import Any

SUPPORTED = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum",
    "items", "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf",
    "properties", "additionalProperties", "required", "propertyOrdering",
})

# Keywords whose value is a map of name -> sub-schema, or a list of sub-schemas.
_SCHEMA_MAPS = ("properties", "$defs")
_SCHEMA_LISTS = ("anyOf", "oneOf", "prefixItems")
# Keywords whose value is one sub-schema (or a boolean, left as is).
_SCHEMA_ONE = ("items", "additionalProperties")


def for_response(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The schema trimmed to what ``responseJsonSchema`` supports, and what was removed
    (as ``keyword at /json/pointer`` strings, for the warning)."""
    removed: list[str] = []
    return _trim(schema, "", removed), removed


def strip_meta(schema: dict[str, Any]) -> dict[str, Any]:
    """A tool's parameter schema without the top-level ``$schema`` declaration."""
    return {k: v for k, v in schema.items() if k != "$schema"}


def _trim(node: dict[str, Any], path: str, removed: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    has_ref = "$ref" in node
    for key, value in node.items():
        where = f"{key} at {path or '/'}"
        if key == "$schema":
            continue
        if has_ref and not key.startswith("$"):
            removed.append(f"{where} (beside $ref)")
            continue
        if key == "const" and "enum" not in node and isinstance(value, str | int | float):
            out["enum"] = [value]
            continue
        if key not in SUPPORTED:
            removed.append(where)
            continue
        out[key] = _trim_value(key, value, f"{path}/{key}", removed)
    return out


def _trim_value(key: str, value: Any, path: str, removed: list[str]) -> Any:
    if key in _SCHEMA_MAPS and isinstance(value, dict):
        return {
            name: _trim(sub, f"{path}/{name}", removed) if isinstance(sub, dict) else sub
            for name, sub in value.items()
        }
    if key in _SCHEMA_LISTS and isinstance(value, list):
        return [
            _trim(sub, f"{path}/{i}", removed) if isinstance(sub, dict) else sub
            for i, sub in enumerate(value)
        ]
    if key in _SCHEMA_ONE and isinstance(value, dict):
        return _trim(value, path, removed)
    return value
