"""The ``gemini`` provider kind: Google's Gemini API (Google AI Studio keys).

https://ai.google.dev/api

Configuration, as Google's own ``google-genai`` SDK understands it:

- API key: ``config.api_key``, else ``GEMINI_API_KEY``, else ``GOOGLE_API_KEY``. Note the
  order: the SDK prefers ``GOOGLE_API_KEY`` when both are set (and logs a warning); we
  prefer ``GEMINI_API_KEY`` because it is the one this kind declares and documents, and
  ``GOOGLE_API_KEY`` is a generic name often set for other Google APIs.
- The key travels in the ``x-goog-api-key`` header, never as ``?key=`` in the query
  string, where it would end up in access logs.
- Base URL: ``config.base_url``, else ``GEMINI_BASE_URL``, else
  ``https://generativelanguage.googleapis.com``. As in the SDK (its
  ``http_options.base_url`` / ``GOOGLE_GEMINI_BASE_URL``) it is the host root *without*
  the API version; the adapter appends ``config.api_version`` (``v1beta``, the SDK's
  default). A base URL that already ends in a version segment (``.../v1beta``) is used as
  is, since that is a common way to write it.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from typing import ClassVar
from urllib.parse import quote

import httpx

from switchboard.providers.gemini.config import DEFAULT_API_VERSION, GeminiConfig
from switchboard.providers.gemini.convert_error import reclassify
from switchboard.providers.gemini.convert_request import build_body
from switchboard.providers.gemini.convert_stream import ResponseConverter
from switchboard.providers.gemini.embeddings import MAX_BATCH
from switchboard.providers.gemini.embeddings import build_body as build_embedding_body
from switchboard.providers.gemini.embeddings import parse_response as parse_embeddings
from switchboard.providers.gemini.images import chat_request, image_result
from switchboard.providers.gemini.models import guess_capabilities, model_info
from switchboard.spec import (
    Capabilities,
    ChatModel,
    ChatRequest,
    ChatResult,
    EmbeddingModel,
    EmbeddingRequest,
    EmbeddingResult,
    ImageModel,
    ImageRequest,
    ImageResult,
    InvalidRequestError,
    MissingApiKeyError,
    ModelInfo,
    ModelType,
    Provider,
    ProviderError,
    StreamEvent,
)
from switchboard.upstream import request_json
from switchboard.upstream.driver import (
    HttpCall,
    StartStream,
    generate_call,
    post_call,
    stream_call,
)
from switchboard.upstream.errors import request_id

KIND = "gemini"
FALLBACK_API_KEY_ENV = "GOOGLE_API_KEY"
MAX_MODEL_PAGES = 50
_VERSIONED = re.compile(r"/v\d+(?:alpha|beta)?\d*$")
_BAD_MODEL_CHARS = re.compile(r"[\s?#:]")


class GeminiProvider(Provider):
    # Derived from the neutral request (https://ai.google.dev/api/generate-content).
    owned_fields: ClassVar[frozenset[str]] = frozenset({
        "contents", "systemInstruction", "tools", "toolConfig"})
    kind = KIND
    display_name = "Google Gemini"
    Config = GeminiConfig
    api_key_env = "GEMINI_API_KEY"
    base_url_env = "GEMINI_BASE_URL"
    default_base_url = "https://generativelanguage.googleapis.com"
    default_model = "gemini-2.5-flash"
    docs_url = "https://ai.google.dev/api"
    draws_with_chat_models = True  # its image models are chat models (images.py)

    # -- configuration -------------------------------------------------------------
    @property
    def api_key(self) -> str | None:
        key = super().api_key
        if key is None and self.config.api_key is None:
            key = os.environ.get(FALLBACK_API_KEY_ENV) or None
        return key

    def require_api_key(self) -> str:
        key = self.api_key
        if key is None:
            raise MissingApiKeyError(
                f"no API key for provider {self.name!r} ({self.kind}): set "
                f"{self.api_key_env} (or {FALLBACK_API_KEY_ENV}) or run "
                f"`switchboard keys set {self.name}`"
            )
        return key

    @property
    def api_root(self) -> str:
        """The base URL with the API version, e.g. ``https://.../v1beta``."""
        base = self.base_url
        if _VERSIONED.search(base):
            return base
        version = (self.config.api_version if isinstance(self.config, GeminiConfig)
                   else DEFAULT_API_VERSION)
        return f"{base}/{version}"

    def headers(self, key: str) -> dict[str, str]:
        return {**self.config.extra_headers, "x-goog-api-key": key}

    # -- models --------------------------------------------------------------------
    def chat_model(self, model_id: str) -> GeminiChatModel:
        return GeminiChatModel(self, model_id)

    def embedding_model(self, model_id: str) -> GeminiEmbeddingModel:
        return GeminiEmbeddingModel(self, model_id)

    def image_model(self, model_id: str) -> ImageModel:
        """A model that draws (capability ``image_output``) behind the image contract
        (``images.py``); any other Gemini model keeps the refusal."""
        if self.capabilities(model_id).image_output is not True:
            return super().image_model(model_id)
        return GeminiImageModel(self, model_id)

    def model_type(self, model_id: str) -> ModelType:
        """The catalog's word, else the id: Gemini's embedding models are named
        ``*embedding*`` (https://ai.google.dev/gemini-api/docs/models)."""
        if model_id in self.known_models:
            return super().model_type(model_id)
        return "embedding" if "embedding" in model_id.lower() else "chat"

    def capabilities(self, model_id: str) -> Capabilities:
        info = self.known_models.get(model_id)
        return info.capabilities if info else guess_capabilities(model_id)

    async def list_models(self) -> list[ModelInfo]:
        key = self.require_api_key()
        found: list[ModelInfo] = []
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_MODEL_PAGES):
            params = {"pageSize": "1000"}
            if token:
                params["pageToken"] = token
            try:
                data, _ = await request_json(
                    self.name, "GET", f"{self.api_root}/models", headers=self.headers(key),
                    params=params, secrets=(key,), read_timeout=self.config.timeout,
                )
            except ProviderError as exc:
                raise reclassify(exc) from None
            entries = data.get("models") if isinstance(data, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                info = model_info(entry) if isinstance(entry, dict) else None
                if info is not None:
                    found.append(info)
            token = data.get("nextPageToken") if isinstance(data, dict) else None
            if not token or token in seen:
                break
            seen.add(token)
        return found


def model_path(model_id: str) -> str:
    """``models/<id>`` (or a ``tunedModels/...`` name as given), URL-safe."""
    mid = model_id.strip()
    if not mid.startswith(("models/", "tunedModels/")):
        mid = f"models/{mid}"
    name = mid.split("/", 1)[1]
    if not name or "/" in name or _BAD_MODEL_CHARS.search(mid):
        raise InvalidRequestError(
            f"{model_id!r} is not a Gemini model id; use an id such as 'gemini-2.5-flash' "
            "(see `switchboard models list gemini`)",
            param="model",
        )
    return quote(mid, safe="/-._~")


class GeminiChatModel(ChatModel):
    provider: GeminiProvider

    def _url(self, method: str) -> str:
        return f"{self.provider.api_root}/{model_path(self.model_id)}:{method}"

    def _call(self, request: ChatRequest, method: str,
              params: dict[str, str] | None = None) -> HttpCall:
        provider = self.provider
        key = provider.require_api_key()
        images = provider.capabilities(self.model_id).image_output is True
        built = build_body(request, self.model_id, images=images)
        return HttpCall(provider.name, self._url(method), provider.headers(key), built.body,
                        key, built.warnings, params=params,
                        read_timeout=provider.config.timeout, map_error=reclassify)

    @staticmethod
    def _converter(call: HttpCall, headers: httpx.Headers) -> ResponseConverter:
        return ResponseConverter(request_id=request_id(headers), secrets=call.secrets,
                                 provider=call.instance)

    def _stream(self, request: ChatRequest) -> tuple[HttpCall, StartStream]:
        call = self._call(request, "streamGenerateContent", {"alt": "sse"})
        return call, lambda headers: self._converter(call, headers)

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamEvent]:
        return stream_call(lambda: self._stream(request))

    async def generate(self, request: ChatRequest) -> ChatResult:
        call = self._call(request, "generateContent")
        return await generate_call(call, lambda headers, data: self._converter(
            call, headers).response(data))


