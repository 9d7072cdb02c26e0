"""Scale checks: ``python -m bench.scale_check [--postgres URL] [--usage-rows N]``.

1. Catalog: 200 providers x 25 models (5,000) added to a fresh database, then a real
   ``switchboard serve`` answers ``GET /api/model-registry`` (the model selector),
   ``GET /api/models`` and ``GET /v1/models``: the first (cold, builds the snapshot) and
   the steady-state latency, and the server's CPU per request.
2. Usage (with ``--postgres``): ``--usage-rows`` rows (default 1,000,000) in
   ``usage_events`` of a temporary PostgreSQL database, then ``EXPLAIN ANALYZE`` of the
   usage report's aggregate (every user, and one user) and of a user's latest events.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import Target, chat_body, percentile
from bench.procs import spawn
from bench.run import (
    BENCH_KEY,
    ROOT,
    drop_pg_database,
    first_success,
    free_port,
    make_pg_database,
)

PROVIDERS, MODELS_PER = 200, 25

FILL = """
import asyncio, sys
from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db import models as m

async def main(providers, per):
    db = Database.from_url(load_settings().database_url, pooled=False)
    async with db.unit_of_work() as s:
        for p in range(providers):
            row = m.Provider(name=f"scale-{p:03d}", kind="openai_compatible", enabled=True,
                             base_url=f"http://127.0.0.1:9/v{p}", settings={})
            s.add(row)
            await s.flush()
            s.add_all(m.ProviderModel(provider_id=row.id, model_sdk_id=f"model-{p}-{i}",
                                      name=f"Model {p}/{i}", is_enabled=True,
                                      is_default=False, capabilities={"streaming": True},
                                      context_window=128000)
                      for i in range(per))
    await db.dispose()

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
"""


async def _get(target: Target, path: str) -> tuple[int, float, int]:
    reader, writer = await asyncio.open_connection(target.host, target.port)
    try:
        started = time.perf_counter()
        writer.write((f"GET {path} HTTP/1.1\r\nhost: x\r\n"
                      f"authorization: Bearer {target.token}\r\n\r\n").encode())
        from bench.load import read_response

        status, body, _ = await read_response(reader, started)
        return status, (time.perf_counter() - started) * 1000, len(body)
    finally:
        writer.close()


def catalog_scale(database_url: str | None, requests: int, say: Any) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="sb-scale-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({"SWITCHBOARD_DATA_DIR": str(tmp / "data"), "OPENAI_API_KEY": BENCH_KEY,
                "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "PYTHONPATH": str(ROOT),
                "SWITCHBOARD_RATE_LIMITS": "off"})
    pg_name = None
    if database_url:
        env["SWITCHBOARD_DATABASE_URL"], pg_name = make_pg_database(database_url)
    out: dict[str, Any] = {"providers": PROVIDERS, "models": PROVIDERS * MODELS_PER,
                           "database": "postgresql" if database_url else "sqlite"}
    server = None
    try:
        prep = subprocess.run([sys.executable, "-m", "bench.prepare"], env=env, cwd=ROOT,
                              capture_output=True, check=True)
        token = json.loads(prep.stdout.decode().strip().splitlines()[-1])["token"]
        say(f"· adding {PROVIDERS} providers x {MODELS_PER} models")
        subprocess.run([sys.executable, "-c", FILL, str(PROVIDERS), str(MODELS_PER)],
                       env=env, cwd=ROOT, check=True)
        server = spawn("switchboard", ["-m", "switchboard.cli.main", "serve", "--port",
                                       str(port), "--log-level", "warning"],
                       cpus=None, env=env, log=tmp / "server.log")
        target = Target("127.0.0.1", port, token=token)
        started = time.perf_counter()
        asyncio.run(first_success(Target("127.0.0.1", port, token=token),
                                  chat_body("offline:offline-chat", False), server,
                                  tmp / "server.log"))
        out["startup_s"] = time.perf_counter() - started
        for path in ("/api/model-registry", "/api/models", "/v1/models"):
            status, cold, size = asyncio.run(_get(target, path))
            if status != 200:
                raise SystemExit(f"GET {path}: HTTP {status}")
            cpu0 = server.cpu()
            times = [asyncio.run(_get(target, path))[1] for _ in range(requests)]
            cpu = (server.cpu() - cpu0) * 1000 / requests
            out[path] = {"first_ms": cold, "p50_ms": percentile(times, 50),
                         "p99_ms": percentile(times, 99), "server_cpu_ms": cpu,
                         "bytes": size}
            say(f"· {path}: first {cold:.1f} ms, p50 {percentile(times, 50):.1f} ms, "
                f"cpu {cpu:.2f} ms/request, {size / 1024:.0f} KiB")
        out["rss_mb"] = server.rss() / 2**20
    finally:
        if server is not None:
            server.stop()
        if pg_name and database_url:
            drop_pg_database(database_url, pg_name)
    return out


USAGE_FILL = """
INSERT INTO usage_events (created_at, user_id, provider, model, source, status,
    input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens,
    cost, latency_ms, ttft_ms)
