"""Checks on admin input, done before any write so a refusal leaves the database as it was.

Every message says what is wrong and how to fix it, and never echoes a secret.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from switchboard.registry.kinds import Kinds, load_kinds
from switchboard.services.errors import ValidationFailed
from switchboard.spec.provider import Provider

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Fields of ProviderConfig that have their own columns/commands, not ``settings``.
_NOT_SETTINGS = ("api_key", "base_url")


@lru_cache(maxsize=1)
def installed_kinds() -> Kinds:
    """The provider kinds of this process (built-ins + plugins), loaded once."""
    return load_kinds()


def provider_class(kind: str, kinds: Kinds | None = None) -> type[Provider]:
    kinds = kinds if kinds is not None else installed_kinds()
    cls = kinds.get(kind)
    if cls is None:
        failed = [f for f in kinds.failures if f.name == kind]
        why = f" (it failed to load: {failed[0].reason})" if failed else ""
        raise ValidationFailed(
            f"unknown provider kind {kind!r}{why}; installed kinds: "
            f"{', '.join(kinds.names()) or 'none'}",
            field="kind",
        )
    return cls


def provider_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationFailed(
            f"invalid provider name {name!r}: use 1-100 characters of letters, digits, "
            "'.', '_' or '-', starting with a letter or digit (it is the part before the "
            "colon in 'provider:model')",
            field="name",
        )
    return name


def model_sdk_id(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 200 or any(c.isspace() for c in value):
        raise ValidationFailed(
            f"invalid model id {value!r}: give the id the vendor knows the model by "
            "(1-200 characters, no spaces), e.g. 'gpt-4o-mini'",
            field="model_sdk_id",
        )
    return value


def display_name(value: str | None, fallback: str) -> str:
    value = (value or "").strip() or fallback
    if len(value) > 200:
        raise ValidationFailed("display name longer than 200 characters", field="name")
    return value


def base_url(url: str | None) -> str | None:
    """An http(s) URL without credentials or fragment, trailing slash removed; ``None``
    or "" means "the kind's default"."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    how = "give a URL like https://api.example.com/v1"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"invalid base URL {url!r}: {how}", field="base_url")
    if parts.username or parts.password:
        raise ValidationFailed(
            "invalid base URL: it contains credentials (user:password@); put the key in "
            "`switchboard keys set PROVIDER` instead, where it is stored encrypted",
            field="base_url",
        )
    if parts.fragment:
        raise ValidationFailed(f"invalid base URL {url!r}: remove the '#...' part; {how}",
                               field="base_url")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationFailed(f"invalid base URL {url!r}: bad port; {how}",
                               field="base_url") from None
    return url.rstrip("/")


def settings(
    cls: type[Provider], values: dict[str, Any] | None, base_url: str | None = None
) -> dict[str, Any]:
    """Validate ``values`` (with the row's ``base_url``) against the kind's ``Config``
    (unknown keys are refused); returns the settings to store."""
    values = dict(values or {})
    for key in _NOT_SETTINGS:
        if key in values:
            hint = ("`switchboard keys set`" if key == "api_key" else "--base-url")
            raise ValidationFailed(f"{key!r} is not a setting; use {hint}", field=key)
    try:
        cls.Config.model_validate({**values, "base_url": base_url})
    except ValidationError as exc:
        if base_url is None and "base_url" in str(exc):
            raise ValidationFailed(
                f"kind {cls.kind!r} has no default base URL: give one with --base-url URL "
                "(the server's OpenAI-compatible endpoint, e.g. http://localhost:11434/v1)"
                " or use --preset NAME",
                field="base_url",
            ) from None
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        allowed = sorted(set(cls.Config.model_fields) - set(_NOT_SETTINGS))
        raise ValidationFailed(
            f"invalid settings for kind {cls.kind!r}: {problems} (allowed: {', '.join(allowed)})",
            field="settings",
        ) from None
    return values
