"""Reattaching clients: ``python -m bench.reattach [--clients 32] [--rounds 3]
[--workers 1] [--redis URL] [--delay-ms 5]``.

Runs ``switchboard serve`` on a fresh data directory (the built-in offline model, paced
at ``--delay-ms`` per chunk) and, ``--clients`` at once, for ``--rounds`` rounds:

- **uninterrupted**: ``POST /api/chat/stream`` read to ``done``;
- **reattaching**: the same request, the connection dropped after a random number of
  events, then ``GET /api/messages/{id}/stream`` with the ``Last-Event-ID`` of the last
  event read, to ``done``.

Reports, per kind: the answer's time to ``done`` (p50/p95), and for the reattaching
clients the time from the reattach request to its first event (p50/p95/max), the events
replayed, and how many final texts differ from the saved answer (must be 0). With
``--workers 2 --redis URL --pg URL`` the reattach usually lands on the other worker (the kernel
spreads connections), which exercises the Redis stream.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench.procs import spawn
from bench.run import drop_pg_database, free_port, make_pg_database, wait_port

PROMPT = "Write a Python function that removes duplicates from a list while keeping order."


@dataclass
class Sample:
    total: float = 0.0
    reattach_first: float | None = None
    replayed: int = 0
    mismatch: bool = False


@dataclass
class Results:
    plain: list[Sample] = field(default_factory=list)
    resumed: list[Sample] = field(default_factory=list)


async def _events(response: httpx.Response) -> Any:
    ident, name = None, "message"
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            ident = line[4:]
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            yield ident, name, orjson.loads(line[6:])
            ident, name = None, "message"


async def _plain(http: _as) -> Sample:
    started = time.perf_counter()
    async with http.stream("POST", "/api/chat/stream", json={"text": PROMPT}) as r:
        async for _, name, _ in _events(r):
            if name in ("done", "error"):
                break
    return Sample(total=time.perf_counter() - started)


async def _resumed(http: _as, rng: random.Random) -> Sample:
    sample = Sample()
    started = time.perf_counter()
    drop_after = rng.randrange(2, 40)
    text: list[str] = []
    last, answer = "0", None
    async with http.stream("POST", "/api/chat/stream", json={"text": PROMPT}) as r:
        seen = 0
        async for ident, name, data in _events(r):
            last = ident or last
            if name == "start":
                answer = data["assistant_message_id"]
            elif name == "delta":
                text.append(data["text"])
            seen += 1
            if seen >= drop_after or name in ("done", "error"):
                break
    asked = time.perf_counter()
    async with http.stream("GET", f"/api/messages/{answer}/stream",
                           headers={"last-event-id": last}) as r:
        async for _, name, data in _events(r):
            if sample.reattach_first is None:
                sample.reattach_first = time.perf_counter() - asked
            sample.replayed += 1
            if name == "snapshot":
                text = [data["text"]]
            elif name == "delta":
                text.append(data["text"])
            elif name == "done":
                sample.mismatch = "".join(text) != data["message"]["text"]
    sample.total = time.perf_counter() - started
    return sample


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _run(url: str, tokens: list[str], rounds: int) -> Results:
    """One simulated user per token, each with one answer at a time (a user has at most
    ``answer_jobs.MAX_PER_USER`` answers running)."""
    results = Results()
    rng = random.Random(12)
    limits = httpx.Limits(max_connections=len(tokens) * 2, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        for _ in range(rounds):
            plain = await asyncio.gather(*(_plain(_as(http, t)) for t in tokens))
            resumed = await asyncio.gather(*(_resumed(_as(http, t), rng) for t in tokens))
            results.plain.extend(plain)
            results.resumed.extend(resumed)
    return results


class _as:
    """``http`` with one user's token on every request."""

    def __init__(self, http: httpx.AsyncClient, token: str) -> None:
        self.http = http
        self.auth = {"authorization": f"Bearer {token}"}

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {**kwargs.pop("headers", {}), **self.auth}
        return self.http.stream(method, url, headers=headers, **kwargs)


def _prepare(env: dict[str, str], delay_ms: int, users: int) -> list[str]:
    code = (
        "import asyncio, json\n"
        "from bench.prepare import prepare\n"
        "from switchboard.config import load_settings\n"
        "from switchboard.db import Database\n"
        "from switchboard.services.providers import update_provider\n"
        "async def main():\n"
        f"    tokens = [await prepare() for _ in range({users})]\n"
        "    db = Database.from_url(load_settings().database_url, pooled=False)\n"
        f"    await update_provider(db, 'offline', settings={{'chunk_delay_ms': {delay_ms}}})\n"
        "    await db.dispose()\n"
        "    print(json.dumps({'tokens': tokens}))\n"
        "asyncio.run(main())\n")
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout
    return [str(t) for t in orjson.loads(out.strip().splitlines()[-1])["tokens"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis", default=None)
    parser.add_argument("--delay-ms", type=int, default=5)
    parser.add_argument("--pg", default=None, metavar="ADMIN_URL",
                        help="a PostgreSQL server to create the database on (needed for "
                             "more than one worker)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(Path(data)),
               "SWITCHBOARD_DISABLE_PLUGINS": "1", "SWITCHBOARD_AUTO_TITLES": "0",
               "SWITCHBOARD_ACCESS_LOG": "0"}
        env.pop("SWITCHBOARD_DATABASE_URL", None)
        database = None
        if options.pg:
            url, database = make_pg_database(options.pg)
            env["SWITCHBOARD_DATABASE_URL"] = url
        if options.redis:
            env["SWITCHBOARD_REDIS_URL"] = options.redis
        else:
            env.pop("SWITCHBOARD_REDIS_URL", None)
        tokens = _prepare(env, options.delay_ms, options.clients)
        port = free_port()
        server = spawn("server", ["-m", "switchboard.cli.main", "serve",
                                  "--port", str(port), "--workers", str(options.workers),
                                  "--log-level", "warning"],
                       cpus=None, env=env, log=Path(data) / "server.log")
        try:
            asyncio.run(wait_port(port, server, limit=120))
            started = time.perf_counter()
            results = asyncio.run(_run(f"http://127.0.0.1:{port}", tokens, options.rounds))
            elapsed = time.perf_counter() - started
        finally:
            server.stop()
            if database is not None:
                drop_pg_database(options.pg, database)
    plain = [s.total for s in results.plain]
    resumed = [s.total for s in results.resumed]
    firsts = [s.reattach_first for s in results.resumed if s.reattach_first is not None]
    print(f"reattaching clients: {options.clients} clients x {options.rounds} rounds, "
          f"{options.workers} worker(s), redis={'yes' if options.redis else 'no'}, "
          f"offline model at {options.delay_ms} ms/chunk, {elapsed:.1f} s")
    for label, values in (("uninterrupted", plain), ("reattaching", resumed)):
        print(f"  {label:<14} answer p50 {_pct(values, 0.5):7.1f} ms  "
              f"p95 {_pct(values, 0.95):7.1f} ms")
    print(f"  reattach -> first event p50 {_pct(firsts, 0.5):6.1f} ms  "
          f"p95 {_pct(firsts, 0.95):6.1f} ms  max {max(firsts) * 1000:6.1f} ms")
    replayed = statistics.median(s.replayed for s in results.resumed)
    print(f"  events per reattach (median) {replayed}; final texts differing from the "
          f"saved answer: {sum(s.mismatch for s in results.resumed)}")


if __name__ == "__main__":
    main()
