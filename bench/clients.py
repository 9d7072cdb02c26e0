"""Which HTTP client should talk to upstreams? ``python -m bench.clients``.

Measures the CLIENT side's CPU time per request (``time.process_time``, this process
only) against the mock upstream running in another process, for each candidate: httpx
with its default transport (httpcore), httpx with ``upstream.transport.FastTransport``,
and aiohttp when it is importable (it is not a dependency; put it on PYTHONPATH to
include it). JSON responses and 20-chunk SSE streams, at concurrency 1 and 32.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

from bench.load import chat_body
from bench.run import ROOT, free_port

Call = Callable[[bytes], Awaitable[int]]


async def _measure(call: Call, body: bytes, n: int, concurrency: int) -> float:
    left = [n]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await call(body)

    for _ in range(2):  # the first round warms the pool
        left[0] = n
        cpu = time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        used = time.process_time() - cpu
    return used * 1000 / n


def _httpx(url: str, fast: bool) -> tuple[Call, Callable[[], Awaitable[None]]]:
    import httpx

    from switchboard.upstream.transport import FastTransport

    transport = FastTransport() if fast else None
    client = httpx.AsyncClient(transport=transport, limits=httpx.Limits(
        max_connections=1000, max_keepalive_connections=200), trust_env=False)

    async def call(body: bytes) -> int:
        stream = b'"stream":true' in body
        async with client.stream("POST", url, content=body,
                                 headers={"content-type": "application/json"}) as r:
            if stream:
                async for _ in r.aiter_bytes():
                    pass
            else:
                orjson.loads(await r.aread())
            return r.status_code

    return call, client.aclose


def _transport_only(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    """``FastTransport`` called directly with an ``httpx.Request`` (no ``AsyncClient``:
    no cookie jar, auth or redirect machinery, which a gateway does not use)."""
    import httpx

    from switchboard.upstream.transport import FastTransport

    transport = FastTransport()
    headers = {"content-type": "application/json", "accept": "*/*",
               "accept-encoding": "gzip, deflate"}

    async def call(body: bytes) -> int:
        stream = b'"stream":true' in body
        request = httpx.Request("POST", url, headers=headers, content=body,
                                extensions={"timeout": {"connect": 5.0, "read": 60.0}})
        r = await transport.handle_async_request(request)
        try:
            if stream:
                async for _ in r.aiter_bytes():
                    pass
            else:
                orjson.loads(await r.aread())
        finally:
            await r.aclose()
        return r.status_code

    return call, transport.aclose


def _aiohttp(url: str) -> tuple[Call, Callable[[], Awaitable[None]]]:
    import aiohttp  # type: ignore[import-not-found]

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1000))

    async def call(body: bytes) -> int:
        stream = b'"stream":true' in body
        async with session.post(url, data=body,
                                headers={"content-type": "application/json"}) as r:
            if stream:
                async for _ in r.content.iter_any():
                    pass
            else:
                orjson.loads(await r.read())
            return r.status

    return call, session.close


async def compare(port: int, n: int) -> list[tuple[str, str, float]]:
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    makers: dict[str, Callable[[], tuple[Call, Callable[[], Awaitable[None]]]]] = {
        "httpx (httpcore)": lambda: _httpx(url, False),
        "httpx + FastTransport": lambda: _httpx(url, True),
        "FastTransport direct": lambda: _transport_only(url),
    }
    try:
        import aiohttp  # type: ignore[import-not-found]  # noqa: F401

        makers["aiohttp"] = lambda: _aiohttp(url)
    except ImportError:
        pass
    rows = []
    for name, make in makers.items():
        for stream in (False, True):
            for concurrency in (1, 32):
                call, close = make()
                ms = await _measure(call, chat_body("gpt-4o-mini", stream), n, concurrency)
                await close()
                rows.append((name, f"{'stream' if stream else 'json'} c={concurrency}", ms))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    port = free_port()
    two = (os.cpu_count() or 1) >= 2
    mock = subprocess.Popen([sys.executable, "-m", "bench.mock_upstream", "--port", str(port),
                             *(["--cpu", "0"] if two else [])], cwd=ROOT,
                            stdout=subprocess.PIPE)
    try:
        assert mock.stdout is not None
        mock.stdout.readline()  # "listening"
        if two:
            os.sched_setaffinity(0, {1})
        import uvloop

        rows = uvloop.run(compare(port, args.requests))
    finally:
        mock.terminate()
        mock.wait()
    print(f"{'client':24} {'scenario':12} {'client CPU ms/request':>22}")
    for name, scenario, ms in rows:
        print(f"{name:24} {scenario:12} {ms:22.3f}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
