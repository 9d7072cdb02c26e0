"""Is a caller's JSON Schema valid (draft 2020-12)? Checked fast, and once per schema.

``Draft202012Validator.check_schema`` costs about 1 ms per property of the checked schema:
the official meta-schema is seven vocabulary meta-schemas tied together with
``$dynamicRef``, and resolving the dynamic scope at every subschema dominates. A request
may carry 10,000 schema values (``limits.MAX_SCHEMA_NODES``), which took ~10 s on the
event loop. Here the same meta-schema is flattened once: the vocabularies' keywords are
merged into one schema and ``$dynamicRef: "#meta"`` becomes ``$ref: "#"`` — the same
constraints (the dynamic reference only matters to meta-schemas that *extend* the
vocabularies), the same error paths and messages, about six times faster. Decision 0013.

Valid schemas are also remembered, by digest of their canonical JSON (bounded LRU):
clients send the same tools with every call.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import orjson

from switchboard.spec.limits import MAX_SCHEMA_DEPTH, MAX_SCHEMA_NODES, json_size

_VOCABULARY_BASE = "https://json-schema.org/draft/2020-12/"
_VALID: OrderedDict[bytes, None] = OrderedDict()
_VALID_MAX = 2_048
_LOCK = threading.Lock()  # validation may run in worker threads (large bodies)


def _static(node: Any) -> Any:
    """``node`` with every ``$dynamicRef: "#meta"`` turned into ``$ref: "#"``, and every
    reference into a vocabulary's ``$defs`` (``meta/validation#/$defs/stringArray``)
    into the merged ``$defs``."""
    if isinstance(node, list):
        return [_static(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$dynamicRef" and value == "#meta":
            out["$ref"] = "#"
        elif key == "$ref" and isinstance(value, str) and "#/$defs/" in value:
            out["$ref"] = "#/$defs/" + value.split("#/$defs/", 1)[1]
        else:
            out[key] = _static(value)
    return out


@lru_cache(maxsize=1)
def _validator() -> Any:
    """A validator of the flattened draft 2020-12 meta-schema (built on first use:
    ``jsonschema`` is imported lazily to keep start-up fast)."""
    import jsonschema_specifications
    from jsonschema import Draft202012Validator

    meta = Draft202012Validator.META_SCHEMA
    flat: dict[str, Any] = {"type": ["object", "boolean"], "properties": {}, "$defs": {}}
    for part in meta["allOf"]:
        vocabulary = jsonschema_specifications.REGISTRY.contents(
            _VOCABULARY_BASE + part["$ref"])
        flat["properties"].update(vocabulary.get("properties", {}))
        flat["$defs"].update(vocabulary.get("$defs", {}))
    flat["properties"].update(meta.get("properties", {}))
    return Draft202012Validator(_static(flat))


def check_json_schema(schema: dict[str, Any], where: str) -> None:
    """Raise ``ValueError`` if ``schema`` is not a valid JSON Schema (draft 2020-12), or
    larger than ``limits.MAX_SCHEMA_NODES`` / deeper than ``limits.MAX_SCHEMA_DEPTH``."""
    json_size(schema, max_nodes=MAX_SCHEMA_NODES, max_depth=MAX_SCHEMA_DEPTH, what=where)
    try:
        digest: bytes | None = hashlib.sha256(
            orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)).digest()
    except TypeError:  # not JSON (a Python caller's object): check it, remember nothing
        digest = None
    if digest is not None:
        with _LOCK:
            if digest in _VALID:
                _VALID.move_to_end(digest)
                return
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(schema))
    if error is not None:
        path = "/".join(str(p) for p in error.path) or "(root)"
        raise ValueError(f"{where} is not a valid JSON Schema at {path}: {error.message}")
    if digest is not None:
        with _LOCK:
            _VALID[digest] = None
            while len(_VALID) > _VALID_MAX:
                _VALID.popitem(last=False)
