"""The load generator: a fixed number of requests at a fixed concurrency.

``concurrency`` keep-alive connections each send requests one after another until the
shared count is used up (a closed loop: a new request starts when one finishes). It speaks
raw HTTP/1.1 over asyncio streams rather than through httpx so that its own cost stays
small next to what it measures; in any case the server's CPU figures come from
``/proc/<pid>/stat``, never from the client's clock.

Per request it records the latency (request written -> response fully read) and, for
streams, the time to first token: the first SSE event carrying non-empty ``content``
(the role chunk that opens an OpenAI stream carries ``"content":""`` and does not count).
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field

import orjson

FIRST_TOKEN = b'"content":"'


@dataclass
class Target:
    host: str
    port: int
    path: str = "/v1/chat/completions"
    token: str | None = None


@dataclass
class LoadResult:
    requests: int
    concurrency: int
    wall_s: float
    latencies_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None

    @property
    def throughput(self) -> float:
        return len(self.latencies_ms) / self.wall_s if self.wall_s else 0.0


def chat_body(model: str, stream: bool) -> bytes:
    body: dict[str, object] = {
        "model": model,
        "messages": [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "Say hello to the benchmark."}],
        "max_tokens": 64,
    }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return orjson.dumps(body)


def request_bytes(target: Target, body: bytes) -> bytes:
    auth = f"authorization: Bearer {target.token}\r\n" if target.token else ""
    return (f"POST {target.path} HTTP/1.1\r\nhost: {target.host}:{target.port}\r\n"
            f"content-type: application/json\r\n{auth}content-length: {len(body)}\r\n\r\n"
            ).encode() + body


def _has_token(chunk: bytes) -> bool:
    """Does this piece of the body carry a non-empty content delta? Every occurrence is
    checked: the server writes all the events of one upstream read at once (decision
    0090), so the role chunk's empty content and the first token often share a write."""
    at = chunk.find(FIRST_TOKEN)
    while at >= 0:
        if chunk[at + len(FIRST_TOKEN):at + len(FIRST_TOKEN) + 1] != b'"':
            return True
        at = chunk.find(FIRST_TOKEN, at + len(FIRST_TOKEN))
    return False


class HttpError(Exception):
    pass


async def read_response(reader: asyncio.StreamReader, started: float,
                        ) -> tuple[int, bytes, float | None]:
    """(status, body, first-token time) of one response; handles Content-Length and
    chunked bodies."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    first: float | None = None
    if b"transfer-encoding: chunked" in lower:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                break
            chunk = data[:-2]
            if first is None and _has_token(chunk):
                first = time.perf_counter()
            parts.append(chunk)
        return status, b"".join(parts), first
    at = lower.find(b"content-length:")
    if at < 0:
        raise HttpError("response without content-length or chunked encoding")
    length = int(lower[at + 15:lower.find(b"\r\n", at)])
    return status, await reader.readexactly(length), first


async def run_load(target: Target, body: bytes, requests: int, concurrency: int,
                   stream: bool = False) -> LoadResult:
    payload = request_bytes(target, body)
    remaining = [requests]
    result = LoadResult(requests=requests, concurrency=concurrency, wall_s=0.0)

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        try:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                writer.write(payload)
                status, data, first = await read_response(reader, started)
                done = time.perf_counter()
                if status != 200 or (stream and not data.endswith(b"data: [DONE]\n\n")):
                    result.errors += 1
                    if result.first_error is None:
                        result.first_error = f"HTTP {status}: {data[:300]!r}"
                    continue
                result.latencies_ms.append((done - started) * 1000)
                if first is not None:
                    result.ttft_ms.append((first - started) * 1000)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, requests))))
    result.wall_s = time.perf_counter() - started
    return result


async def one_request(target: Target, body: bytes, limit: float = 5.0,
                      ) -> tuple[int, bytes]:
    """A single request on a fresh connection (startup probe, checks)."""
    async with asyncio.timeout(limit):
        reader, writer = await asyncio.open_connection(target.host, target.port)
        try:
            writer.write(request_bytes(target, body))
            status, data, _ = await read_response(reader, time.perf_counter())
            return status, data
        finally:
            writer.close()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]
