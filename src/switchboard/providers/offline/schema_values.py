"""A JSON value that validates against a JSON Schema, filled from the user's words.

Used for forced tool-call arguments and ``response_format`` json_schema answers. Supported:
``type`` (also lists), ``const``, ``enum``, ``default``/``examples``, ``properties`` /
``required`` / ``additionalProperties``, ``items`` / ``prefixItems`` / ``minItems`` /
``maxItems`` / ``uniqueItems``, string ``format`` (date, date-time, time, email, uri,
hostname, ipv4, ipv6, uuid, duration), ``minLength`` / ``maxLength``, numeric bounds and
``multipleOf``, ``allOf`` (merged), ``anyOf`` / ``oneOf`` (first non-null branch), and
local ``$ref`` (``#/$defs/...``; recursion is cut at depth 8 with the smallest value).
Not supported: ``pattern``, ``not``, ``if``/``then``/``else``, ``dependentRequired``,
remote ``$ref`` — a schema relying on those may get a value that does not validate.
"""

from __future__ import annotations

import math
import re
from typing import Any

from switchboard.providers.offline.hints import Hints

MAX_DEPTH = 8

_FORMATS: dict[str, str] = {
    "date": "2026-01-15",
    "date-time": "2026-01-15T09:30:00Z",
    "time": "09:30:00Z",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uri": "https://example.com/",
    "iri": "https://example.com/",
    "url": "https://example.com/",
    "uri-reference": "https://example.com/",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
    "duration": "PT1H",
}
_PLACE = frozenset("city location place country region town destination origin address "
                   "state area venue where".split())
_PERSON = frozenset("name person user username author recipient owner who".split())
_FREE_TEXT = frozenset("query q search text prompt question input message content topic "
                       "keyword keywords term terms subject body comment description "
                       "summary answer reply note".split())
_PLACE_DEFAULT = "London"
_PERSON_DEFAULT = "Ada Lovelace"


def value_for(schema: dict[str, Any] | bool, hints: Hints) -> Any:
    """A value valid against ``schema`` (see the module doc for what is supported)."""
    return _Generator(schema, hints).value(schema, "", 0, 0)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [w.lower() for w in re.split(r"[_\W]+", spaced) if w]


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **extra}
    if "properties" in base or "properties" in extra:
        merged["properties"] = {**base.get("properties", {}), **extra.get("properties", {})}
    if "required" in base or "required" in extra:
        merged["required"] = list(dict.fromkeys([*base.get("required", []),
                                                 *extra.get("required", [])]))
    return merged


