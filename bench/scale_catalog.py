"""Scale, part 1: a big catalog (default 200 providers, 5,000 models).

Seeding goes through the real per-row services (``providers.create_provider``,
``provider_models.create_model``): each call is one catalog write — validation, pricing
lookup, audit row, cache invalidation — so the seeding time is itself a measurement of a
catalog write at that size (about 10 ms per model on SQLite here; 5,000 models take under
a minute, so no bulk path was needed).

Then, against a real ``switchboard serve`` process:

- ``GET /api/model-registry`` and ``GET /api/models``: *cold* = the first call after a
  catalog write (a ``PUT /api/config/providers/{id}`` through the same server, which
  drops the cache), *warm* = the following calls, served from the catalog cache.
  Each also records the server's CPU time per call (from ``/proc``) and the body size;
  then the same warm calls with ``Accept-Encoding: gzip`` (the server sends the gzip copy
  it keeps per catalog version): their latency, CPU and the bytes on the wire.
- the latency of the writes themselves: that provider PUT, and a ``PUT
  /api/config/models/{id}`` (whose response is rendered from the catalog snapshot, so it
  pays a full rebuild after its own invalidation).
- in-process: ``build_registry`` (what a catalog write costs the next routed request),
  the cached ``load_registry`` and ``Registry.resolve`` for the three spellings of a model.
"""

from __future__ import annotations

import asyncio
import gzip
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.load import read_response
from bench.procs import Proc
from bench.scale_db import free_port, get_bytes, make_admin, server_env, start_server, wait_ready

VENDOR_KINDS = ("openai", "anthropic", "mistral", "gemini")


@dataclass
class CatalogResult:
    providers: int
    models: int
    seed_providers_s: float = 0.0
    seed_models_s: float = 0.0
    server_ready_s: float = 0.0
    endpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    write_ms: list[float] = field(default_factory=list)
    model_write_ms: list[float] = field(default_factory=list)
    registry: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "providers": self.providers, "models": self.models,
            "seed_providers_s": self.seed_providers_s, "seed_models_s": self.seed_models_s,
            "seed_ms_per_model": self.seed_models_s * 1000 / max(1, self.models),
            "server_ready_s": self.server_ready_s,
            "provider_put_ms_median": _median(self.write_ms),
            "model_put_ms_median": _median(self.model_write_ms),
            "endpoints": self.endpoints, "registry": self.registry,
        }


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def provider_name(i: int) -> str:
    return f"p{i:03d}"


def model_id(provider: int, j: int) -> str:
    return f"scale-model-{provider:03d}-{j:03d}"


async def seed(url: str, providers: int, models: int, result: CatalogResult) -> None:
    """``providers`` rows (a few of each vendor kind, the rest OpenAI-compatible), with
    ``models`` models spread evenly; every tenth model of a provider is disabled, so the registry
    (enabled only) and ``/api/models`` (all) differ."""
    from switchboard.db import Database
    from switchboard.services.provider_models import create_model
    from switchboard.services.providers import create_provider
    from switchboard.services.seed import seed_catalog

    db = Database.from_url(url)
    try:
        await seed_catalog(db)
        started = time.perf_counter()
        for i in range(providers):
            kind = VENDOR_KINDS[i % 10] if i % 10 < len(VENDOR_KINDS) else "openai_compatible"
            await create_provider(
                db, name=provider_name(i), kind=kind,
                base_url=f"http://127.0.0.1:9/{provider_name(i)}/v1"
                if kind == "openai_compatible" else None)
        result.seed_providers_s = time.perf_counter() - started
        started = time.perf_counter()
        for n in range(models):
            i, j = n % providers, n // providers
            await create_model(db, provider_name(i), model_id(i, j), enabled=j % 10 != 9,
                               context_window=128_000, price_input="0.5",
                               price_output="1.5", description="scale benchmark model")
        result.seed_models_s = time.perf_counter() - started
    finally:
        await db.dispose()


