"""The ``openai`` provider kind: OpenAI's Chat Completions API.

https://platform.openai.com/docs/api-reference/chat
The base URL includes ``/v1`` exactly as ``OPENAI_BASE_URL`` does for the official SDK;
paths ``/chat/completions`` and ``/models`` are appended to it. The ``openai_compatible``
kind subclasses these classes and only changes the configuration (``quirks``).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Callable
from functools import cached_property
from typing import Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

from switchboard.providers.openai.config import OpenAIConfig
from switchboard.providers.openai.convert_request import build_body
from switchboard.providers.openai.convert_response import convert_response
from switchboard.providers.openai.convert_stream import StreamConverter
from switchboard.providers.openai.embeddings import build_body as build_embedding_body
from switchboard.providers.openai.embeddings import parse_response as parse_embeddings
from switchboard.providers.openai.images import build_body as build_image_body
from switchboard.providers.openai.images import build_edit_body, fetch_urls
from switchboard.providers.openai.images import parse_response as parse_images
from switchboard.providers.openai.models import openai_capabilities, openai_model_info
from switchboard.providers.openai.quirks import OPENAI_QUIRKS, Quirks
from switchboard.spec.collect import ChatResult, collect
from switchboard.spec.embedding import EmbeddingRequest, EmbeddingResult
from switchboard.spec.errors import ProviderError
from switchboard.spec.events import StreamEvent
from switchboard.spec.image import ImageRequest, ImageResult
from switchboard.spec.model import Capabilities, ModelInfo, ModelType
from switchboard.spec.provider import (
    ChatModel,
    EmbeddingModel,
    ImageModel,
    KeyCheck,
    Provider,
    ProviderConfig,
)
from switchboard.spec.request import ChatRequest
from switchboard.upstream.client import Multipart, request_json
from switchboard.upstream.driver import (
    HttpCall,
    StartStream,
    answer_call,
    post_call,
    stream_call,
)
from switchboard.upstream.errors import request_id

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)


class OpenAIChatModel(ChatModel):
    provider: OpenAIProvider

    @property
    def native_choices(self) -> bool:
        """OpenAI itself takes ``n`` (billing the prompt once); compatible servers are
        not trusted to (several ignore it and answer one choice), so they fan out.
        https://platform.openai.com/docs/api-reference/chat/create#chat-create-n"""
        return self.provider.kind == "openai"

    def _call(self, request: ChatRequest, stream: bool, n: int = 1) -> HttpCall:
        p = self.provider
        key = p.key_for_request()  # before any network I/O
        body, warnings = build_body(request, self.model_id, stream=stream, quirks=p.quirks,
                                    options=p.options_for(request))
        if n > 1:
            body["n"] = n  # a gateway-owned field: provider_options cannot set it
        return HttpCall(p.name, f"{p.base_url}/chat/completions", p.headers(key), body, key,
                        warnings, read_timeout=p.config.timeout)

    def _stream(self, request: ChatRequest, n: int = 1) -> tuple[HttpCall, StartStream]:
        call = self._call(request, stream=True, n=n)
        reasoning = self.provider.quirks.reasoning_field
        return call, lambda headers: StreamConverter(
            call.instance, headers.get("x-request-id"), reasoning, call.secrets, choices=n)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return stream_call(lambda: self._stream(request))

    def stream_choices(self, request: ChatRequest, n: int) -> AsyncIterator[StreamEvent]:
        return stream_call(lambda: self._stream(request, n))

    async def generate_choices(self, request: ChatRequest, n: int) -> list[StreamEvent]:
        call = self._call(request, stream=False, n=n)
        reasoning = self.provider.quirks.reasoning_field
        return await answer_call(call, lambda headers, data: convert_response(
            call.instance, data, headers.get("x-request-id"), reasoning, call.secrets, n=n))

    async def generate_events(self, request: ChatRequest) -> list[StreamEvent]:
        call = self._call(request, stream=False)
        reasoning = self.provider.quirks.reasoning_field
        return await answer_call(call, lambda headers, data: convert_response(
            call.instance, data, headers.get("x-request-id"), reasoning, call.secrets))

    async def generate(self, request: ChatRequest) -> ChatResult:
        return collect(await self.generate_events(request))


class OpenAIEmbeddingModel(EmbeddingModel):
    """``POST {base}/embeddings`` (see ``embeddings.py`` for the wire and its limits)."""

    provider: OpenAIProvider
    max_batch = 2_048
    max_batch_chars = 800_000
    token_input = True

    async def embed_batch(self, request: EmbeddingRequest) -> EmbeddingResult:
        return await _post_json(self.provider, "/embeddings",
                                lambda: build_embedding_body(self.model_id, request),
                                parse_embeddings, len(request.inputs))


class OpenAIImageModel(ImageModel):
    """``POST {base}/images/generations`` and ``/images/edits`` (see ``images.py`` for
    the wire)."""

    provider: OpenAIProvider

    async def generate_images(self, request: ImageRequest) -> ImageResult:
        quirks = self.provider.quirks
        return await self._post("/images/generations",
                                lambda: build_image_body(self.model_id, request, quirks),
                                request.n)

    async def edit_images(self, request: ImageRequest) -> ImageResult:
        quirks = self.provider.quirks
        return await self._post("/images/edits",
                                lambda: build_edit_body(self.model_id, request, quirks),
                                request.n)

    async def _post(self, path: str, body: Callable[[], dict[str, Any] | Multipart],
                    expected: int) -> ImageResult:
        """The call, its pictures given as URLs downloaded (bounded; the provider's own
        host trusted, any other must be public), then parsed."""
        p = self.provider
        key = p.key_for_request()
        call = HttpCall(p.name, f"{p.base_url}{path}", p.headers(key), body(), key,
                        read_timeout=p.config.timeout)
        data, headers = await post_call(call)
        rid = request_id(headers)
        data = await fetch_urls(data, expected, provider=call.instance, request_id=rid,
                                trusted_host=urlsplit(p.base_url or "").hostname)
        return parse_images(data, expected, provider=call.instance, request_id=rid,
                            secrets=call.secrets)


