"""``/v1``: the OpenAI-compatible endpoints, as plain Starlette handlers.

Plain handlers rather than FastAPI body models: the body is parsed once with orjson and
validated once with our own pydantic models, malformed input gets OpenAI's 400 (not
FastAPI's 422), and the hot path carries no extra validation layer.
"""

from __future__ import annotations

import asyncio
import re
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import anyio
import orjson
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api.after_response import Later, after_response
from switchboard.api.encoded import EncodedJson, JsonBytes, send
from switchboard.api.event_stream import EventStream
from switchboard.api.openai.bounds import (
    PARSE_IN_THREAD_BYTES,
    VALIDATE_IN_THREAD_SCHEMA_NODES,
    precheck,
    prescan,
)
from switchboard.api.openai.convert_request import (
    for_provider,
    invalid_from_validation,
    requested_fallbacks,
    requested_model,
    to_chat_request,
)
from switchboard.api.openai.embeddings import parse_body as parse_embedding_body
from switchboard.api.openai.embeddings import response_body as embedding_body
from switchboard.api.openai.errors import error_body, error_headers, error_status, openai_error
from switchboard.api.openai.fanout import close_all, merged_sse
from switchboard.api.openai.ids import completion_id as new_completion_id
from switchboard.api.openai.images import MAX_EDIT_FIELDS, MAX_EDIT_FILES, parse_edit_form
from switchboard.api.openai.images import parse_body as parse_image_body
from switchboard.api.openai.images import response_body as image_body
from switchboard.api.openai.render import ChunkEncoder, completion_body
from switchboard.api.openai.tool_opt_in import requested
from switchboard.api.openai.wire import ChatCompletionRequest
from switchboard.api.request_body import body as read_body
from switchboard.api.shutdown import CODE as SHUTDOWN_CODE
from switchboard.api.shutdown import SHUTTING_DOWN, StreamShutdown
from switchboard.api.state import AppState
from switchboard.api.tokens import Principal
from switchboard.registry import Registry, ResolvedModel
from switchboard.services import files
from switchboard.services.auto.picker import AUTO_REFS
from switchboard.services.captions import vision_stand_in
from switchboard.services.pipeline import Prepare
from switchboard.services.policy import CallSpec
from switchboard.spec import (
    CallWarning,
    ChatRequest,
    EmbeddingRequest,
    ImageRequest,
    StreamEvent,
    SwitchboardError,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


IMAGES_HEADER = "x-switchboard-images"
"""``vision``: images for a model that cannot see go to the caller's vision model (the
``vision`` task's) instead of a 400 (decision 0147). Without it, the 400 stays."""
_IMAGES_HEADER = IMAGES_HEADER.encode("latin-1")


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JsonBytes(orjson.dumps(data), status, headers)


def _error(exc: SwitchboardError) -> Response:
    status, _, _ = error_status(exc)
    return _json(error_body(exc), status, error_headers(exc))


def _unauthorized(message: str) -> Response:
    return _json(openai_error(message, code="invalid_api_key"), 401,
                 {"www-authenticate": 'Bearer realm="switchboard"'})


def _header(request: Request, name: bytes) -> str:
    """``request.headers.get(name, "")`` (the first such header, as Starlette answers)
    read straight from the ASGI scope: no ``Headers`` object, no name lowercased and
    encoded per lookup (issue 12, fourth pass). ``name`` is lowercase, as ASGI servers
    send header names."""
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _principal(request: Request, state: AppState) -> Principal | Response:
    header = _header(request, b"authorization")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return _unauthorized(
            "You didn't provide an API key. Send it as 'Authorization: Bearer sb-...'; "
            "create one in Settings > API tokens or with `switchboard tokens create`.")
    principal = await state.tokens.authenticate(token)
    if principal is None:
        return _unauthorized("Incorrect API key provided (unknown, revoked or expired "
                             "token). Create a new one with `switchboard tokens create`.")
    return principal


def _headers(base: dict[str, str], warnings: list[CallWarning]) -> dict[str, str]:
    """``base`` (the answering model, every admission grant's headers) and
    ``x-switchboard-warnings``: what the gateway and the adapter could not honour (each
    said once, also when n calls said it)."""
    if not warnings:  # read once, by the response being built: no copy needed
        return base
    headers = dict(base)
    said = "; ".join(dict.fromkeys(w.message for w in warnings))
    if "x-switchboard-warnings" in headers:  # a grant's (a soft budget's) comes first
        said = f"{headers['x-switchboard-warnings']}; {said}"
    said = said[:2000]
    # A warning may quote the caller's input (a stop sequence): keep the header one line
    # of ASCII, whatever it holds.
    said = _CONTROL.sub(" ", said.encode("ascii", "backslashreplace").decode("ascii"))
    headers["x-switchboard-warnings"] = said
    return headers


async def chat_completions(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request, state)
    if isinstance(principal, Response):
        return principal
    raw = await read_body(request)
    # A large body, or one with large JSON Schemas, is parsed and validated in a worker
    # thread, so the event loop keeps serving everyone else (decision 0013;
    # bench/large_bodies.py). Small ones stay inline: the thread hop costs more.
    if len(raw) > PARSE_IN_THREAD_BYTES:
        parsed = await anyio.to_thread.run_sync(_parse, raw)
    else:
        loaded = _load(raw)
        if isinstance(loaded, Response):
            return loaded
        data, schema_nodes = loaded
        parsed = (await anyio.to_thread.run_sync(_validate, data)
                  if schema_nodes > VALIDATE_IN_THREAD_SCHEMA_NODES else _validate(data))
    if isinstance(parsed, Response):
        return parsed
    body, chat_request, warnings = parsed
    try:
        spec = CallSpec(principal, "api", chat_request, requested_model(body),
                        requested_fallbacks(body), stream=bool(body.stream))
        server_tools = requested(body)
    except SwitchboardError as exc:
        return _error(exc)
    if _header(request, _IMAGES_HEADER).strip().lower() == "vision":
        spec, stand_in = await vision_stand_in(state.db, await state.registry(), spec)
        if stand_in is not None:
            warnings = [*warnings, stand_in]

    def prepare(model: ResolvedModel, neutral: ChatRequest) -> tuple[ChatRequest,
                                                                    list[CallWarning]]:
        return for_provider(body, neutral, model.kind)

    completion_id = new_completion_id()
    created = int(time.time())
    if server_tools is not None:
        return await _with_tools(state, principal, spec, body, server_tools, prepare,
                                 warnings, completion_id, created)
    n = body.n or 1
    if not body.stream:
        # One call's accounting waits until the answer is sent (api.after_response).
        later = after_response(request.scope) if n == 1 else None
        return await _complete(state, spec, prepare, n, warnings, completion_id, created,
                               later)
    try:  # errors before the first byte keep their HTTP status
        calls = await state.pipeline.open_n(spec, n, prepare=prepare)
    except SwitchboardError as exc:
        return _error(exc)
    model = calls[0].model
    for call in calls:  # the adapter's own warnings come with its StreamStart
        warnings = [*warnings, *call.warnings]
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    encoders = [ChunkEncoder(completion_id, created, model.ref, state.fingerprint,
                             include_usage, index=i, closes=n == 1) for i in range(n)]
    return EventStream(_sse([c.events for c in calls], [c.first for c in calls], encoders,
                            state.shutdown),
                       keep_alive=state.settings.sse_keep_alive,
                       headers=_headers(calls[0].headers, warnings))


Parsed = tuple[ChatCompletionRequest, ChatRequest, list[CallWarning]]


def _load(raw: bytes) -> tuple[dict[str, Any], int] | Response:
    """The JSON body and how many JSON Schema values it holds, or the 400 to answer.

    Size limits are checked on the raw JSON (``bounds.precheck``), so an oversized body is
    refused before the costly validation."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json(openai_error(
            "We could not parse the JSON body of your request. Send a JSON object with "
            "Content-Type: application/json."), 400)
    if not isinstance(data, dict):
        return _json(openai_error("The request body must be a JSON object."), 400)
    try:
        return data, precheck(data)
    except SwitchboardError as exc:
        return _error(exc)


def _parse(raw: bytes) -> Parsed | Response:
    """``prescan``, ``_load`` then ``_validate``: the whole of it, for a worker thread
    (large bodies only: a small one cannot hold enough to need the prescan)."""
    try:
        prescan(raw)
    except SwitchboardError as exc:
        return _error(exc)
    loaded = _load(raw)
    return loaded if isinstance(loaded, Response) else _validate(loaded[0])


def _validate(data: dict[str, Any]) -> Parsed | Response:
    """The body as the wire model and the neutral request, or the 400 to answer."""
    try:
        body = ChatCompletionRequest.model_validate(data)
        chat_request, warnings = to_chat_request(body)
    except ValidationError as exc:
        return _error(invalid_from_validation(exc))
    except SwitchboardError as exc:
        return _error(exc)
    return body, chat_request, warnings


async def _sse(streams: list[AsyncGenerator[StreamEvent, None]], firsts: list[StreamEvent],
               encoders: list[ChunkEncoder], shutdown: StreamShutdown) -> AsyncIterator[bytes]:
    """The SSE body: one call's events encoded inline (the hot path: no extra generator
    per chunk), or n calls merged by ``fanout.merged_sse``."""
    stopping = False
    merged = merged_sse(streams, firsts, encoders) if len(streams) > 1 else None
    with shutdown.streaming():
        try:
            if merged is not None:
                async for data in merged:
                    yield data
            else:
                events, encoder = streams[0], encoders[0]
                yield encoder.encode(firsts[0])
                async for event in events:
                    data = encoder.encode(event)
                    if data:
                        yield data
        except asyncio.CancelledError:
            if not shutdown.absorb():
                raise
            stopping = True  # the answer is accounted (metered); tell the client why
        finally:
            if merged is not None:
                await merged.aclose()
            await close_all(streams)  # each call's stream (a no-op for those closed)
    if stopping:
        # In-band, as OpenAI reports errors once a stream has started (the SDK raises it).
        yield b"data: " + orjson.dumps(openai_error(
            f"{SHUTTING_DOWN.capitalize()}: the answer was cut short. "
            "Retry the request in a moment.", kind="server_error",
            code=SHUTDOWN_CODE)) + b"\n\n"


async def _complete(state: AppState, spec: CallSpec, prepare: Prepare, n: int,
                    warnings: list[CallWarning], completion_id: str,
                    created: int, later: Later | None = None) -> Response:
    try:
        done = await state.pipeline.complete_n(spec, n, prepare=prepare, later=later)
    except SwitchboardError as exc:
        return _error(exc)
    for completed in done:
        warnings = [*warnings, *completed.warnings]
    return _json(completion_body([c.result for c in done], completion_id, created,
                                 done[0].model.ref, state.fingerprint),
                 headers=_headers(done[0].headers, warnings))


async def _with_tools(state: AppState, principal: Principal, spec: CallSpec,
                      body: ChatCompletionRequest, names: list[str], prepare: Prepare,
                      warnings: list[CallWarning], completion_id: str,
                      created: int) -> Response:
    """``server_tools``: the server runs the tool loop (``server_tools.py``, imported with
    the first request that asks for it: decision 0223)."""
    from switchboard.api.openai.server_tools import complete as complete_with_tools
    from switchboard.api.openai.server_tools import first_event, open_loop
    from switchboard.api.openai.server_tools import sse as sse_with_tools

    try:  # errors before the first byte keep their HTTP status
        steps = await open_loop(state, principal, spec, names, prepare)
        if not body.stream:
            result = await complete_with_tools(steps)
        else:
            first, events = await first_event(steps)
    except SwitchboardError as exc:
        return _error(exc)
    for call in steps.calls:
        warnings = [*warnings, *call.warnings]
    model = steps.calls[-1].model if steps.calls else None
    ref = model.ref if model is not None else (spec.model or "")
    if not body.stream:
        return _json(completion_body(result, completion_id, created, ref, state.fingerprint),
                     headers=_headers(steps.headers, warnings))
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    encoder = ChunkEncoder(completion_id, created, ref, state.fingerprint, include_usage)
    return EventStream(sse_with_tools(steps, first, events, encoder, state.shutdown),
                       keep_alive=state.settings.sse_keep_alive,
                       headers=_headers(steps.headers, warnings))


EMBED_RENDER_IN_THREAD_FLOATS = 100_000
"""Above this many numbers, the embeddings response is encoded in a worker thread."""


async def embeddings(request: Request) -> Response:
    """``POST /v1/embeddings`` (see ``api/openai/embeddings.py`` for the wire)."""
    state: AppState = request.app.state.sb
    principal = await _principal(request, state)
    if isinstance(principal, Response):
        return principal
    raw = await request.body()
    if len(raw) > PARSE_IN_THREAD_BYTES:
        parsed = await anyio.to_thread.run_sync(_parse_embeddings, raw, True)
    else:
        parsed = _parse_embeddings(raw, False)
    if isinstance(parsed, Response):
        return parsed
    ref, embed_request, fmt = parsed
    try:  # admission (budgets, rate limits), metering and the usage row: the pipeline's
        done = await state.pipeline.embed(
            CallSpec(principal, "api", embed_request, ref, stream=False))
    except SwitchboardError as exc:
        return _error(exc)
    result = done.result
    body = embedding_body(result, done.model.ref, fmt)
    headers = _headers(done.headers, result.warnings)
    if sum(len(v) for v in result.vectors) > EMBED_RENDER_IN_THREAD_FLOATS:
        encoded = await anyio.to_thread.run_sync(orjson.dumps, body)
        return JsonBytes(encoded, headers=headers)
    return _json(body, headers=headers)


def _parse_embeddings(raw: bytes, large: bool) -> tuple[str | None, EmbeddingRequest,
                                                         Any] | Response:
    if large:
        try:
            prescan(raw)
        except SwitchboardError as exc:
            return _error(exc)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json(openai_error(
            "We could not parse the JSON body of your request. Send a JSON object with "
            "Content-Type: application/json."), 400)
    if not isinstance(data, dict):
        return _json(openai_error("The request body must be a JSON object."), 400)
    try:
        return parse_embedding_body(data)
    except SwitchboardError as exc:
        return _error(exc)


async def _image_caller(request: Request, state: AppState) -> Principal | Response:
    """The caller of an image endpoint, or the response refusing them (no credential,
    image generation turned off by an admin)."""
    principal = await _principal(request, state)
    if isinstance(principal, Response):
        return principal
    if not state.feature_on("image_generation", principal):  # an admin's switch (flags)
        return _json(openai_error(
            "Image generation is turned off on this server; an admin can turn it on.",
            kind="permission_error", code="feature_disabled"), 403)
    return principal


async def images_generations(request: Request) -> Response:
    """``POST /v1/images/generations`` (see ``api/openai/images.py`` for the wire)."""
    state: AppState = request.app.state.sb
    principal = await _image_caller(request, state)
    if isinstance(principal, Response):
        return principal
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _json(openai_error(
            "We could not parse the JSON body of your request. Send a JSON object with "
            "Content-Type: application/json."), 400)
    if not isinstance(data, dict):
        return _json(openai_error("The request body must be a JSON object."), 400)
    try:
        ref, image_request, fmt = parse_image_body(data)
    except SwitchboardError as exc:
        return _error(exc)
    return await _images_answer(request, state, principal, ref, image_request, fmt)


async def images_edits(request: Request) -> Response:
    """``POST /v1/images/edits``: multipart, pictures as files (``api/openai/images.py``)."""
    state: AppState = request.app.state.sb
    principal = await _image_caller(request, state)
    if isinstance(principal, Response):
        return principal
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return _json(openai_error(
            "Send the pictures to edit as multipart/form-data: the files as image (or "
            "image[]), the prompt and other settings as fields."), 400)
    try:
        form = await request.form(max_files=MAX_EDIT_FILES, max_fields=MAX_EDIT_FIELDS)
    except (MultiPartException, HTTPException) as exc:
        detail = getattr(exc, "message", None) or getattr(exc, "detail", None) or ""
        return _json(openai_error(f"The multipart body could not be read: {detail}"[:300]),
                     400)
    try:
        fields: list[tuple[str, str]] = []
        uploads: list[tuple[str, bytes]] = []
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.append((name, value))
            else:
                uploads.append((name, await value.read()))
        ref, image_request, fmt = parse_edit_form(fields, uploads)
    except SwitchboardError as exc:
        return _error(exc)
    finally:
        await form.close()
    return await _images_answer(request, state, principal, ref, image_request, fmt)


async def _images_answer(request: Request, state: AppState, principal: Principal, ref: str,
                         image_request: ImageRequest, fmt: str) -> Response:
    """Draw (or edit) through the pipeline and answer OpenAI's ``ImagesResponse``."""
    try:
        # admission (budgets, rate limits: the price of n pictures), metering, usage row
        done = await state.pipeline.images(CallSpec(principal, "api", image_request, ref,
                                                    stream=False))
    except SwitchboardError as exc:
        return _error(exc)
    urls: list[str] | None = None
    if fmt == "url":  # kept for the caller in the file store, served by /api/files
        base = str(request.base_url).rstrip("/")
        urls = []
        try:
            for image in done.result.images:
                kept = await files.store(state.db, state.files,
                                         principal.user_id, image.data, image.media_type)
                urls.append(f"{base}/api/files/{kept.sha256}")
        except SwitchboardError as exc:
            return _error(exc)
    body = image_body(done.result, image_request, urls)
    headers = _headers(done.headers, done.result.warnings)
    encoded = await anyio.to_thread.run_sync(orjson.dumps, body)  # megabytes of base64
    return JsonBytes(encoded, headers=headers)