class GeminiEmbeddingModel(EmbeddingModel):
    """``embedContent`` / ``batchEmbedContents`` (see ``embeddings.py``)."""

    provider: GeminiProvider
    max_batch = MAX_BATCH

    async def embed_batch(self, request: EmbeddingRequest) -> EmbeddingResult:
        provider = self.provider
        key = provider.require_api_key()
        path = model_path(self.model_id)
        method, body = build_embedding_body(path, request)
        call = HttpCall(provider.name, f"{provider.api_root}/{path}:{method}",
                        provider.headers(key), body, key,
                        read_timeout=provider.config.timeout, map_error=reclassify)
        data, headers = await post_call(call)
        return parse_embeddings(data, len(request.inputs), provider=call.instance,
                                request_id=request_id(headers), secrets=call.secrets)


class GeminiImageModel(ImageModel):
    """Pictures from one ``generateContent`` call of the chat adapter (``images.py``)."""

    provider: GeminiProvider

    async def generate_images(self, request: ImageRequest) -> ImageResult:
        answer = await self.provider.chat_model(self.model_id).generate(chat_request(request))
        return image_result(answer, provider=self.provider.name, size=request.size)

    async def edit_images(self, request: ImageRequest) -> ImageResult:
        """The same call, the pictures shown before the prompt (Gemini edits that way)."""
        return await self.generate_images(request)
