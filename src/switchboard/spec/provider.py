"""The ``Provider`` / ``ChatModel`` contract that every adapter and plugin implements.

A provider *kind* is a subclass of ``Provider``; a provider *instance* is that class built
with a ``Config`` (key, base URL, headers). An adapter implements three things:
``ChatModel.stream()`` (neutral request -> neutral events), ``list_models()`` and,
optionally, ``validate_key()`` (defaults to listing models). Retries, accounting and
pricing are done by the framework around it, never inside the adapter.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from switchboard.spec.collect import ChatResult, collect_stream, result_events
from switchboard.spec.embedding import EmbeddingRequest, EmbeddingResult
from switchboard.spec.errors import InvalidRequestError, MissingApiKeyError
from switchboard.spec.events import StreamEvent
from switchboard.spec.image import ImageRequest, ImageResult
from switchboard.spec.limits import MAX_EMBEDDING_CHARS, MAX_EMBEDDING_INPUTS
from switchboard.spec.model import Capabilities, ImageCapabilities, ModelInfo, ModelType
from switchboard.spec.request import ChatRequest
from switchboard.spec.usage import Price, Usage, cost


class ProviderConfig(BaseModel):
    """Settings of one provider instance. Subclasses add vendor settings; unknown keys
    are refused so a typo is an error, not a silently ignored option."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    base_url: str | None = None
    extra_headers: dict[str, str] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0, description="read timeout, seconds")
    max_retries: int = Field(default=2, ge=0, le=10)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """Outcome of "Test connection"."""

    ok: bool
    latency_ms: float
    message: str
    models_seen: int | None = None


class ChatModel(ABC):
    """One model of one provider instance, ready to be called."""

    def __init__(self, provider: Provider, model_id: str) -> None:
        self.provider = provider
        self.model_id = model_id

    @property
    def capabilities(self) -> Capabilities:
        return self.provider.capabilities(self.model_id)

    @abstractmethod
    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        """Yield ``StreamStart`` ... ``Finish`` (or ``ErrorEvent``).

        Open the HTTP response (status checked) *before* yielding ``StreamStart``: raise a
        ``ProviderError`` for a failure before the first event (the retry policy may then
        try again); after that, report failures as an in-band ``ErrorEvent`` (or raise,
        and the framework's wrapper turns it into one).
        """

    @property
    def native_choices(self) -> bool:
        """Whether the vendor answers ``n`` choices in one call (decision 0084). A model
        that says so implements ``stream_choices`` and ``generate_choices``; every other
        model's ``n`` is n calls (``api/openai/fanout.py``)."""
        return False

    def stream_choices(self, request: ChatRequest, n: int) -> AsyncIterator[StreamEvent]:
        """As ``stream``, ONE vendor call answering ``n`` choices: the events of choice
        ``i >= 1`` wrapped in ``Choice`` (``spec.choices.split_choices`` unwraps them);
        the vendor's usage on choice 0's ``Finish``, explicit zeros on the others'."""
        raise NotImplementedError(f"{type(self).__name__} has no native n")

    async def generate_choices(self, request: ChatRequest, n: int) -> list[StreamEvent]:
        """As ``stream_choices``, non-streaming: the whole answer as the same events."""
        raise NotImplementedError(f"{type(self).__name__} has no native n")

    async def generate(self, request: ChatRequest) -> ChatResult:
        """One non-streaming call. Adapters override this to use the vendor's
        non-streaming endpoint, converting its response to the same neutral events and
        folding them with ``collect`` (one accumulation path for both modes)."""
        return await collect_stream(self.stream(request))

    async def generate_events(self, request: ChatRequest) -> list[StreamEvent]:
        """``generate`` as the events of a stream (``StreamStart`` ... ``Finish`` or
        ``ErrorEvent``), which the framework replays through its retry layer and
        metering: by default the folded result replayed (``result_events``). An adapter
        that converts the vendor's answer to events returns those instead, skipping a
        fold and its replay per call; ``collect`` of them is the same result
        (decision 0210). Raise a ``ProviderError`` as ``generate`` would."""
        return result_events(await self.generate(request))


class EmbeddingModel(ABC):
    """One embedding model of one provider instance, ready to be called."""

    max_batch: ClassVar[int] = MAX_EMBEDDING_INPUTS
    """Inputs per upstream call the vendor accepts (its documented limit)."""
    max_batch_chars: ClassVar[int] = MAX_EMBEDDING_CHARS
    """Characters of text per upstream call (a stand-in for a per-request token limit,
    at ~4 characters per token)."""
    token_input: ClassVar[bool] = False
    """Whether the vendor accepts token-id arrays; else they are refused before a call."""

    def __init__(self, provider: Provider, model_id: str) -> None:
        self.provider = provider
        self.model_id = model_id

    @abstractmethod
    async def embed_batch(self, request: EmbeddingRequest) -> EmbeddingResult:
        """One upstream call for at most ``max_batch`` inputs. Raise a ``ProviderError``
        on failure (the framework retries a retryable one)."""



class ImageModel(ABC):
    """One image-generation model of one provider instance, ready to be called."""

    def __init__(self, provider: Provider, model_id: str) -> None:
        self.provider = provider
        self.model_id = model_id

    @abstractmethod
    async def generate_images(self, request: ImageRequest) -> ImageResult:
        """One upstream call for ``request.n`` pictures (at most the model's
        ``ImageCapabilities.max_n``; size and quality already settled). Raise a
        ``ProviderError`` on failure (the framework retries a retryable one)."""

    async def edit_images(self, request: ImageRequest) -> ImageResult:
        """One upstream call editing ``request.images`` (``request.is_edit``) into
        ``request.n`` pictures. Only a model whose ``ImageCapabilities.edits`` is true
        is asked; the default says this adapter has no edits."""
        raise InvalidRequestError(f"model {self.model_id!r} cannot edit pictures",
                                  param="image")


