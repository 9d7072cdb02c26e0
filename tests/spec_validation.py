"""Validate request bodies against the vendors' official OpenAPI files in ../shared/specs.

Skipped (not failed) when that folder is absent, as in a user's clone. The spec files use
OpenAPI 3.0's ``nullable`` without ``type`` in places (see shared/specs/SOURCES.md); we
normalise ``nullable: true`` into JSON Schema's ``"null"`` alternative before validating.
Parsed specs are cached as JSON under the system temp dir, keyed by the file's hash, since
parsing the multi-megabyte YAML takes seconds.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SPECS

FILES = {
    "openai": SPECS / "openai" / "openapi.yaml",
    "mistral": SPECS / "mistral" / "openapi.yaml",
    "anthropic": SPECS / "anthropic" / "hosted_spec.yaml",
}


def spec_available(vendor: str) -> bool:
    return FILES[vendor].exists()


def require_spec(vendor: str) -> None:
    if not FILES[vendor].exists():
        pytest.skip(f"../shared/specs has no {vendor} spec here")


def _normalise(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _normalise(v) for k, v in node.items()}
        if "type" in out and out["type"] is None:
            # The Anthropic mirror writes `type: null` beside `anyOf` to mean "no type
            # constraint" (Stainless output), not JSON's null type.
            del out["type"]
        if out.pop("nullable", False) is True:
            return {"anyOf": [out, {"type": "null"}]}
        if "enum" in out and isinstance(out["enum"], list):
            seen: list[Any] = []
            for v in out["enum"]:
                if v not in seen:
                    seen.append(v)
            out["enum"] = seen
        return out
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


@cache
def load_spec(vendor: str) -> dict[str, Any]:
    path = FILES[vendor]
    raw = path.read_bytes()
    cache_file = Path(tempfile.gettempdir()) / (
        f"sb-spec-v3-{vendor}-{hashlib.sha256(raw).hexdigest()[:16]}.json"
    )
    if cache_file.exists():
        loaded: dict[str, Any] = json.loads(cache_file.read_text())
        return loaded
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = _normalise(yaml.load(raw, Loader=loader))
    cache_file.write_text(json.dumps(spec, default=str))
    return spec  # type: ignore[no-any-return]


def request_schema(vendor: str, path: str, method: str = "post") -> dict[str, Any]:
    spec = load_spec(vendor)
    op = spec["paths"][path][method]
    content = op["requestBody"]["content"]
    media = content.get("application/json") or next(iter(content.values()))
    return media["schema"]  # type: ignore[no-any-return]


def validate_request(vendor: str, path: str, body: Any, method: str = "post") -> None:
    """Fail with the validator's findings if ``body`` breaks the vendor's schema."""
    require_spec(vendor)
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = load_spec(vendor)
    root = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:spec", root)
    schema = request_schema(vendor, path, method)
    # Internal refs are "#/components/...": resolve them against the spec document.
    validator = Draft202012Validator(_rebase(schema), registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        lines = [f"- at {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:300]}"
                 for e in errors[:10]]
        raise AssertionError(f"{vendor} request body breaks {path} schema:\n" + "\n".join(lines))


def _rebase(node: Any) -> Any:
    """Point local ``#/...`` refs at the spec resource registered as ``urn:spec``."""
    if isinstance(node, dict):
        return {k: (f"urn:spec{v}" if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else _rebase(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def validate_component(vendor: str, component: str, instance: Any) -> None:
    """Validate against ``#/components/schemas/<component>`` (e.g. a response object)."""
    require_spec(vendor)
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = load_spec(vendor)
    root = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:spec", root)
    schema = {"$ref": f"urn:spec#/components/schemas/{component}"}
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(instance),
                    key=lambda e: list(e.path))
    if errors:
        lines = [f"- at {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:300]}"
                 for e in errors[:10]]
        raise AssertionError(f"{vendor} {component} invalid:\n" + "\n".join(lines))