class _ModelList:
    """``/v1/models`` of one registry state: the listing encoded once, and each model's
    object by ref and by bare id (the first match in listing order, as a scan finds)."""

    __slots__ = ("listing", "by_id")

    def __init__(self, registry: Registry) -> None:
        data: list[dict[str, Any]] = []
        self.by_id: dict[str, bytes] = {}
        usable = [e for e in registry.catalog() if e.enabled and e.configured]
        for entry in usable:
            item = {"id": entry.ref, "object": "model", "created": 0,
                    "owned_by": entry.provider}
            data.append(item)
            encoded = orjson.dumps(item)
            self.by_id.setdefault(entry.ref, encoded)
            self.by_id.setdefault(entry.model_id, encoded)
        if any(entry.type == "chat" for entry in usable):
            # Auto is a model a client may name (decision 0114): listed, so a client that
            # checks its model against this list accepts it.
            for ref in AUTO_REFS:
                item = {"id": ref, "object": "model", "created": 0, "owned_by": "switchboard"}
                data.append(item)
                self.by_id[ref] = orjson.dumps(item)
        self.listing = EncodedJson({"object": "list", "data": data})


# Keyed by the registry object and its version: ``state.registry()`` hands out a new
# object whenever the catalog cache was invalidated (a write here, in another process via
# Redis, or the audit-stamp probe), and a registry changed in place bumps its version.
# Weak keys: an old registry and its listing go together.
_model_lists: weakref.WeakKeyDictionary[Registry, tuple[int, _ModelList]] = (
    weakref.WeakKeyDictionary())


def _model_list(registry: Registry) -> _ModelList:
    cached = _model_lists.get(registry)
    if cached is not None and cached[0] == registry.version:
        return cached[1]
    version = registry.version
    models = _ModelList(registry)
    _model_lists[registry] = (version, models)
    return models


async def list_models(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request, state)
    if isinstance(principal, Response):
        return principal
    return send(request, _model_list(await state.registry()).listing)


async def get_model(request: Request) -> Response:
    state: AppState = request.app.state.sb
    principal = await _principal(request, state)
    if isinstance(principal, Response):
        return principal
    ref = request.path_params["model_id"]
    found = _model_list(await state.registry()).by_id.get(ref)
    if found is not None:
        return JsonBytes(found)
    return _json(openai_error(f"The model '{ref}' does not exist or is not available; "
                              "GET /v1/models lists the models you can use.",
                              param="model", code="model_not_found"), 404)


routes = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/embeddings", embeddings, methods=["POST"]),
    Route("/v1/images/generations", images_generations, methods=["POST"]),
    Route("/v1/images/edits", images_edits, methods=["POST"]),
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model_id:path}", get_model, methods=["GET"]),
]