class Client:
    """One keep-alive connection to the server (so connection set-up is not measured)."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> tuple[int, bytes, float]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        started = time.perf_counter()
        self.writer.write(raw)
        status, body, _ = await read_response(self.reader, started)
        return status, body, (time.perf_counter() - started) * 1000

    async def get(self, path: str, gzip: bool = False) -> tuple[int, bytes, float]:
        raw = get_bytes(self.port, path, self.token)
        if gzip:
            raw = raw[:-2] + b"accept-encoding: gzip\r\n\r\n"
        return await self.request(raw)

    async def put_json(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes, float]:
        body = orjson.dumps(payload)
        head = (f"PUT {path} HTTP/1.1\r\nhost: 127.0.0.1:{self.port}\r\n"
                f"authorization: Bearer {self.token}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\n\r\n").encode()
        return await self.request(head + body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _check(status: int, body: bytes, what: str) -> None:
    if status != 200:
        raise SystemExit(f"{what}: HTTP {status}: {body[:300]!r}")


async def measure_model_write(client: Client, model_db_id: int, reps: int,
                              result: CatalogResult) -> None:
    for rep in range(reps):
        status, out, ms = await client.put_json(
            f"/api/config/models/{model_db_id}", {"description": f"scale write {rep}"})
        _check(status, out, "PUT model")
        result.model_write_ms.append(ms)


async def measure_endpoints(client: Client, server: Proc, provider_db_id: int, cold: int,
                            warm: int, result: CatalogResult) -> None:
    for path in ("/api/model-registry", "/api/models"):
        cold_ms: list[float] = []
        warm_ms: list[float] = []
        cold_cpu = warm_cpu = 0.0  # summed: /proc counts in 10 ms ticks
        body = b""
        for rep in range(cold):
            # A provider PUT: its response is built from the row alone, so the cache
            # stays cold for the GET (a model PUT's response reads the whole snapshot).
            status, out, ms = await client.put_json(
                f"/api/config/providers/{provider_db_id}",
                {"image_url": f"https://example.invalid/{path.strip('/')}-{rep}.png"})
            _check(status, out, "PUT provider")
            result.write_ms.append(ms)
            c0 = server.cpu()
            status, body, ms = await client.get(path)
            cold_cpu += server.cpu() - c0
            _check(status, body, path)
            cold_ms.append(ms)
            c0 = server.cpu()
            for _ in range(warm):
                status, body, ms = await client.get(path)
                _check(status, body, path)
                warm_ms.append(ms)
            warm_cpu += server.cpu() - c0
        gzip_ms: list[float] = []
        c0 = server.cpu()
        for _ in range(warm * cold):
            status, wire, ms = await client.get(path, gzip=True)
            _check(status, wire, path)
            gzip_ms.append(ms)
        gzip_cpu = server.cpu() - c0
        data = orjson.loads(body)
        result.endpoints[path] = {
            "cold_ms_median": _median(cold_ms), "cold_ms_max": max(cold_ms, default=0.0),
            "warm_ms_median": _median(warm_ms),
            "warm_ms_p99": sorted(warm_ms)[int(len(warm_ms) * 0.99)] if warm_ms else 0.0,
            "cold_server_cpu_ms": cold_cpu * 1000 / max(1, len(cold_ms)),
            "warm_server_cpu_ms": warm_cpu * 1000 / max(1, len(warm_ms)),
            "warm_gzip_ms_median": _median(gzip_ms),
            "warm_gzip_server_cpu_ms": gzip_cpu * 1000 / max(1, len(gzip_ms)),
            "bytes": len(body),
            # what the server sent (below 1 KiB it sends the body as is)
            "gzip_bytes": len(wire) if gzip_ms else len(gzip.compress(body, 6)),
            "providers": len(data["providers"]),
            "models": sum(len(p["models"]) for p in data["providers"]),
            "samples_cold": len(cold_ms), "samples_warm": len(warm_ms),
        }


async def measure_registry(url: str, providers: int, reps: int, result: CatalogResult) -> None:
    """``build_registry`` and ``resolve`` in this process, against the seeded database."""
    from switchboard.db import Database
    from switchboard.services.registry_source import build_registry, load_registry

    db = Database.from_url(url)
    try:
        builds = []
        for _ in range(reps):
            started = time.perf_counter()
            registry = await build_registry(db)
            builds.append((time.perf_counter() - started) * 1000)
        await load_registry(db)  # fill the cache
        started = time.perf_counter()
        for _ in range(1000):
            await load_registry(db)
        cached_us = (time.perf_counter() - started) * 1000
        last = providers - 1
        refs = {
            "explicit": f"{provider_name(last)}:{model_id(last, 0)}",
            "bare": model_id(last, 0),  # found by scanning every provider's models
            "default": None,
        }
        result.registry = {"build_ms_median": _median(builds),
                           "build_ms_min": min(builds, default=0.0),
                           "load_cached_us": cached_us,
                           "instances": float(len(registry.instances()))}
        for name, ref in refs.items():
            registry.resolve(ref)  # builds the provider once
            n = 2000
            started = time.perf_counter()
            for _ in range(n):
                registry.resolve(ref)
            result.registry[f"resolve_{name}_us"] = (time.perf_counter() - started) * 1e6 / n
    finally:
        await db.dispose()


async def run_catalog(url: str, workdir: Path, *, providers: int, models: int, cold: int,
                      warm: int, server_cpus: set[int] | None, say: Any) -> CatalogResult:
    result = CatalogResult(providers, models)
    say(f"· seeding {providers} providers and {models} models through the catalog services")
    await seed(url, providers, models, result)
    say(f"  {result.seed_providers_s:.1f} s providers, {result.seed_models_s:.1f} s models")
    token = await make_admin(url)
    say("· registry build and resolve, in process")
    await measure_registry(url, providers, 5, result)
    port = free_port()
    log = workdir / "serve.log"
    server = start_server(server_env(workdir, url), port, log, cpus=server_cpus)
    try:
        result.server_ready_s = await wait_ready(port, token, server, log)
        client = Client(port, token)
        try:
            status, body, _ = await client.get("/api/models")
            _check(status, body, "/api/models")
            first = orjson.loads(body)["providers"]
            provider = next(p for p in first if p["name"] == provider_name(0))
            say(f"· /api/model-registry and /api/models: {cold} cold x {warm} warm")
            await measure_endpoints(client, server, provider["id"], cold, warm, result)
            await measure_model_write(client, provider["models"][0]["id"], 3, result)
        finally:
            client.close()
    finally:
        server.stop()
    return result
