"""``python -m bench.failover``: what a failover adds to the time to first byte.

Two mock vendors on loopback: a *primary* that answers every chat call with an
OpenAI-shaped ``503`` (or a ``429`` with ``Retry-After: 20``, or holds the request
without a byte), and the benchmark's mock upstream (``bench.mock_upstream``) as the
*fallback*. Through the real pipeline and ``FallbackRouter`` (registry, retry layer,
metering; no HTTP server in front, so only the failover is measured), it times the first
event of a streamed call:

- ``fallback alone``: the fallback model asked for directly (the floor);
- ``503 -> fallback``: the primary fails, with its default retries (2) under the
  router's retry budget (1 s), breaker kept closed (a new one per call): every
  failover pays the full cost;
- ``429 Retry-After: 20``: the wait is longer than the budget: no retry at all;
- ``breaker open``: the primary's breaker is open: skipped without an upstream call;
- ``hang (deadline 0.5 s)``: the primary holds the request; the first-byte deadline is
  set to 0.5 s here (15 s by default), so the cost is the deadline.

The added latency of a failover is each line's median minus ``fallback alone``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

import orjson

from bench import mock_upstream
from switchboard.providers.openai import OpenAIProvider
from switchboard.registry import ProviderInstance, Registry
from switchboard.services.breakers import BreakerPolicy, Breakers
from switchboard.services.metering import CallOutcome
from switchboard.services.pipeline import Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.principal import Principal
from switchboard.services.router import FallbackRouter, RouterSettings
from switchboard.spec import ChatRequest, Message

WHO = Principal(user_id=1, username="bench", role="member", token_id=None)
HI = ChatRequest(messages=[Message.user("hi")])
KEY = "sk-bench-failover-0123456789"


def _response(status: int, reason: str, body: dict[str, object],
              headers: dict[str, str] | None = None) -> bytes:
    data = orjson.dumps(body)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n{extra}"
            f"content-length: {len(data)}\r\n\r\n").encode() + data


OVERLOADED = _response(503, "Service Unavailable", {"error": {
    "message": "The server is overloaded", "type": "server_error", "param": None,
    "code": None}})
RATE_LIMITED = _response(429, "Too Many Requests", {"error": {
    "message": "Rate limit reached", "type": "requests", "param": None,
    "code": "rate_limit_exceeded"}}, {"retry-after": "20"})


class Primary(asyncio.Protocol):
    """Answers every request with ``answer`` (None: never answers)."""

    answer: bytes | None = OVERLOADED

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lower = self.buffer[:end].lower()
        at = lower.find(b"content-length:")
        length = int(lower[at + 15:lower.find(b"\r\n", at)]) if at >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        self.buffer = self.buffer[end + 4 + length:]
        if Primary.answer is not None:
            self.transport.write(Primary.answer)


async def _serve(factory: Callable[[], asyncio.Protocol]) -> tuple[asyncio.Server, int]:
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _pipeline(registry: Registry, breakers: Breakers, deadline: float) -> Pipeline:
    async def source() -> Registry:
        return registry

    def record(spec: CallSpec, outcome: CallOutcome) -> None:
        pass

    return Pipeline(source, [], FallbackRouter(breakers, RouterSettings(
        first_byte_deadline=deadline)), record)


async def _first_byte(pipeline: Pipeline, model: str, fallbacks: list[str]) -> float:
    started = time.perf_counter()
    call = await pipeline.open(CallSpec(WHO, "api", HI, model, fallbacks))
    took = time.perf_counter() - started
    assert call.model.ref == "fallback:gpt-4o-mini", call.model.ref
    async for _ in call.events:
        pass
    return took


async def _times(runs: int, once: Callable[[], Awaitable[float]]) -> list[float]:
    await once()  # warm the connection pools
    return [await once() for _ in range(runs)]


async def main(runs: int) -> None:
    responses = mock_upstream.Responses(20)
    fallback_server, fallback_port = await _serve(
        lambda: mock_upstream.MockProtocol(responses))
    primary_server, primary_port = await _serve(Primary)
    registry = Registry([OpenAIProvider], [
        ProviderInstance("primary", "openai", OpenAIProvider.Config(
            base_url=f"http://127.0.0.1:{primary_port}/v1", api_key=KEY)),
        ProviderInstance("fallback", "openai", OpenAIProvider.Config(
            base_url=f"http://127.0.0.1:{fallback_port}/v1", api_key=KEY)),
    ])
    chain = ["fallback:gpt-4o-mini"]
    closed = BreakerPolicy(failure_threshold=10**6, minimum_requests=10**6)

    def fresh(deadline: float = 15.0) -> Pipeline:
        return _pipeline(registry, Breakers(closed), deadline)

    rows: list[tuple[str, list[float]]] = []
    rows.append(("fallback alone", await _times(
        runs, lambda: _first_byte(fresh(), "fallback:gpt-4o-mini", []))))
    Primary.answer = OVERLOADED
    rows.append(("503 -> fallback", await _times(
        runs, lambda: _first_byte(fresh(), "primary:gpt-4o", chain))))
    Primary.answer = RATE_LIMITED
    rows.append(("429 Retry-After: 20 -> fallback", await _times(
        runs, lambda: _first_byte(fresh(), "primary:gpt-4o", chain))))
    tripped = Breakers(BreakerPolicy(failure_threshold=1, cooldown=3600))
    tripped.get("primary").failure("overloaded")
    open_pipeline = _pipeline(registry, tripped, 15.0)
    rows.append(("breaker open -> fallback", await _times(
        runs, lambda: _first_byte(open_pipeline, "primary:gpt-4o", chain))))
    Primary.answer = None
    rows.append(("hang, deadline 0.5 s -> fallback", await _times(
        max(3, runs // 10), lambda: _first_byte(fresh(0.5), "primary:gpt-4o", chain))))

    floor = statistics.median(rows[0][1])
    print(f"{'first byte of a streamed call':34} {'median':>9} {'p95':>9} {'added':>9}")
    for name, times in rows:
        ordered = sorted(times)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        median = statistics.median(times)
        print(f"{name:34} {median * 1000:8.1f}ms {p95 * 1000:8.1f}ms "
              f"{(median - floor) * 1000:8.1f}ms")
    for server in (fallback_server, primary_server):
        server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.runs))
