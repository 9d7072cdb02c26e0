"""The Gemini API on the wire (``generativelanguage.googleapis.com/v1beta``).

Shaped after Google's reference and recorded responses:
https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse

- ``POST /v1beta/models/{model}:generateContent`` answers one ``GenerateContentResponse``;
  ``:streamGenerateContent?alt=sse`` answers SSE whose every ``data:`` is a whole
  ``GenerateContentResponse`` with the new parts, events separated by CRLF CRLF as Google
  sends them, and no ``[DONE]``: the last chunk carries ``finishReason`` and the final
  ``usageMetadata`` (earlier chunks carry running prompt counts only).
- Thought summaries are parts with ``thought: true``; the last one carries the
  ``thoughtSignature`` when the script has one. Function calls come whole, all in one
  chunk, with the script's id in ``functionCall.id`` (an optional field of the API).
- Errors are ``{"error": {"code", "message", "status"}}``; a failure inside a stream is a
  chunk holding only that ``error`` object.
- Image output (https://ai.google.dev/gemini-api/docs/image-generation): a model asked
  for ``generationConfig.responseModalities`` with ``IMAGE`` answers its pictures as
  ``{"inlineData": {"mimeType": "image/png", "data": <base64>}}`` parts between the text
  parts (streamed: each picture whole in a chunk of its own), and ``usageMetadata``
  counts them in ``candidatesTokenCount`` and ``candidatesTokensDetails`` (modality
  ``IMAGE``, 1290 tokens a picture up to 1024x1024). Unscripted, it draws the last user
  text once, between two sentences (``Reply.pictures``).
- ``GET /v1beta/models`` lists models; give ``Wire(model_pages=[...])`` to serve several
  pages one after another (each request gets the next page).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from typing import Any

from switchboard.providers.gemini import GeminiConfig, GeminiProvider
from switchboard.providers.offline.image import draw
from tests.fakes.embeddings import gemini_body
from tests.fakes.script import Fail, Received, Reply

KIND = "gemini"
MODEL = "gemini-2.5-flash"
VISION_MODEL = "gemini-2.5-flash"
IMAGE_MODEL = "gemini-2.5-flash-image"
IMAGE_TOKENS = 1290  # one picture up to 1024x1024 (Google's pricing page)

_CHAT = re.compile(r"^/v1beta/models/(?P<model>[^/:]+):(?P<method>generateContent|"
                   r"streamGenerateContent)$")
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
           404: "NOT_FOUND", 409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
           503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}
# The neutral script speaks Anthropic-ish error types; Google speaks canonical codes.
_IN_BAND = {"overloaded_error": (503, "UNAVAILABLE"),
            "rate_limit_error": (429, "RESOURCE_EXHAUSTED"),
            "invalid_request_error": (400, "INVALID_ARGUMENT")}
_FINISH = {"stop": "STOP", "tool_calls": "STOP", "length": "MAX_TOKENS",
           "content_filter": "SAFETY"}
_EMBED = re.compile(r"^/v1beta/models/[^/:]+:(embedContent|batchEmbedContents)$")

DEFAULT_MODELS: list[dict[str, Any]] = [
    {"name": "models/gemini-2.5-flash", "version": "001", "displayName": "Gemini 2.5 Flash",
     "description": "Stable version of Gemini 2.5 Flash", "inputTokenLimit": 1048576,
     "outputTokenLimit": 65536,
     "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent",
                                    "batchGenerateContent"],
     "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": True},
    {"name": "models/gemini-embedding-001", "version": "001",
     "displayName": "Gemini Embedding 001", "inputTokenLimit": 2048, "outputTokenLimit": 1,
     "supportedGenerationMethods": ["embedContent", "countTextTokens", "countTokens"]},
]


def sse(data: Any) -> bytes:
    """One event as Google frames it: ``data: <json>`` and a CRLF CRLF."""
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\r\n\r\n"


class Wire:
    def __init__(self, model_pages: list[dict[str, Any]] | None = None) -> None:
        self.model_pages = model_pages
        self._page = 0

    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and _CHAT.match(path):
            return "chat"
        if method == "GET" and path == "/v1beta/models":
            return "models"
        if method == "POST" and _EMBED.match(path):
            return "embeddings"
        return None

    def is_stream(self, request: Received) -> bool:
        return request.path.endswith(":streamGenerateContent")

    def model_of(self, request: Received) -> str:
        match = _CHAT.match(request.path)
        return match.group("model") if match else MODEL

    def adapt_reply(self, reply: Reply, request: Received) -> Reply:
        """Unscripted pictures: one of the last user text when the request asks for
        images (``responseModalities``), none otherwise."""
        if reply.pictures is not None:
            return reply
        body = request.body if isinstance(request.body, dict) else {}
        config = body.get("generationConfig") or {}
        if "IMAGE" not in (config.get("responseModalities") or []):
            return dataclasses.replace(reply, pictures={})
        prompt = _last_user_text(body) or "a picture"
        return dataclasses.replace(reply, chunks=["Here is ", f"{prompt[:60]}:",
                                                        " I hope you like it."],
                                   pictures={1: prompt}, output_tokens=12)

    # -- bodies ----------------------------------------------------------------------
    def _usage(self, reply: Reply, final: bool) -> dict[str, Any]:
        usage: dict[str, Any] = {"promptTokenCount": reply.input_tokens}
        if reply.cached_tokens:
            usage["cachedContentTokenCount"] = reply.cached_tokens
        if not final:
            usage["totalTokenCount"] = reply.input_tokens
            return usage
        text = reply.output_tokens - reply.reasoning_tokens
        drawn = IMAGE_TOKENS * len(reply.pictures or {})
        usage["candidatesTokenCount"] = text + drawn
        usage["totalTokenCount"] = reply.input_tokens + reply.output_tokens + drawn
        if drawn:
            usage["candidatesTokensDetails"] = [{"modality": "TEXT", "tokenCount": text},
                                                {"modality": "IMAGE", "tokenCount": drawn}]
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": reply.input_tokens}]
        if reply.reasoning_tokens:
            usage["thoughtsTokenCount"] = reply.reasoning_tokens
        return usage

    def _chunk(self, reply: Reply, model: str, parts: list[dict[str, Any]],
               final: bool) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
        if final:
            candidate["finishReason"] = _FINISH.get(reply.finish, "OTHER")
        candidate["index"] = 0
        return {"candidates": [candidate], "usageMetadata": self._usage(reply, final),
                "modelVersion": reply.model or model, "responseId": reply.response_id}

    @staticmethod
    def _calls(reply: Reply) -> list[dict[str, Any]]:
        return [{"functionCall": {"id": c.id, "name": c.name, "args": json.loads(c.arguments)}}
                for c in reply.tool_calls]

    def _thoughts(self, reply: Reply, texts: list[str]) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = [{"text": t, "thought": True} for t in texts]
        if parts and reply.reasoning_signature:
            parts[-1]["thoughtSignature"] = reply.reasoning_signature
        return parts

    def json_body(self, reply: Reply, model: str) -> Any:
        parts = self._thoughts(reply, ["".join(reply.reasoning)] if reply.reasoning else [])
        if reply.pictures:  # text and pictures as separate parts, in order
            text: list[str] = []
            for i, chunk in enumerate(reply.chunks):
                text.append(chunk)
                if i in reply.pictures:
                    parts.append({"text": "".join(text)})
                    parts.append(_picture(reply.pictures[i]))
                    text = []
            if "".join(text):
                parts.append({"text": "".join(text)})
        elif reply.text:
            parts.append({"text": reply.text})
        parts.extend(self._calls(reply))
        return self._chunk(reply, model, parts, final=True)

    def _groups(self, reply: Reply) -> list[list[dict[str, Any]]]:
        """The parts of each streamed chunk, in order."""
        groups: list[list[dict[str, Any]]] = [[p] for p in self._thoughts(reply, reply.reasoning)]
        for i, chunk in enumerate(reply.chunks):
            groups.append([{"text": chunk}])
            if reply.pictures and i in reply.pictures:
                groups.append([_picture(reply.pictures[i])])
        if reply.tool_calls:
            groups.append(self._calls(reply))
        return groups or [[{"text": ""}]]

    def sse_events(self, reply: Reply, model: str) -> list[bytes]:
        groups = self._groups(reply)
        return [sse(self._chunk(reply, model, parts, final=i == len(groups) - 1))
                for i, parts in enumerate(groups)]

    def text_event_index(self, reply: Reply, model: str, chunk: int) -> int:
        before = sum(1 for i in (reply.pictures or {}) if i < chunk)
        return min(len(reply.reasoning) + chunk + before, len(self._groups(reply)) - 1)

    def in_band_error(self, error_type: str, message: str) -> bytes:
        code, status = _IN_BAND.get(error_type, (500, "INTERNAL"))
        return sse({"error": {"code": code, "message": message, "status": status}})

    def error_body(self, fail: Fail) -> Any:
        status = _STATUS.get(fail.status, "UNKNOWN")
        return {"error": {"code": fail.status, "message": fail.message, "status": status}}

    def embeddings_body(self, request: Received) -> Any:
        return gemini_body(request.path, request.body if isinstance(request.body, dict) else {})

    def models_body(self) -> Any:
        if not self.model_pages:
            return {"models": DEFAULT_MODELS}
        page = self.model_pages[min(self._page, len(self.model_pages) - 1)]
        self._page += 1
        return page


def _picture(prompt: str) -> dict[str, Any]:
    """A picture part as Gemini sends it (a real PNG with the words drawn in)."""
    return {"inlineData": {"mimeType": "image/png",
                           "data": base64.b64encode(draw(prompt, "256x256", 0)).decode()}}


def _last_user_text(body: dict[str, Any]) -> str:
    for content in reversed(body.get("contents") or []):
        if isinstance(content, dict) and content.get("role") == "user":
            texts = [p.get("text") for p in content.get("parts") or []
                     if isinstance(p, dict) and isinstance(p.get("text"), str)]
            if texts:
                return " ".join(texts).strip()
    return ""


def make_provider(base_url: str, api_key: str | None = "test-key",
                  **config: Any) -> GeminiProvider:
    return GeminiProvider(GeminiConfig(base_url=base_url, api_key=api_key, **config))
