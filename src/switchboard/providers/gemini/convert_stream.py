"""Gemini ``GenerateContentResponse`` chunks -> neutral stream events.

One converter serves both modes: with ``alt=sse`` every SSE ``data:`` is a complete
``GenerateContentResponse`` holding the *new* parts; the non-streaming answer is the same
object once, with every part. https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse

Facts the converter relies on:

- There is no end marker such as ``[DONE]``: the body just ends. The last chunk carries
  ``finishReason`` (and the final ``usageMetadata``). A body that ends without any
  ``finishReason`` (or prompt block) was cut: ``close()`` reports ``StreamBrokenError``.
- A blocked prompt comes back with no candidates and ``promptFeedback.blockReason``: a
  normal ``Finish(content_filter)`` with the reason in the metadata, not an error.
- Function calls arrive whole (``args`` is an object), often without an ``id``. We emit
  ``ToolCallStart``, one ``ToolCallDelta`` with the whole JSON, then ``ToolCall``. A call
  without an id gets a deterministic one, ``call_<responseId>_<n>`` (``n`` counts the
  calls of the response), so the neutral history always has one to match results to.
- Thought summaries are parts with ``thought: true``; they become ``ReasoningDelta``s
  tagged ``provider_metadata["gemini"]`` (so the history knows they are Gemini's). A
  ``thoughtSignature`` stays with the part it came on: on a thought part it is that
  reasoning block's metadata (and closes the block, one signature per block); on a
  function call, the ``ToolCall``'s metadata; on a text part, an empty reasoning block
  right after the text (``convert_messages`` puts it back on the text part).
- Only the first candidate is read (we never ask for ``candidateCount`` > 1).
- A picture the model drew (image models, https://ai.google.dev/gemini-api/docs/image-generation)
  is an ``inlineData`` part ``{"mimeType": "image/png", "data": <base64>}`` between the
  text parts, whole in one chunk: it becomes one ``ImageOutput`` in its place. The bytes
  are decoded and checked (at most ``MAX_IMAGE_BYTES``, a PNG/JPEG/WebP/GIF by their
  signature, never by the vendor's word); a part that fails is counted as unconverted
  with a warning in the metadata, not an error (the text still stands). The pictures are
  counted on the ``Finish`` usage (``output_images``), and ``usageMetadata``'s image
  tokens (``candidatesTokensDetails`` modality ``IMAGE``) are ``image_output_tokens``,
  so each picture is priced as Google publishes it (per picture).
- Output parts with no neutral event (server-side code execution, other media) are
  counted in ``ResponseMetadata.extra["unconverted_parts"]`` rather than dropped unseen.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

import orjson

from switchboard.providers.gemini.convert_error import error_from_chunk
from switchboard.providers.gemini.convert_usage import convert_usage
from switchboard.providers.gemini.map_finish import map_block, map_finish
from switchboard.spec import (
    ErrorEvent,
    Finish,
    ImageOutput,
    ReasoningDelta,
    ResponseMetadata,
    StreamBrokenError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolCallStart,
    Usage,
)
from switchboard.spec.image import sniff_media_type
from switchboard.spec.limits import MAX_IMAGE_BYTES
from switchboard.upstream.sse import SSEEvent

KIND = "gemini"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


class ResponseConverter:
    __slots__ = ("_provider", "_request_id", "_secrets", "_started", "_response_id", "_usage",
                 "_finish", "_block", "_calls", "_open_block", "_blocks", "_extra", "_unconverted",
                 "_images", "failed")

    def __init__(self, *, request_id: str | None = None, secrets: tuple[str, ...] = (),
                 provider: str = KIND) -> None:
        self._provider = provider  # the instance name its errors carry
        self._request_id = request_id
        self._secrets = secrets
        self._started = False
        self._response_id: str | None = None
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._block: str | None = None
        self._calls = 0
        self._open_block: str | None = None
        self._blocks = 0
        self._extra: dict[str, Any] = {}
        self._unconverted: dict[str, int] = {}
        self._images = 0
        self.failed = False

    @property
    def usage(self) -> Usage | None:
        """The latest usage report (running totals), for an error mid-stream."""
        return self._usage

    def sse(self, event: SSEEvent) -> list[StreamEvent]:
        """``upstream.driver``'s entry point: one SSE event, a JSON chunk in ``data``."""
        try:
            chunk: Any = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            return [ErrorEvent(StreamBrokenError(
                f"{self._provider}: the stream sent a chunk that is not JSON",
                provider=self._provider, request_id=self._request_id, secrets=self._secrets,
            ), usage=self._usage)]
        return self.feed(chunk)

    def end(self) -> list[StreamEvent]:
        return self.close()

    def response(self, body: Any) -> list[StreamEvent]:
        """A non-streaming answer: the same object once, with every part."""
        return [*self.feed(body), *self.close()]

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """Events for one ``GenerateContentResponse`` (or an in-band ``error`` chunk)."""
        if not isinstance(chunk, dict):
            return self._fail(f"{self._provider}: a stream chunk is not a JSON object")
        if "error" in chunk:
            self.failed = True
            error = error_from_chunk(chunk["error"], secrets=self._secrets,
                                     request_id=self._request_id, provider=self._provider)
            return [ErrorEvent(error, usage=self._usage)]
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            self._response_id = chunk.get("responseId")
            events.append(ResponseMetadata(response_id=self._response_id,
                                           model=chunk.get("modelVersion"),
                                           request_id=self._request_id))
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self._usage = convert_usage(usage)
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self._block = str(feedback["blockReason"])
            self._extra["prompt_feedback"] = feedback
            self._extra["message"] = (
                f"Gemini blocked the prompt ({self._block}); nothing was generated. "
                "Rephrase the prompt, or adjust safetySettings through provider_options."
            )
        candidates = chunk.get("candidates")
        if isinstance(candidates, list) and candidates and isinstance(candidates[0], dict):
            candidate = candidates[0]
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if isinstance(part, dict):
                    events.extend(self._part(part))
            if candidate.get("finishReason"):
                self._finish = str(candidate["finishReason"])
            if candidate.get("finishMessage"):
                self._extra["finish_message"] = candidate["finishMessage"]
        return events

    def close(self) -> list[StreamEvent]:
        """Events at the end of the body: ``Finish``, or the error of a cut stream."""
        if self.failed:
            return []
        if self._finish is not None:
            reason = map_finish(self._finish, has_tool_calls=self._calls > 0)
        elif self._block is not None:
            reason = map_block(self._block)
        else:
            return self._fail(f"{self._provider}: the stream ended without a finishReason "
                              "(the connection was probably cut)")
        events: list[StreamEvent] = []
        if self._unconverted:
            self._extra["unconverted_parts"] = dict(self._unconverted)
        if self._extra:
            events.append(ResponseMetadata(extra=self._extra))
        usage = self._usage or Usage()
        if self._images:
            usage.output_images = self._images
        events.append(Finish(reason, usage))
        return events

    def _fail(self, message: str) -> list[StreamEvent]:
        self.failed = True
        return [ErrorEvent(StreamBrokenError(message, provider=self._provider,
                                             request_id=self._request_id,
                                             secrets=self._secrets), usage=self._usage)]

    def _part(self, part: dict[str, Any]) -> list[StreamEvent]:
        signature = part.get("thoughtSignature")
        if isinstance(part.get("functionCall"), dict):
            self._open_block = None
            return self._function_call(part["functionCall"], signature)
        text = part.get("text")
        if part.get("thought"):
            return self._thought(text if isinstance(text, str) else "", signature)
        self._open_block = None
        events: list[StreamEvent] = []
        image = self._image(part.get("inlineData"))
        if image is not None:
            events.append(image)
        elif isinstance(text, str):
            if text:
                events.append(TextDelta(text))
        else:
            kind = next((k for k in part if k != "thoughtSignature"), "unknown")
            self._unconverted[kind] = self._unconverted.get(kind, 0) + 1
        if signature:
            events.append(ReasoningDelta("", id=self._new_block(),
                                         provider_metadata={KIND: {"thought_signature":
                                                                   signature}}))
            self._open_block = None
        return events

    def _image(self, inline: Any) -> ImageOutput | None:
        """A drawn picture (``inlineData`` with an ``image/*`` type), decoded and checked;
        None for anything else (counted as unconverted by the caller)."""
        if not isinstance(inline, dict):
            return None
        mime, data = inline.get("mimeType"), inline.get("data")
        if not (isinstance(mime, str) and mime.startswith("image/") and isinstance(data, str)):
            return None
        if len(data) > MAX_IMAGE_BYTES * 4 // 3 + 4:
            self._extra["image_warning"] = "a picture larger than 20 MB was left out"
            return None
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            self._extra["image_warning"] = "a picture that was not base64 was left out"
            return None
        media_type = sniff_media_type(raw)
        if media_type is None:
            self._extra["image_warning"] = "a picture in no known format was left out"
            return None
        self._images += 1
        return ImageOutput(raw, media_type)

    def _thought(self, text: str, signature: Any) -> list[StreamEvent]:
        if self._open_block is None:
            self._open_block = self._new_block()
        meta: dict[str, Any] = {"thought": True}
        if signature:
            meta["thought_signature"] = signature
        event = ReasoningDelta(text, id=self._open_block, provider_metadata={KIND: meta})
        if signature:
            self._open_block = None
        return [event]

    def _new_block(self) -> str:
        self._blocks += 1
        return f"{KIND}-{self._blocks}"

    def _function_call(self, call: dict[str, Any], signature: Any) -> list[StreamEvent]:
        index = self._calls
        self._calls += 1
        name = str(call.get("name") or "")
        vendor_id = call.get("id")
        call_id = str(vendor_id) if vendor_id else self._synthetic_id(index)
        args = call.get("args")
        arguments = json.dumps(args if isinstance(args, dict) else {}, ensure_ascii=False,
                               separators=(",", ":"))
        meta: dict[str, Any] = {}
        if vendor_id:
            meta["function_call_id"] = str(vendor_id)
        if signature:
            meta["thought_signature"] = signature
        return [
            ToolCallStart(call_id, name, index),
            ToolCallDelta(call_id, arguments, index),
            ToolCall(call_id, name, arguments, index,
                     provider_metadata={KIND: meta} if meta else None),
        ]

    def _synthetic_id(self, index: int) -> str:
        rid = _UNSAFE_ID.sub("", self._response_id or "")[:40]
        return f"call_{rid}_{index}" if rid else f"call_{index}"
