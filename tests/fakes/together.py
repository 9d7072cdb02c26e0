"""A fake of Together's OpenAI-compatible images endpoint, on loopback.

Shaped after https://docs.together.ai/reference/post-images-generations:

- ``POST /v1/images/generations`` takes ``model``, ``prompt``, ``n``, ``width`` /
  ``height`` (integers; not OpenAI's ``size``), ``steps`` and ``response_format``
  (``"base64"`` or ``"url"``; a URL when absent) and answers
  ``{"id", "model", "object": "list", "data": [{"index", "b64_json" | "url", "type"}]}``.
  Like the real service it refuses what it does not know with a 400.
- A ``url`` answer points at ``GET /v1/files/{name}`` on this server (the real service
  hosts pictures on its own domain for a while). ``url_to`` replaces it for hostile
  cases (an address elsewhere; a picture too large; one that never ends).
- ``GET /v1/models`` lists a chat and an image model, with Together's ``type``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from switchboard.providers.offline.image import draw

IMAGE_MODEL = "black-forest-labs/FLUX.1-schnell"
CHAT_MODEL = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
_FIELDS = {"model", "prompt", "n", "width", "height", "steps", "response_format", "seed",
           "negative_prompt", "output_format", "guidance_scale", "image_url"}


class TogetherImages:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.url_to: str | None = None
        """Where ``url`` answers point (None: this server's own ``/v1/files/...``)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        path = request.url.path
        if request.method == "GET" and path == "/v1/models":
            return JSONResponse([
                {"id": CHAT_MODEL, "object": "model", "type": "chat", "created": 0},
                {"id": IMAGE_MODEL, "object": "model", "type": "image", "created": 0,
                 "display_name": "FLUX.1 [schnell]"}])
        if request.method == "GET" and path.startswith("/v1/files/"):
            return await self._file(path.rsplit("/", 1)[1])
        if request.method == "POST" and path == "/v1/images/generations":
            body = json.loads(await request.body())
            self.requests.append(body)
            unknown = sorted(set(body) - _FIELDS)
            if unknown:
                return JSONResponse({"error": {
                    "message": f"Unrecognized parameter(s): {', '.join(unknown)}",
                    "type": "invalid_request_error"}}, 400)
            return JSONResponse(self._answer(body, str(request.base_url).rstrip("/")))
        return JSONResponse({"error": {"message": "not found"}}, 404)

    def _answer(self, body: dict[str, Any], base: str) -> dict[str, Any]:
        n = int(body.get("n") or 1)
        size = f"{int(body.get('width') or 1024)}x{int(body.get('height') or 768)}"
        data: list[dict[str, Any]] = []
        for i in range(n):
            if body.get("response_format") == "base64":
                png = draw(str(body.get("prompt", "")), "256x256", i)
                data.append({"index": i, "b64_json": base64.b64encode(png).decode(),
                             "type": "b64_json"})
            else:
                target = self.url_to or f"{base}/v1/files/{i}-{size}.png"
                data.append({"index": i, "url": target, "type": "url"})
        self._last_prompt = str(body.get("prompt", ""))
        return {"id": "oTgT-fake", "model": body.get("model"), "object": "list",
                "data": data}

    async def _file(self, name: str) -> Response:
        if name == "huge.png":  # more than any picture we keep, sent in pieces
            async def chunks() -> AsyncIterator[bytes]:
                yield b"\x89PNG\r\n\x1a\n"
                for _ in range(25):
                    yield b"\0" * (1024 * 1024)
            return StreamingResponse(chunks(), media_type="image/png")
        if name == "redirect.png":  # from the provider's own host to the metadata service
            return Response(status_code=302,
                            headers={"location": "http://169.254.169.254/latest/meta-data/"})
        if name == "slow.png":
            await asyncio.sleep(3600)
        index = int(name.split("-", 1)[0]) if name[:1].isdigit() else 0
        return Response(draw(getattr(self, "_last_prompt", "x"), "256x256", index),
                        media_type="image/png")
