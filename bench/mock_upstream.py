"""A deliberately cheap mock of OpenAI's Chat Completions endpoint, for the benchmark.

Why a raw asyncio protocol and not an ASGI app: the mock shares a core with the load
generator, and every microsecond it spends is added to *both* the direct and the
through-Switchboard figures. Measured on the bench machine (see docs/performance.md), a
``asyncio.Protocol`` server on uvloop answers a keep-alive request in a fraction of what
uvicorn + a minimal ASGI app costs, so the "direct" baseline is as close to the network
floor as Python gets.

Wire format (https://platform.openai.com/docs/api-reference/chat):

- ``POST /v1/chat/completions`` with ``"stream": false`` -> one ``chat.completion`` JSON
  body with ``Content-Length``.
- with ``"stream": true`` -> ``text/event-stream`` in HTTP/1.1 chunked encoding, as
  OpenAI sends it: a role chunk, ``chunks`` content chunks of one token each, a finish
  chunk, a usage chunk (only when ``stream_options.include_usage``), ``data: [DONE]``.
  Each SSE event is its own HTTP chunk and its own ``transport.write``.
- ``GET /v1/models`` -> a one-model list (key checks).

All response bytes are precomputed once; a request costs a header scan and a few
``bytes.find`` calls. Keep-alive is honoured; ``Connection: close`` is not needed by our
clients and not implemented.

Run alone: ``python -m bench.mock_upstream --port 9100 --chunks 20``.
"""

from __future__ import annotations

import argparse
import asyncio
import os

import orjson

MODEL = "gpt-4o-mini"
CONTENT = "Hello! This is a benchmark answer from the mock upstream."


def _completion(prompt_tokens: int, completion_tokens: int) -> bytes:
    return orjson.dumps({
        "id": "chatcmpl-mock", "object": "chat.completion", "created": 1_700_000_000,
        "model": MODEL, "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": CONTENT,
                                             "refusal": None},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens,
                  "prompt_tokens_details": {"cached_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0}},
    })


def _chunk(delta: dict[str, object], finish: str | None = None,
           usage: dict[str, int] | None = None) -> bytes:
    payload: dict[str, object] = {
        "id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": MODEL, "system_fingerprint": "fp_mock",
        "choices": [] if usage else [{"index": 0, "delta": delta, "logprobs": None,
                                      "finish_reason": finish}],
    }
    if usage:
        payload["usage"] = usage
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Responses:
    """Every byte the mock can send, built once."""

    def __init__(self, chunks: int) -> None:
        body = _completion(12, 14)
        self.json = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"x-request-id: req_mock\r\ncontent-length: %d\r\n\r\n%s"
                     % (len(body), body))
        head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"x-request-id: req_mock\r\ntransfer-encoding: chunked\r\n\r\n")
        events = [_chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [_chunk({"content": f"tok{i} "}) for i in range(chunks)]
        events.append(_chunk({}, finish="stop"))
        self.stream_head = head + _http_chunk(events[0])
        self.stream_body = [_http_chunk(e) for e in events[1:]]
        usage = {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks}
        self.stream_usage = _http_chunk(_chunk({}, usage=usage))
        self.stream_tail = _http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
        models = orjson.dumps({"object": "list", "data": [
            {"id": MODEL, "object": "model", "created": 0, "owned_by": "mock"}]})
        self.models = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                       b"content-length: %d\r\n\r\n%s" % (len(models), models))
        self.not_found = (b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                          b"content-length: 2\r\n\r\n{}")


class MockProtocol(asyncio.Protocol):
    __slots__ = ("responses", "transport", "buffer")

    def __init__(self, responses: Responses) -> None:
        self.responses = responses
        self.transport: asyncio.Transport | None = None
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            lower = head.lower()
            at = lower.find(b"content-length:")
            if at >= 0:
                stop = lower.find(b"\r\n", at)
                length = int(lower[at + 15:stop if stop >= 0 else None])
            total = end + 4 + length
            if len(self.buffer) < total:
                return
            body = self.buffer[end + 4:total]
            self.buffer = self.buffer[total:]
            self._respond(head, body)

    def _respond(self, head: bytes, body: bytes) -> None:
        t = self.transport
        assert t is not None
        r = self.responses
        if head.startswith(b"POST /v1/chat/completions") or head.startswith(
                b"POST /chat/completions"):
            if b'"stream":true' in body or b'"stream": true' in body:
                t.write(r.stream_head)
                for part in r.stream_body:
                    t.write(part)
                if b'"include_usage":true' in body or b'"include_usage": true' in body:
                    t.write(r.stream_usage)
                t.write(r.stream_tail)
            else:
                t.write(r.json)
        elif head.startswith(b"GET /v1/models") or head.startswith(b"GET /models"):
            t.write(r.models)
        else:
            t.write(r.not_found)


async def serve(host: str, port: int, chunks: int, ready: asyncio.Future[int] | None = None,
                ) -> None:
    loop = asyncio.get_running_loop()
    responses = Responses(chunks)
    server = await loop.create_server(lambda: MockProtocol(responses), host, port,
                                      backlog=1024, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    if ready is not None:
        ready.set_result(bound)
    print(f"mock upstream listening on {host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    try:
        import uvloop
        uvloop.run(serve(args.host, args.port, args.chunks))
    except ImportError:
        asyncio.run(serve(args.host, args.port, args.chunks))


if __name__ == "__main__":
    main()
