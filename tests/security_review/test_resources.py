"""The most expensive requests a member can make finish in bounded time and memory.

Issue 10's resource gate: against a real ``switchboard serve`` in a SUBPROCESS (so its
memory is its own), each request below — the largest the limits allow, aimed at the
built-in offline model — must be answered (a 200 or a clear 400) within ``MAX_SECONDS``,
and the server's peak resident memory (``VmHWM`` in ``/proc/PID/status``) must stay within
``MAX_GROWTH_MB`` of what it was before the request. The bounds are generous on purpose:
this guards against runaway work (minutes, gigabytes), not speed. Before the fixes of
items 1 and 7, the schema requests alone took minutes and hundreds of megabytes.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from switchboard.config import load_settings
from switchboard.spec.limits import (
    MAX_IMAGE_BYTES,
    MAX_MESSAGES,
    MAX_PARTS_PER_MESSAGE,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    MAX_STOP_CHARS,
    MAX_STOP_SEQUENCES,
    MAX_TEXT_CHARS,
    MAX_TOOLS,
)
from tests.conftest import isolate
from tests.fakes.server import free_port
from tests.server import Running

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MAX_SECONDS = 10.0
MAX_GROWTH_MB = 300
MODEL = "offline:offline-chat"


@dataclass
class Server:
    url: str
    pid: int
    token: str

    def memory_kb(self, field: str) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise AssertionError(f"{field} not in /proc/{self.pid}/status")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the module. Module-scoped fixtures run before the suite's per-test
    environment isolation (tests/conftest.py), so this one isolates itself the same way."""
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc to read the server's memory")
    with pytest.MonkeyPatch.context() as env:
        isolate(env, tmp_path_factory.mktemp("resources") / "data")
        # The largest prompts are ~1 M estimated tokens: a member's default tokens-per-minute
        # limit refuses them (429) before the handler this module measures would run.
        env.setenv("SWITCHBOARD_RATE_LIMITS", "off")
        yield from _serve()


def _serve() -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "switchboard.cli.main", "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            assert line, "serve exited early:\n" + "".join(lines)
            lines.append(line)
            if "Application startup complete" in line:
                break
        url = f"http://127.0.0.1:{port}"
        token = Running(url, load_settings()).make_user("heavy")
        yield Server(url, proc.pid, token)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _nested(levels: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}, "required": ["a"]}
    return schema


def _wide(properties: int, tag: str = "") -> dict[str, Any]:
    return {"type": "object", "properties": {
        f"{tag}p{i}": {"type": "boolean"} for i in range(properties)}}


def _ask(content: Any = "fill it in", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": content}], **extra}


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "out", "schema": schema}}


PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(MAX_IMAGE_BYTES - 16)).decode()
TOOL_NODES = MAX_SCHEMA_NODES // MAX_TOOLS // 2 - 2  # boolean properties per tool

# (name, body factory): the largest request of each kind that the limits allow.
EXPENSIVE: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("largest response schema", lambda: _ask(response_format=_json_schema(
        _wide(MAX_SCHEMA_NODES // 2 - 2)))),
    ("longest value the offline model writes, streamed", lambda: _ask(
        stream=True, response_format=_json_schema({
            "type": "array", "items": {"type": "integer"}, "minItems": 5_000}))),
    ("schema beyond the output limit", lambda: _ask(response_format=_json_schema(
        {"type": "string", "minLength": 500_000_000}))),
    ("most messages", lambda: {"model": MODEL, "messages": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i} " * 20}
        for i in range(MAX_MESSAGES - 1)] + [{"role": "user", "content": "and now?"}]}),
    ("most parts", lambda: {"model": MODEL, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "x"}] * MAX_PARTS_PER_MESSAGE}
        for _ in range(20)]}),
    ("most tools, forced", lambda: _ask(
        "use tool_0", tool_choice="required",
        tools=[{"type": "function", "function": {
            "name": f"tool_{i}", "description": "does a thing " * 50,
            "parameters": _wide(TOOL_NODES, f"t{i}")}} for i in range(MAX_TOOLS)])),
    ("deepest tool schema, forced", lambda: _ask(tool_choice="required", tools=[
        {"type": "function", "function": {"name": "deep", "parameters": _nested(
            MAX_SCHEMA_DEPTH // 2 - 1)}}])),
    ("largest image", lambda: _ask([{"type": "text", "text": "what is this?"}, {
        "type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG}}])),
    ("most text", lambda: _ask("Word and Name. " * (MAX_TEXT_CHARS // 16))),
    ("longest stop list, max tokens huge", lambda: _ask(
        "tell me everything " * 1000, max_tokens=2**31 - 1,
        stop=[f"{i}" + "z" * (MAX_STOP_CHARS - 3) for i in range(MAX_STOP_SEQUENCES)])),
]


@pytest.mark.parametrize(("name", "make"), EXPENSIVE, ids=[n for n, _ in EXPENSIVE])
def test_expensive_requests_finish_in_bounded_time_and_memory(
        served: Server, name: str, make: Callable[[], dict[str, Any]]) -> None:
    body = orjson.dumps(make())
    before = served.memory_kb("VmRSS")
    with httpx.Client(base_url=served.url, timeout=120,
                      headers={"authorization": f"Bearer {served.token}"}) as client:
        started = time.perf_counter()
        with client.stream("POST", "/v1/chat/completions", content=body,
                           headers={"content-type": "application/json"}) as response:
            received = sum(len(chunk) for chunk in response.iter_bytes())
        elapsed = time.perf_counter() - started
    peak = served.memory_kb("VmHWM")
    growth_mb = (peak - before) / 1024
    print(f"{name}: {len(body) / 1e6:.1f} MB in, {response.status_code}, {received:,} bytes "
          f"out, {elapsed:.2f} s, peak +{growth_mb:.0f} MB")
    assert response.status_code in (200, 400), (response.status_code, name)
    assert elapsed < MAX_SECONDS, (name, elapsed)
    assert growth_mb < MAX_GROWTH_MB, (name, growth_mb)
