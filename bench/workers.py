"""``python -m bench.workers``: ``switchboard serve --workers N`` on PostgreSQL + Redis.

1. Throughput: for each N (default 1, 2, 4), a fresh ``switchboard serve --workers N``
   against the benchmark's mock upstream (``bench.mock_upstream``, OpenAI wire format);
   a fixed number of non-streaming ``/v1/chat/completions`` at a fixed concurrency with a
   real API token, routing and usage accounting. Reported: requests/s, p50/p99, the CPU
   seconds per request of the server tree, the mock and this client (from ``/proc`` and
   ``time.process_time``), how the kernel spread the client's connections over the
   workers, and a check that every call left exactly one ``usage_events`` row.
   Nothing is pinned: with N workers on a 2-core machine the workers, the mock and the
   load generator share both cores, so the numbers show where the machine saturates.
2. Cross-process invalidation (``--workers 2``): two keep-alive connections known to be
   served by *different* workers (a connection's server-side socket is found in
   ``/proc/net/tcp`` and its inode in the workers' ``/proc/<pid>/fd``). A provider is
   disabled / re-enabled with ``PUT /api/config/providers/{id}`` on one; the other is
   polled (``GET /api/models`` and a ``/v1`` call routed to that provider) until it shows
   the change. Reported: the delay after the PUT's response and how many stale answers the
   other worker gave meanwhile. The same is then done without Redis (audit-stamp probe).

All processes share one ``SWITCHBOARD_SECRET_KEY``; the probe provider's API key is stored
encrypted in the database, so every worker must decrypt it with that key.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from bench.load import Target, chat_body, one_request, percentile, run_load
from bench.procs import Proc, children, spawn
from bench.scale_catalog import Client
from bench.scale_db import (
    DEFAULT_POSTGRES,
    free_port,
    make_admin,
    server_env,
    start_server,
    tail,
    temp_database,
    workdir,
)

RESULTS = Path(__file__).resolve().parent / "results"
MODEL = "openai:gpt-4o-mini"
PROBE = "probe"
PROBE_MODEL = f"{PROBE}:gpt-4o-mini"
KEY = "sk-bench-0000000000000000000000000000"


async def prepare(url: str, mock_port: int, secret: str) -> tuple[str, int]:
    """Seed, enable ``openai`` (its key comes from ``OPENAI_API_KEY`` in the servers'
    environment), add the probe provider with a stored key; returns (admin token, probe
    provider id)."""
    from switchboard.db import Database
    from switchboard.security.masterkey import parse_keyring
    from switchboard.security.vault import Vault
    from switchboard.services.keys import set_provider_key
    from switchboard.services.provider_models import create_model
    from switchboard.services.providers import create_provider, update_provider
    from switchboard.services.seed import seed_catalog

    db = Database.from_url(url, pooled=False)
    try:
        await seed_catalog(db)
        await update_provider(db, "openai", enabled=True)
        probe = await create_provider(db, name=PROBE, kind="openai_compatible",
                                      base_url=f"http://127.0.0.1:{mock_port}/v1")
        await create_model(db, PROBE, "gpt-4o-mini")
        vault = Vault(parse_keyring(secret, "SWITCHBOARD_SECRET_KEY"))  # the servers' key
        await set_provider_key(db, PROBE, KEY, vault=vault)
    finally:
        await db.dispose()
    return await make_admin(url), probe.id


# -- which worker serves a connection --------------------------------------------------

def _hexport(port: int) -> str:
    return f"{port:04X}"


def server_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server-side socket of the connection from ``client_port``."""
    want_local, want_remote = _hexport(server_port), _hexport(client_port)
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if local == want_local and remote == want_remote:
            return fields[9]
    return None