class Provider(ABC):
    """A provider kind. Class attributes describe it; an instance is configured."""

    kind: ClassVar[str]
    display_name: ClassVar[str]
    Config: ClassVar[type[ProviderConfig]] = ProviderConfig
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    default_base_url: ClassVar[str | None] = None
    default_model: ClassVar[str | None] = None
    requires_api_key: ClassVar[bool] = True
    docs_url: ClassVar[str | None] = None
    draws_with_chat_models: ClassVar[bool] = False
    """Its chat models that draw (capability ``image_output``) also serve the image
    contract through ``image_model()`` (Gemini: one ``generateContent`` call per picture,
    decision 0194). Off: only its ``type: image`` models make images."""
    owned_fields: ClassVar[frozenset[str]] = frozenset()
    """Vendor request-body fields this adapter derives from the neutral request (the
    conversation, tools, output format...), which ``provider_options`` may not set. The
    registry refuses them, with the fields every kind shares (``model``, ``stream``,
    ``messages``...) and the instance's own settings (``Config`` fields); see
    ``registry.passthrough``."""

    def __init__(
        self,
        config: ProviderConfig | None = None,
        *,
        name: str | None = None,
        prices: Mapping[str, Price] | None = None,
        models: Mapping[str, ModelInfo] | None = None,
    ) -> None:
        self.config = config if config is not None else self.Config()
        self.name = name or self.kind
        self.prices: Mapping[str, Price] = prices or {}
        self.known_models: Mapping[str, ModelInfo] = models or {}

    # -- configuration -------------------------------------------------------------
    @classmethod
    def required_env_vars(cls) -> list[str]:
        return [cls.api_key_env] if cls.requires_api_key and cls.api_key_env else []

    @property
    def api_key(self) -> str | None:
        """The key from the config, else from the conventional environment variable."""
        if self.config.api_key is not None:
            return self.config.api_key.get_secret_value()
        if self.api_key_env:
            return os.environ.get(self.api_key_env) or None
        return None

    @property
    def base_url(self) -> str:
        url = self.config.base_url
        if not url and self.base_url_env:
            url = os.environ.get(self.base_url_env) or None
        url = url or self.default_base_url
        if not url:
            raise MissingApiKeyError(
                f"provider {self.name!r} ({self.kind}) has no base URL: set it with "
                f"`switchboard providers update {self.name} --base-url URL`"
            )
        return url.rstrip("/")

    @property
    def is_configured(self) -> bool:
        return not self.requires_api_key or self.api_key is not None

    def require_api_key(self) -> str:
        key = self.api_key
        if key is None:
            where = f"set {self.api_key_env} or run" if self.api_key_env else "run"
            raise MissingApiKeyError(
                f"no API key for provider {self.name!r} ({self.kind}): {where} "
                f"`switchboard keys set {self.name}`"
            )
        return key

    def option_keys(self) -> tuple[str, ...]:
        """The ``provider_options`` keys this instance reads: its kind (an adapter that
        also reads its instance name, like ``openai_compatible``'s ``groq``, says so)."""
        return (self.kind,)

    # -- models --------------------------------------------------------------------
    @abstractmethod
    def chat_model(self, model_id: str) -> ChatModel: ...

    def embedding_model(self, model_id: str) -> EmbeddingModel:
        """The adapter's embedding model; kinds without embeddings keep this refusal."""
        raise InvalidRequestError(
            f"provider {self.name!r} ({self.display_name}) offers no embedding models",
            param="model")

    def image_model(self, model_id: str) -> ImageModel:
        """The adapter's image model; kinds without image generation keep this refusal."""
        raise InvalidRequestError(
            f"provider {self.name!r} ({self.display_name}) offers no image models",
            param="model")

    def model_type(self, model_id: str) -> ModelType:
        """What ``model_id`` is: the catalog's word, else the adapter's guess from the
        id (``chat`` when it has none)."""
        info = self.known_models.get(model_id)
        return info.type if info is not None else "chat"

    @abstractmethod
    async def list_models(self) -> list[ModelInfo]:
        """The vendor's model list (discovery)."""

    def capabilities(self, model_id: str) -> Capabilities:
        info = self.known_models.get(model_id)
        return info.capabilities if info else Capabilities(streaming=True)

    def image_capabilities(self, model_id: str) -> ImageCapabilities | None:
        """An image model's sizes, qualities and prices (the catalog's, else ``None``:
        then any allowed size is passed on and the cost is unknown)."""
        info = self.known_models.get(model_id)
        return info.image if info is not None else None

    async def validate_key(self) -> KeyCheck:
        """A cheap authenticated call: by default, list the models."""
        import time

        started = time.perf_counter()
        models = await self.list_models()
        ms = (time.perf_counter() - started) * 1000
        return KeyCheck(True, ms, f"ok: {len(models)} models visible", len(models))

    # -- cost ----------------------------------------------------------------------
    def price_for(self, model_id: str) -> Price | None:
        info = self.known_models.get(model_id)
        if info is not None and info.price is not None:
            return info.price
        return self.prices.get(model_id)

    def estimate_cost(self, model_id: str, usage: Usage) -> Decimal | None:
        return cost(usage, self.price_for(model_id))

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "display_name": self.display_name,
            "api_key_env": self.api_key_env,
            "base_url_env": self.base_url_env,
            "default_base_url": self.default_base_url,
            "default_model": self.default_model,
            "requires_api_key": self.requires_api_key,
        }
