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

Bounded whatever the schema asks (the schema comes from a caller, so it is hostile until
bounded; decision 0011): the value is at most ``MAX_VALUE_CHARS`` characters, the same as
the offline model's output limit, and at most ``MAX_STEPS`` schema nodes are visited (a
``$ref`` fan-out such as ``{"properties": {"a": {"$ref": "#"}, "b": {"$ref": "#"}}}``
would otherwise grow exponentially with the recursion depth). A schema that cannot be
satisfied within those bounds (``minLength: 500000000``, ``minItems: 3000000``, a
``multipleOf`` with no representable multiple in range) is refused up front with
``SchemaTooCostly``, an ``InvalidRequestError`` naming what asked for too much: the
request's answer is a clear 400, never a long computation.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from typing import Any

from switchboard.providers.offline.hints import Hints
from switchboard.providers.offline.limits import MAX_OUTPUT_CHARS
from switchboard.spec import InvalidRequestError

MAX_DEPTH = 8
MAX_VALUE_CHARS = MAX_OUTPUT_CHARS
"""Characters of JSON the value may take (compact: ``"a",`` is 4): the model's output cap."""
MAX_STEPS = 20_000
"""Schema nodes visited for one value (each ``value()`` call and each merge is one)."""

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
_URL_NAMES = frozenset("url uri link href website page".split())
_EXPRESSION_NAMES = frozenset("expression expr formula calculation equation sum".split())
_ZONE_NAMES = frozenset("timezone tz zone".split())
_IANA_ZONE = re.compile(r"\b(?:UTC|[A-Z][a-z]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b")
_PLACE_DEFAULT = "London"
_PERSON_DEFAULT = "Ada Lovelace"


class SchemaTooCostly(InvalidRequestError):
    """The schema asks for more than the offline model writes (a clear 400)."""

    code = "schema_too_costly"


def value_for(schema: dict[str, Any] | bool, hints: Hints, *, param: str | None = None) -> Any:
    """A value valid against ``schema`` (see the module doc for what is supported).

    ``param`` names the request field the schema came from, for ``SchemaTooCostly``.
    """
    return _Generator(schema, hints, param).value(schema, "", 0, 0)


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


def _literal_size(value: Any) -> int:
    """Compact JSON size of a literal taken from the schema (``const``, ``default``...)."""
    if isinstance(value, str):
        return len(value) + 2
    if value is None or isinstance(value, bool | int | float):
        return 8
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str))


def _whole(value: Any) -> int | None:
    """A JSON Schema count (``minLength``, ``minItems``...) as an int; None if absent or
    not a finite number (``check_schema`` refuses those, but stay safe: ``1e400``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None if value < 0 else MAX_VALUE_CHARS * 2
    return max(int(value), 0)


def _finite(value: Any) -> float | None:
    """A numeric bound as a finite float; None when absent, not a number, or infinite."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range
        return None
    return number if math.isfinite(number) else None