class _Generator:
    def __init__(self, root: dict[str, Any] | bool, hints: Hints) -> None:
        self.root = root
        self.hints = hints

    def value(self, schema: dict[str, Any] | bool, name: str, depth: int, variant: int) -> Any:
        if schema is True:
            return f"example {name}".strip() if name else "example"
        if schema is False:
            return None
        schema = self._resolve(schema, depth)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._enum(schema["enum"], variant)
        if "default" in schema and variant == 0:
            return schema["default"]
        if schema.get("examples") and variant == 0:
            return schema["examples"][0]
        branch = schema.get("anyOf") or schema.get("oneOf")
        if branch:
            options = [b for b in branch if not (isinstance(b, dict) and b.get("type") == "null")]
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            chosen = (options or branch)[0]
            if isinstance(chosen, dict):
                return self.value(_merge(rest, chosen), name, depth + 1, variant)
            return self.value(chosen, name, depth + 1, variant)
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, depth, variant)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind in ("number", "integer"):
            return self._number(schema, name, kind == "integer", variant)
        if kind == "boolean":
            return bool(name) and self.hints.mentions(name)
        if kind == "null":
            return None
        return self._string(schema, name, variant)

    # -- structure -----------------------------------------------------------------
    def _resolve(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        while "$ref" in schema and depth <= MAX_DEPTH:
            target = self._pointer(str(schema["$ref"]))
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(target, rest) if isinstance(target, dict) else rest
            depth += 1
        for part in schema.get("allOf", []):
            if isinstance(part, dict):
                schema = _merge({k: v for k, v in schema.items() if k != "allOf"},
                                self._resolve(part, depth + 1))
        return schema

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for token in ref[1:].split("/"):
            if not token:
                continue
            token = token.replace("~1", "/").replace("~0", "~")
            node = node.get(token, {}) if isinstance(node, dict) else {}
        return node

    @staticmethod
    def _type(schema: dict[str, Any]) -> str:
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"] or ["null"]
            return str(kinds[0])
        if isinstance(kind, str):
            return kind
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
            return "number"
        return "string"

    def _enum(self, options: list[Any], variant: int) -> Any:
        for option in options:
            if isinstance(option, str) and self.hints.mentions(option):
                if variant == 0:
                    return option
        return options[variant % len(options)] if options else None

    def _object(self, schema: dict[str, Any], depth: int, variant: int) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties", {})
        required: list[str] = list(schema.get("required", []))
        deep = depth >= MAX_DEPTH
        result: dict[str, Any] = {}
        for key, sub in props.items():
            if deep and key not in required:
                continue
            result[key] = self.value(sub, key, depth + 1, variant)
        extra = schema.get("additionalProperties", True)
        for key in required:
            if key not in result:
                sub = extra if isinstance(extra, dict) else True
                result[key] = self.value(sub, key, depth + 1, variant)
        return result

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix: list[Any] = schema.get("prefixItems", [])
        items = schema.get("items", True)
        low = int(schema.get("minItems", 0))
        high = schema.get("maxItems")
        count = low if depth >= MAX_DEPTH else max(low, 1, len(prefix) if items is False else 0)
        if high is not None:
            count = min(count, int(high))
        item_name = name[:-1] if name.endswith("s") else name
        out: list[Any] = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            out.append(self.value(sub, item_name, depth + 1, i))
        if schema.get("uniqueItems"):
            seen: list[Any] = []
            for value in out:
                if value not in seen:
                    seen.append(value)
            out = seen if len(seen) >= low else out
        return out

    # -- scalars -------------------------------------------------------------------
    def _string(self, schema: dict[str, Any], name: str, variant: int) -> str:
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in _FORMATS:
            return _FORMATS[fmt]
        words = set(_words(name))
        text: str | None = None
        if words & _PLACE:
            text = self.hints.take_name() or self.hints.take_quoted() or _PLACE_DEFAULT
        elif words & _PERSON:
            text = self.hints.take_name() or self.hints.take_quoted() or _PERSON_DEFAULT
        elif words & _FREE_TEXT:
            text = self.hints.take_quoted() or " ".join(self.hints.text.split()) or None
        if text is None:
            text = self.hints.take_quoted() or ("example " + " ".join(_words(name))).strip()
        if variant:
            text = f"{text} {variant + 1}"
        low = int(schema.get("minLength", 0))
        high = schema.get("maxLength")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        if high is not None and len(text) > int(high):
            text = text[: int(high)]
        return text

    def _number(self, schema: dict[str, Any], name: str, integer: bool,
                variant: int) -> int | float:
        found = self.hints.take_number()
        value: float = found if found is not None else 1.0
        value += variant
        step = 1.0 if integer else 1e-6
        low = schema.get("minimum")
        if "exclusiveMinimum" in schema:
            low = max(low if low is not None else -math.inf, schema["exclusiveMinimum"] + step)
        high = schema.get("maximum")
        if "exclusiveMaximum" in schema:
            high = min(high if high is not None else math.inf, schema["exclusiveMaximum"] - step)
        if low is not None and value < low:
            value = float(low)
        if high is not None and value > high:
            value = float(high)
        multiple = schema.get("multipleOf")
        if multiple:
            k = math.ceil(value / multiple) if low is not None else round(value / multiple)
            if high is not None and k * multiple > high:
                k = math.floor(high / multiple)
            value = k * multiple
        if integer:
            whole = round(value)
            if low is not None and whole < low:
                whole = math.ceil(low)
            if high is not None and whole > high:
                whole = math.floor(high)
            return int(whole)
        return int(value) if float(value).is_integer() else value