class _Parse(Protocol[_T_co]):
    """The shape of ``embeddings.parse_response`` and ``images.parse_response``."""

    def __call__(self, body: Any, expected: int, *, provider: str, request_id: str | None,
                 secrets: tuple[str, ...] = ()) -> _T_co: ...


async def _post_json(p: OpenAIProvider, path: str, body: Callable[[], dict[str, Any]],
                     parse: _Parse[_T], expected: int) -> _T:
    """One non-streaming JSON call to ``{base}{path}`` (embeddings): the key
    taken before any network I/O and before the body is built, as for chat; the
    answer parsed with the instance's name, the vendor's request id and the key to scrub
    from any error."""
    key = p.key_for_request()
    call = HttpCall(p.name, f"{p.base_url}{path}", p.headers(key), body(), key,
                    read_timeout=p.config.timeout)
    data, headers = await post_call(call)
    return parse(data, expected, provider=call.instance, request_id=request_id(headers),
                 secrets=call.secrets)


class OpenAIProvider(Provider):
    kind: ClassVar[str] = "openai"
    display_name: ClassVar[str] = "OpenAI"
    Config: ClassVar[type[ProviderConfig]] = OpenAIConfig
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    base_url_env: ClassVar[str | None] = "OPENAI_BASE_URL"
    default_base_url: ClassVar[str | None] = "https://api.openai.com/v1"
    default_model: ClassVar[str | None] = "gpt-4o-mini"
    docs_url: ClassVar[str | None] = "https://platform.openai.com/docs/api-reference/chat"
    # Derived from the neutral request; ``n`` and audio output would change the response
    # the stream converter reads (https://platform.openai.com/docs/api-reference/chat).
    owned_fields: ClassVar[frozenset[str]] = frozenset({
        "n", "tools", "tool_choice", "functions", "function_call", "response_format",
        "modalities", "audio"})

    @property
    def quirks(self) -> Quirks:
        return OPENAI_QUIRKS

    def key_for_request(self) -> str | None:
        """The key to send (``None`` when this instance needs none and has none)."""
        return self.require_api_key()

    @cached_property
    def _env_org_project(self) -> tuple[str | None, str | None]:
        """``OPENAI_ORG_ID`` / ``OPENAI_PROJECT_ID``, read once per provider object, as
        the official SDK reads them once per client: two absent variables cost ~3 µs
        per call to look up (a ``KeyError`` each). The key is still read at call time
        (decision 0035); see decision 0211."""
        return os.environ.get("OPENAI_ORG_ID"), os.environ.get("OPENAI_PROJECT_ID")

    def headers(self, key: str | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if key:
            headers["authorization"] = f"Bearer {key}"
        if isinstance(self.config, OpenAIConfig):
            env_org, env_project = self._env_org_project
            org = self.config.organization or env_org
            project = self.config.project or env_project
            if org:
                headers["openai-organization"] = org
            if project:
                headers["openai-project"] = project
        headers.update(self.config.extra_headers)
        return headers

    def options_for(self, request: ChatRequest) -> list[dict[str, Any]]:
        """``provider_options`` entries merged into the body last, in ``option_keys()``
        order (the registry has already refused gateway-owned fields in them)."""
        return [request.options_for(key) for key in self.option_keys()]

    def chat_model(self, model_id: str) -> ChatModel:
        return OpenAIChatModel(self, model_id)

    def embedding_model(self, model_id: str) -> EmbeddingModel:
        return OpenAIEmbeddingModel(self, model_id)

    def image_model(self, model_id: str) -> ImageModel:
        return OpenAIImageModel(self, model_id)

    def model_type(self, model_id: str) -> ModelType:
        """The catalog's word, else the id: OpenAI's embedding models are all named
        ``text-embedding-*``, its image models ``gpt-image-*`` and ``dall-e-*``
        (https://platform.openai.com/docs/models)."""
        if model_id in self.known_models:
            return super().model_type(model_id)
        lowered = model_id.lower()
        if lowered.startswith(("gpt-image", "dall-e")):
            return "image"
        return "embedding" if "embedding" in lowered else "chat"

    def capabilities(self, model_id: str) -> Capabilities:
        info = self.known_models.get(model_id)
        if info is not None:
            return info.capabilities
        return openai_capabilities(model_id)

    def model_info(self, body: Any) -> list[ModelInfo]:
        return openai_model_info(body)

    async def list_models(self) -> list[ModelInfo]:
        key = self.key_for_request()
        body, _ = await request_json(self.name, "GET", f"{self.base_url}/models",
                                     headers=self.headers(key),
                                     secrets=(key,) if key else (),
                                     read_timeout=self.config.timeout)
        return self.model_info(body)

    async def validate_key(self) -> KeyCheck:
        """List the models. A vendor's refusal (bad key, no access) is ``ok=False`` with
        the vendor's (redacted) reason; a missing key raises ``MissingApiKeyError``."""
        started = time.perf_counter()
        try:
            models = await self.list_models()
        except ProviderError as exc:
            return KeyCheck(False, (time.perf_counter() - started) * 1000, exc.message)
        ms = (time.perf_counter() - started) * 1000
        return KeyCheck(True, ms, f"ok: {len(models)} models visible", len(models))
