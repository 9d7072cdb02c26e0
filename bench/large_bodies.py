"""Parse ``/v1`` chat bodies inline or in a worker thread? ``python -m bench.large_bodies``.

For bodies of several sizes (many short messages, and one with 128 tools of distinct
schemas), measures in this process:

- ``inline ms``: parsing + validating + translating the body (``routes._parse``) on the
  event loop, median of the runs;
- ``thread ms``: the same through ``anyio.to_thread.run_sync`` (the hop included);
- ``stall inline`` / ``stall thread``: the longest the event loop went without running
  another task (a 1 ms ticker) while the body was handled either way — what every other
  request on the server waits.

The worker thread still shares the GIL, but CPython switches threads every 5 ms
(``sys.getswitchinterval``), so the loop keeps running between the pure-Python steps of
validation; the thread hop costs ~0.1 ms, which is why small bodies stay inline
(``bounds.PARSE_IN_THREAD_BYTES``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import anyio
import orjson

from switchboard.api.openai.routes import _parse
from switchboard.spec import schema_check


def _messages_body(count: int) -> bytes:
    messages = [{"role": "user" if i % 2 == 0 else "assistant",
                 "content": f"message {i}: " + "lorem ipsum dolor sit amet " * 3}
                for i in range(count)]
    return orjson.dumps({"model": "offline:offline-chat", "messages": messages})


def _tools_body(tools: int, properties: int) -> bytes:
    schema = {f"p{j}": {"type": "string", "description": "a field"} for j in range(properties)}
    return orjson.dumps({
        "model": "offline:offline-chat", "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {
            "name": f"tool_{i}", "parameters": {"type": "object", "properties": {
                **schema, f"unique_{i}": {"type": "integer"}}}}} for i in range(tools)]})


async def _stall(work: Callable[[], Any]) -> float:
    """The longest gap (ms) between ticks of a 1 ms ticker while ``work`` runs."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    await work()
    done.set()
    await task
    return max(gaps) * 1000


def _cold_parse(raw: bytes) -> object:
    """``_parse`` with no schema remembered (a client's first call, or an attacker's)."""
    schema_check._VALID.clear()
    return _parse(raw)


async def _case(name: str, raw: bytes, runs: int) -> None:
    inline: list[float] = []
    threaded: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        _cold_parse(raw)
        inline.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        await anyio.to_thread.run_sync(_cold_parse, raw)
        threaded.append((time.perf_counter() - started) * 1000)

    async def on_loop() -> None:
        _cold_parse(raw)

    async def in_thread() -> None:
        await anyio.to_thread.run_sync(_cold_parse, raw)

    stall_inline = await _stall(on_loop)
    stall_thread = await _stall(in_thread)
    print(f"| {name} | {len(raw) / 1024:,.0f} KiB | {statistics.median(inline):.2f} | "
          f"{statistics.median(threaded):.2f} | {stall_inline:.1f} | {stall_thread:.1f} |")


async def main() -> None:
    print("| body | size | inline ms | thread ms | stall inline ms | stall thread ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for count in (4, 100, 2_000, 8_000):
        await _case(f"{count:,} messages", _messages_body(count), 5 if count < 8000 else 3)
    await _case("128 tools x 20 properties", _tools_body(128, 20), 2)
    await _case("1 tool, 3,300 properties (~9,900 schema values)", _tools_body(1, 3_300), 2)


if __name__ == "__main__":
    asyncio.run(main())