def owner_of(inode: str, pids: list[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            for fd in fd_dir.iterdir():
                try:
                    if os.readlink(fd) == target:
                        return pid
                except OSError:
                    continue
        except OSError:
            continue
    return None


async def worker_of(client: Client, server: Proc) -> int | None:
    """Make sure ``client`` is connected (one request), then find its worker's pid."""
    status, body, _ = await client.get("/api/me")
    if status != 200:
        raise SystemExit(f"GET /api/me: HTTP {status}: {body[:200]!r}")
    assert client.writer is not None
    local_port = client.writer.get_extra_info("sockname")[1]
    port = client.port
    for _ in range(50):  # /proc/net/tcp may lag an instant behind accept()
        inode = server_inode(port, local_port)
        if inode is not None:
            return owner_of(inode, server.tree())
        await asyncio.sleep(0.01)
    return None


async def spread(port: int, token: str, server: Proc, n: int) -> dict[int, int]:
    """How the kernel spreads ``n`` new connections over the workers (pid -> count)."""
    clients = [Client(port, token) for _ in range(n)]
    counts: dict[int, int] = {}
    try:
        for c in clients:
            pid = await worker_of(c, server)
            if pid is not None:
                counts[pid] = counts.get(pid, 0) + 1
    finally:
        for c in clients:
            c.close()
    return counts


# -- throughput --------------------------------------------------------------------------

async def wait_workers(server: Proc, n: int, through: Target, log: Path) -> int:
    """Until the first /v1 call succeeds and ``n`` workers exist; returns the calls made."""
    calls = 0
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.popen.poll() is not None:
            raise SystemExit(f"serve exited; see {log}:\n{tail(log)}")
        try:
            status, _ = await one_request(through, chat_body(MODEL, False))
            calls += status == 200
            if status == 200 and (n == 1 or len(children(server.pid)) >= n):
                return calls
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        await asyncio.sleep(0.05)
    raise SystemExit(f"{n} workers not ready in time; see {log}")


async def count_usage(url: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM usage_events"))
    finally:
        await conn.close()


async def throughput(n: int, env: dict[str, str], url: str, token: str, mock: Proc,
                     args: argparse.Namespace, tmp: Path, say: Any) -> dict[str, Any]:
    port = free_port()
    log = tmp / f"serve-{n}.log"
    before = await count_usage(url)
    server = start_server(env, port, log, workers=n)
    through = Target("127.0.0.1", port, "/v1/chat/completions", token)
    body = chat_body(MODEL, False)
    try:
        calls = await wait_workers(server, n, through, log)
        started_pids = set(server.tree())
        warm = await run_load(through, body, args.warmup, args.concurrency)
        calls += len(warm.latencies_ms)
        connections = await spread(port, token, server, args.concurrency)
        say(f"· {n} worker(s): {args.requests} requests at concurrency {args.concurrency}")
        s0, m0, c0 = server.cpu(), mock.cpu(), time.process_time()
        result = await run_load(through, body, args.requests, args.concurrency)
        s1, m1, c1 = server.cpu(), mock.cpu(), time.process_time()
        calls += len(result.latencies_ms)
        rss_mb = server.rss() / 2**20
        pids = set(server.tree())
    finally:
        stop_s = await stop_tree(server)  # graceful: every worker flushes its usage buffer
    done = len(result.latencies_ms) or 1
    rows = await count_usage(url) - before
    return {
        "workers": n, "requests": args.requests, "concurrency": args.concurrency,
        "rps": result.throughput, "p50_ms": percentile(result.latencies_ms, 50),
        "p99_ms": percentile(result.latencies_ms, 99), "errors": result.errors,
        "first_error": result.first_error,
        "server_cpu_ms_per_req": (s1 - s0) * 1000 / done,
        "mock_cpu_ms_per_req": (m1 - m0) * 1000 / done,
        "client_cpu_ms_per_req": (c1 - c0) * 1000 / done,
        "rss_mb_all_processes": rss_mb,
        "connections_per_worker": sorted(connections.values(), reverse=True),
        "usage_rows": rows, "usage_expected": calls,
        # A worker that misses uvicorn's health check (timeout_worker_healthcheck) is
        # SIGKILLed and replaced: its in-flight requests and unflushed usage are lost.
        "workers_replaced": len(started_pids - pids), "stop_s": stop_s,
        "supervisor_exit": server.popen.returncode,
    }


def _alive(pids: list[int]) -> bool:
    return any(os.path.exists(f"/proc/{pid}") for pid in pids)


async def stop_tree(server: Proc, limit_s: float = 30.0) -> float:
    """Stop the server and wait until every process of its tree has exited (a worker
    outliving a killed supervisor would still be flushing usage when we count)."""
    pids = server.tree()
    started = time.perf_counter()
    server.stop()
    while _alive(pids):
        if time.perf_counter() - started > limit_s:
            break
        await asyncio.sleep(0.05)
    return time.perf_counter() - started


# -- invalidation ------------------------------------------------------------------------

async def two_workers(port: int, token: str, server: Proc) -> tuple[Client, Client]:
    """Two connections served by different workers."""
    first = Client(port, token)
    pid = await worker_of(first, server)
    for _ in range(200):
        other = Client(port, token)
        if (p := await worker_of(other, server)) is not None and p != pid:
            return first, other
        other.close()
    raise SystemExit("could not get connections on two different workers")


async def _state(client: Client, probe_id: int) -> tuple[bool, bool]:
    """(enabled as /api/models shows it, a /v1 call to the probe succeeds)."""
    status, body, _ = await client.get("/api/models")
    listed = next(p for p in orjson.loads(body)["providers"] if p["id"] == probe_id)
    raw = chat_body(PROBE_MODEL, False)
    head = (f"POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1:{client.port}\r\n"
            f"authorization: Bearer {client.token}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(raw)}\r\n\r\n").encode()
    status, _, _ = await client.request(head + raw)
    return bool(listed["enabled"]), status == 200


async def invalidation(port: int, token: str, server: Proc, probe_id: int, trials: int,
                       limit_s: float) -> dict[str, Any]:
    a, b = await two_workers(port, token, server)
    delays_ms: list[float] = []
    stale: list[int] = []
    enabled = True
    try:
        for trial in range(trials):
            writer, reader = (a, b) if trial % 2 == 0 else (b, a)
            if await _state(reader, probe_id) != (enabled, enabled):  # warm, and check
                raise SystemExit("the reader does not see the current state before a write")
            enabled = not enabled
            status, body, _ = await writer.put_json(
                f"/api/config/providers/{probe_id}", {"enabled": enabled})
            if status != 200:
                raise SystemExit(f"PUT provider: HTTP {status}: {body[:200]!r}")
            written = time.perf_counter()
            n_stale = 0
            while await _state(reader, probe_id) != (enabled, enabled):
                n_stale += 1
                if time.perf_counter() - written > limit_s:
                    raise SystemExit(f"the other worker did not see the change in {limit_s}s")
            delays_ms.append((time.perf_counter() - written) * 1000)
            stale.append(n_stale)
    finally:
        a.close()
        b.close()
    return {"trials": trials, "delay_ms_median": statistics.median(delays_ms),
            "delay_ms_max": max(delays_ms), "stale_reads_total": sum(stale),
            "stale_reads_max": max(stale), "delays_ms": delays_ms}


async def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    tmp = workdir()
    secret = "k1:" + base64.b64encode(os.urandom(32)).decode()
    redis_url = args.redis or f"redis://127.0.0.1:6379/{random.randrange(1, 16)}"
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                       "python": sys.version.split()[0]},
                           "args": vars(args) | {"redis": redis_url}, "throughput": []}
    mock_port = free_port()
    mock = spawn("mock", ["-m", "bench.mock_upstream", "--port", str(mock_port)],
                 cpus=None, env=server_env(tmp, ""), log=tmp / "mock.log")
    try:
        async with temp_database(args.postgres, tmp) as url:
            token, probe_id = await prepare(url, mock_port, secret)
            env = server_env(tmp, url, {
                "SWITCHBOARD_REDIS_URL": redis_url, "SWITCHBOARD_SECRET_KEY": secret,
                "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1"})
            for n in args.workers:
                out["throughput"].append(
                    await throughput(n, env, url, token, mock, args, tmp, say))
            for label, extra, trials in (
                    ("redis", {}, args.trials),
                    ("no_redis", {"SWITCHBOARD_REDIS_URL": ""}, args.no_redis_trials)):
                if trials:
                    say(f"· invalidation across 2 workers ({label}): {trials} changes")
                    port = free_port()
                    log = tmp / f"serve-inval-{label}.log"
                    server = start_server({**env, **extra}, port, log, workers=2)
                    try:
                        await wait_workers(server, 2, Target("127.0.0.1", port,
                                           "/v1/chat/completions", token), log)
                        out[f"invalidation_{label}"] = await invalidation(
                            port, token, server, probe_id, trials, limit_s=30.0)
                    finally:
                        server.stop()
    finally:
        mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def table(out: dict[str, Any]) -> str:
    lines = [f"{'workers':>7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'srv cpu':>8} "
             f"{'mock cpu':>8} {'cli cpu':>8} {'conns/worker':>14} {'usage rows':>12}"]
    for r in out["throughput"]:
        lines.append(
            f"{r['workers']:7} {r['rps']:8.0f} {r['p50_ms']:7.1f} {r['p99_ms']:7.1f} "
            f"{r['server_cpu_ms_per_req']:8.2f} {r['mock_cpu_ms_per_req']:8.2f} "
            f"{r['client_cpu_ms_per_req']:8.2f} "
            f"{'/'.join(map(str, r['connections_per_worker'])):>14} "
            f"{r['usage_rows']:>5}/{r['usage_expected']:<6}"
            + (f" {r['workers_replaced']} worker(s) replaced" if r["workers_replaced"] else ""))
    for label in ("redis", "no_redis"):
        inv = out.get(f"invalidation_{label}")
        if inv:
            lines.append(f"invalidation ({label}): median {inv['delay_ms_median']:.1f} ms, "
                         f"max {inv['delay_ms_max']:.1f} ms after the PUT; stale reads "
                         f"{inv['stale_reads_total']} total over {inv['trials']} changes "
                         f"(max {inv['stale_reads_max']})")
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.workers",
                                description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--workers", default="1,2,4",
                   type=lambda s: [int(x) for x in s.split(",")])
    p.add_argument("--requests", type=int, default=5000)
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--trials", type=int, default=20, help="invalidation changes (0: skip)")
    p.add_argument("--no-redis-trials", type=int, default=3,
                   help="the same without Redis (each takes up to the 5 s probe interval)")
    p.add_argument("--postgres", default=DEFAULT_POSTGRES)
    p.add_argument("--redis", default=None,
                   help="Redis URL (default redis://127.0.0.1:6379/<random db>)")
    p.add_argument("--no-save", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = asyncio.run(run(args, say=lambda m: print(m, file=sys.stderr, flush=True)))
    print(table(out))
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / f"workers-{time.strftime('%Y%m%d-%H%M%S')}.json"
        path.write_text(json.dumps(out, indent=2, default=str))
        print(f"results: {path}")
    failed = sum(r["errors"] + abs(r["usage_rows"] - r["usage_expected"])
                 for r in out["throughput"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