SELECT now() - (g % 525600) * interval '1 minute',
       CASE WHEN g % 10 = 0 THEN NULL ELSE 1 + g % 50 END,
       'provider-' || (g % 8), 'model-' || (g % 40),
       (ARRAY['api','chat','cli'])[1 + g % 3], CASE WHEN g % 50 = 0 THEN 'error' ELSE 'ok' END,
       100 + g % 900, 50 + g % 500, g % 100, 0, 0, (g % 1000) / 100000.0, 200 + g % 3000,
       50 + g % 500
FROM generate_series(1, $1) AS g
"""

QUERIES = {
    "report, everyone, 30 days": """
SELECT to_char(timezone('UTC', created_at), 'YYYY-MM-DD') AS day, provider, model, source,
       count(*), sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END), sum(input_tokens),
       sum(output_tokens), sum(cached_tokens), sum(reasoning_tokens), sum(cost),
       sum(latency_ms), count(latency_ms)
FROM usage_events WHERE created_at >= now() - interval '30 days' AND created_at < now()
GROUP BY 1, provider, model, source""",
    "report, one user, 30 days": """
SELECT to_char(timezone('UTC', created_at), 'YYYY-MM-DD') AS day, provider, model, source,
       count(*), sum(input_tokens), sum(output_tokens), sum(cost)
FROM usage_events WHERE created_at >= now() - interval '30 days' AND created_at < now()
  AND user_id = 7
GROUP BY 1, provider, model, source""",
    "latest 50 events of a user": """
SELECT * FROM usage_events WHERE user_id = 7 ORDER BY created_at DESC LIMIT 50""",
}


def usage_scale(database_url: str, rows: int, say: Any) -> dict[str, Any]:
    import asyncpg  # type: ignore[import-untyped]

    url, name = make_pg_database(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update({"SWITCHBOARD_DATABASE_URL": url, "PYTHONPATH": str(ROOT)})
    out: dict[str, Any] = {"rows": rows, "queries": {}}
    try:
        subprocess.run([sys.executable, "-c", "import asyncio; from switchboard.db.migrate "
                        "import ensure_schema; asyncio.run(ensure_schema())"],
                       env=env, cwd=ROOT, check=True)

        async def go() -> None:
            conn = await asyncpg.connect(url.replace("+asyncpg", ""))
            try:
                say(f"· inserting {rows:,} usage events")
                await conn.execute("INSERT INTO users (username, password_hash, role) "
                                   "SELECT 'u' || g, 'x', 'user' FROM generate_series(1, 50) g")
                started = time.perf_counter()
                await conn.execute(USAGE_FILL, rows)
                await conn.execute("ANALYZE usage_events")
                out["fill_s"] = time.perf_counter() - started
                for label, sql in QUERIES.items():
                    await conn.fetch(sql)  # warm the cache
                    plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    text = "\n".join(r[0] for r in plan)
                    out["queries"][label] = text
                    say(f"· {label}: {text.splitlines()[-1].strip()}")
            finally:
                await conn.close()

        asyncio.run(go())
    finally:
        drop_pg_database(database_url, name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", metavar="URL", default=None)
    parser.add_argument("--usage-rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--skip-catalog", action="store_true")
    args = parser.parse_args()

    def say(m: str) -> None:
        print(m, flush=True)

    result: dict[str, Any] = {}
    if not args.skip_catalog:
        result["catalog"] = catalog_scale(args.postgres, args.requests, say)
    if args.postgres:
        result["usage"] = usage_scale(args.postgres, args.usage_rows, say)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(__file__).resolve().parent / "results" / f"scale-{stamp}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"results: {path}")


if __name__ == "__main__":
    main()
