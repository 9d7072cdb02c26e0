"""The ``openai_compatible`` kind: the OpenAI wire against any base URL.

Everything but configuration is the ``openai`` adapter's code: this subclass only says
where the server is, how its key is found, and which ``Quirks`` it has (fields of the
``Config``, so a database row or a preset can describe a vendor with no code).
Options: ``provider_options["openai_compatible"]`` and, for a named instance such as
``groq``, ``provider_options["groq"]`` are merged into the body last, in that order.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from pydantic import SecretStr

from switchboard.providers.openai.models import compatible_model_info
from switchboard.providers.openai.provider import OpenAIProvider
from switchboard.providers.openai.quirks import QUIRK_FIELDS, Quirks
from switchboard.providers.openai_compatible.config import OpenAICompatibleConfig
from switchboard.providers.openai_compatible.presets import load_presets
from switchboard.spec.errors import MissingApiKeyError, UnknownProviderError
from switchboard.spec.model import Capabilities, ModelInfo
from switchboard.spec.provider import ProviderConfig


class OpenAICompatibleProvider(OpenAIProvider):
    kind: ClassVar[str] = "openai_compatible"
    display_name: ClassVar[str] = "OpenAI-compatible endpoint"
    Config: ClassVar[type[ProviderConfig]] = OpenAICompatibleConfig
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None
    default_model: ClassVar[str | None] = None
    requires_api_key: ClassVar[bool] = False  # per instance: config.requires_api_key
    docs_url: ClassVar[str | None] = (
        "https://platform.openai.com/docs/api-reference/chat")

    def __init__(self, config: ProviderConfig | None = None, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        if not isinstance(self.config, OpenAICompatibleConfig):
            raise TypeError("OpenAICompatibleProvider needs an OpenAICompatibleConfig")
        self.compat: OpenAICompatibleConfig = self.config
        self._quirks = Quirks.model_validate(self.compat.model_dump(include=set(QUIRK_FIELDS)))

    @classmethod
    def from_preset(
        cls,
        preset: str,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        name: str | None = None,
        **overrides: Any,
    ) -> OpenAICompatibleProvider:
        """A provider for a bundled vendor (``load_presets()``), named after the preset
        unless ``name`` is given; ``overrides`` set any other ``Config`` field."""
        presets = load_presets()
        row = presets.get(preset)
        if row is None:
            raise UnknownProviderError(
                f"no openai_compatible preset named {preset!r}; known presets: "
                f"{', '.join(presets)}")
        settings: dict[str, Any] = {
            "base_url": base_url or row.base_url,
            "api_key": SecretStr(api_key) if api_key is not None else None,
            "api_key_env": row.api_key_env,
            "default_model": row.default_model,
            **row.quirks,
            **overrides,
        }
        return cls(OpenAICompatibleConfig(**settings), name=name or row.name)

    # -- configuration ---------------------------------------------------------------
    @property
    def quirks(self) -> Quirks:
        return self._quirks

    @property
    def api_key(self) -> str | None:
        if self.compat.api_key is not None:
            return self.compat.api_key.get_secret_value()
        if self.compat.api_key_env:
            return os.environ.get(self.compat.api_key_env) or None
        return None

    @property
    def is_configured(self) -> bool:
        return not self.compat.requires_api_key or self.api_key is not None

    def require_api_key(self) -> str:
        key = self.api_key
        if key is None:
            env = self.compat.api_key_env
            where = f"set {env} or run" if env else "run"
            raise MissingApiKeyError(
                f"no API key for provider {self.name!r} ({self.kind}): {where} "
                f"`switchboard keys set {self.name}` (or set requires_api_key to false "
                "for a server that needs no key)")
        return key

    def key_for_request(self) -> str | None:
        if self.compat.requires_api_key:
            return self.require_api_key()
        return self.api_key

    def option_keys(self) -> tuple[str, ...]:
        return (self.kind, self.name) if self.name != self.kind else (self.kind,)

    # -- models ----------------------------------------------------------------------
    def capabilities(self, model_id: str) -> Capabilities:
        info = self.known_models.get(model_id)
        return info.capabilities if info else Capabilities(streaming=True)

    def model_info(self, body: Any) -> list[ModelInfo]:
        return compatible_model_info(body)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "base_url": self.compat.base_url,
            "api_key_env": self.compat.api_key_env,
            "default_model": self.compat.default_model,
            "requires_api_key": self.compat.requires_api_key,
        }