class _Generator:
    def __init__(self, root: dict[str, Any] | bool, hints: Hints, param: str | None) -> None:
        self.root = root
        self.hints = hints
        self.param = param
        self.chars = MAX_VALUE_CHARS
        self.steps = MAX_STEPS
        self._targets: dict[str, Any] = {}

    # -- the budget ----------------------------------------------------------------
    def _refuse(self, why: str) -> SchemaTooCostly:
        where = f"{self.param}: " if self.param else ""
        return SchemaTooCostly(
            f"{where}the offline model cannot produce a value for this schema: {why}. It "
            f"writes at most {MAX_VALUE_CHARS:,} characters of JSON; ask for less "
            "(smaller minLength / minItems, fewer required properties)", param=self.param)

    def _spend(self, chars: int, what: str) -> None:
        if chars > self.chars:
            raise self._refuse(what)
        self.chars -= chars

    def _step(self, count: int = 1) -> None:
        self.steps -= count
        if self.steps < 0:
            raise self._refuse(
                f"it has to visit more than {MAX_STEPS:,} schema nodes (deeply recursive "
                "$ref or allOf fan-out)")

    def _literal(self, value: Any) -> Any:
        self._spend(_literal_size(value), "a const/enum/default value is too large")
        return value

    def value(self, schema: dict[str, Any] | bool, name: str, depth: int, variant: int) -> Any:
        self._step()
        if schema is True:
            text = f"example {name}".strip() if name else "example"
            self._spend(len(text) + 3, "too many values")
            return text
        if schema is False or not isinstance(schema, dict):
            self._spend(5, "too many values")
            return None
        schema = self._resolve(schema, depth)
        if "const" in schema:
            return self._literal(schema["const"])
        if "enum" in schema:
            return self._literal(self._enum(schema["enum"], variant))
        if "default" in schema and variant == 0:
            return self._literal(schema["default"])
        if schema.get("examples") and isinstance(schema["examples"], list) and variant == 0:
            return self._literal(schema["examples"][0])
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
            number = self._number(schema, name, kind == "integer", variant)
            self._spend(len(str(number)) + 1, "too many values")
            return number
        if kind == "boolean":
            self._spend(6, "too many values")
            return bool(name) and self.hints.mentions(name)
        if kind == "null":
            self._spend(5, "too many values")
            return None
        return self._string(schema, name, variant)

    # -- structure -----------------------------------------------------------------
    def _resolve(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        while "$ref" in schema and depth <= MAX_DEPTH:
            self._step(1 + len(schema.get("properties") or ()))
            target = self._pointer(str(schema["$ref"]))
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            schema = _merge(target, rest) if isinstance(target, dict) else rest
            depth += 1
        parts = schema.get("allOf")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict):
                self._step(1 + len(schema.get("properties") or ()))
                schema = _merge({k: v for k, v in schema.items() if k != "allOf"},
                                self._resolve(part, depth + 1))
        return schema

    def _pointer(self, ref: str) -> Any:
        """The local target of ``ref``, looked up once per distinct ref."""
        if ref not in self._targets:
            self._targets[ref] = self._lookup(ref)
        return self._targets[ref]

    def _lookup(self, ref: str) -> Any:
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

    def _enum(self, options: Any, variant: int) -> Any:
        if not isinstance(options, list):
            return None
        for option in options:
            if isinstance(option, str) and self.hints.mentions(option):
                if variant == 0:
                    return option
        return options[variant % len(options)] if options else None

    def _object(self, schema: dict[str, Any], depth: int, variant: int) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        given = schema.get("required")
        required: list[str] = [k for k in given if isinstance(k, str)] if isinstance(
            given, list) else []
        wanted = set(required)
        deep = depth >= MAX_DEPTH
        self._spend(2, "too many values")
        result: dict[str, Any] = {}
        for key, sub in props.items():
            if deep and key not in wanted:
                continue
            self._spend(len(key) + 4, "too many object properties")
            result[key] = self.value(sub, key, depth + 1, variant)
        extra = schema.get("additionalProperties", True)
        for key in required:
            if key not in result:
                self._spend(len(key) + 4, "too many required properties")
                sub = extra if isinstance(extra, dict) else True
                result[key] = self.value(sub, key, depth + 1, variant)
        return result

    def _array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        given = schema.get("prefixItems")
        prefix: list[Any] = given if isinstance(given, list) else []
        items = schema.get("items", True)
        low = _whole(schema.get("minItems")) or 0
        high = _whole(schema.get("maxItems"))
        count = low if depth >= MAX_DEPTH else max(low, 1, len(prefix) if items is False else 0)
        if high is not None:
            count = min(count, high)
        # Each item takes at least two characters ("1,"): refuse before looping.
        self._spend(2, "too many values")
        if count * 2 > self.chars:
            raise self._refuse(f"minItems {count:,} is more items than fit")
        item_name = name[:-1] if name.endswith("s") else name
        out: list[Any] = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else items
            if sub is False:
                break
            self._spend(1, "too many array items")
            out.append(self.value(sub, item_name, depth + 1, i))
        if schema.get("uniqueItems"):
            seen: set[str] = set()
            unique: list[Any] = []
            for value in out:  # by canonical JSON: linear, where ``not in list`` is quadratic
                key = json.dumps(value, sort_keys=True, default=str)
                if key not in seen:
                    seen.add(key)
                    unique.append(value)
            out = unique if len(unique) >= low else out
        return out

    # -- scalars -------------------------------------------------------------------
    def _string(self, schema: dict[str, Any], name: str, variant: int) -> str:
        fmt = schema.get("format")
        words = set(_words(name))
        # A URL or a sum written in the text, where the schema asks for one (fetch_url,
        # calculator): what makes the offline model drive the tool loop (issue 14).
        found = (self.hints.take_url() if words & _URL_NAMES or fmt in ("uri", "url", "iri")
                 else self.hints.take_expression() if words & _EXPRESSION_NAMES else None)
        if found is None and words & _ZONE_NAMES:  # ``datetime``'s zone: as written, or UTC
            zone = _IANA_ZONE.search(self.hints.text)
            found = zone.group(0) if zone is not None else "UTC"
        if found is not None:
            self._spend(len(found) + 3, "too many values")
            return found
        if isinstance(fmt, str) and fmt in _FORMATS:
            self._spend(len(_FORMATS[fmt]) + 3, "too many values")
            return _FORMATS[fmt]
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
        low = _whole(schema.get("minLength")) or 0
        high = _whole(schema.get("maxLength"))
        if high is not None and len(text) > high:
            text = text[:high]
        if low + 3 > self.chars:
            raise self._refuse(f"minLength {low:,} is longer than fits")
        if len(text) < low:
            text = text + "x" * (low - len(text))
        self._spend(len(text) + 3, "too many values")
        return text

    def _number(self, schema: dict[str, Any], name: str, integer: bool,
                variant: int) -> int | float:
        found = self.hints.take_number()
        value: float = found if found is not None else 1.0
        value += variant
        step = 1.0 if integer else 1e-6
        low = _finite(schema.get("minimum"))
        above = _finite(schema.get("exclusiveMinimum"))
        if above is not None:
            low = max(low if low is not None else -math.inf, above + max(step, abs(above) * 1e-15))
        high = _finite(schema.get("maximum"))
        below = _finite(schema.get("exclusiveMaximum"))
        if below is not None:
            high = min(high if high is not None else math.inf,
                       below - max(step, abs(below) * 1e-15))
        if low is not None and value < low:
            value = low
        if high is not None and value > high:
            value = high
        multiple = _finite(schema.get("multipleOf"))
        if multiple is not None and multiple > 0:
            value = self._multiple(value, multiple, low, high)
        if integer:
            if not math.isfinite(value):
                raise self._refuse("no integer fits its bounds")
            whole = round(value)
            if low is not None and whole < low:
                whole = math.ceil(low)
            if high is not None and whole > high:
                whole = math.floor(high)
            return int(whole)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def _multiple(self, value: float, multiple: float, low: float | None,
                  high: float | None) -> float:
        """The multiple of ``multiple`` nearest ``value`` within [low, high], computed
        exactly (``5e-324`` or ``1e308`` overflow in float arithmetic)."""
        m = Fraction(multiple)
        k = Fraction(value) / m
        n = math.ceil(k) if low is not None else round(k)
        if high is not None and n * m > Fraction(high):
            n = math.floor(Fraction(high) / m)
        candidate = float(n * m)
        if not math.isfinite(candidate) or (low is not None and candidate < low) or (
                high is not None and candidate > high):
            if (low is None or low <= 0) and (high is None or high >= 0):
                return 0.0  # zero is a multiple of every number
            raise self._refuse(f"no multiple of {multiple!r} fits its minimum/maximum")
        return candidate
