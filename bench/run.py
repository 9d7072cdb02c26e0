"""One benchmark run: mock + server processes, the scenarios, the measurements.

Layout on a 2-core machine: the mock upstream and the load generator (this process) on
core 0, ``switchboard serve`` on core 1, so the server never competes with the client or
the mock for its core and its CPU time per request is its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load import LoadResult, Target, chat_body, one_request, percentile, run_load
from bench.machine import reference_ms
from bench.procs import Proc, spawn
from bench.scenarios import Scenario

IDLE_AFTER_S = 2.5
"""Idle RSS is read this long after the first answer: past the start's delayed work (the
MCP warm-up begins 2 s after the start, ``services.mcp.manager.WARM_AFTER_S``), so the
figure is what a settled server holds, not a snapshot taken before it settles."""

ROOT = Path(__file__).resolve().parent.parent
MODEL = "openai:gpt-4o-mini"
BENCH_KEY = "sk-bench-0000000000000000000000000000"


@dataclass
class Options:
    scenarios: list[Scenario]
    chunks: int = 20
    warmup: int = 100
    workers: int = 1
    database_url: str | None = None  # PostgreSQL admin URL; a temp database is made in it
    redis_url: str | None = None
    mock_cpus: set[int] | None = None
    server_cpus: set[int] | None = None
    log_level: str = "warning"
    keep: bool = False
    profile: Path | None = None  # py-spy collapsed stacks of the server under load
    server_env: dict[str, str] = field(default_factory=dict)  # extra env for the server
    limits: bool = False
    budgets: bool = False
    compile: bool = True  # bytecode for the server's sources first (``compile_bytecode``)
    """A hard budget on the benchmark's user and token (never reached): every call pays a
    reservation before it starts and a settlement after (``bench.prepare``)."""
    """Rate limits on, set so high that no call is refused: every call pays the limiter
    (in Redis with ``redis_url``) without the load being shaped by refusals."""


@dataclass
class Measured:
    scenario: Scenario
    direct: LoadResult
    through: LoadResult
    server_cpu_s: float
    mock_cpu_direct_s: float
    mock_cpu_through_s: float

    def row(self) -> dict[str, Any]:
        d, t = self.direct, self.through
        n = len(t.latencies_ms) or 1
        out: dict[str, Any] = {
            "scenario": self.scenario.name, "stream": self.scenario.stream,
            "concurrency": self.scenario.concurrency, "requests": self.scenario.requests,
            "direct_rps": d.throughput, "through_rps": t.throughput,
            "direct_p50_ms": percentile(d.latencies_ms, 50),
            "direct_p99_ms": percentile(d.latencies_ms, 99),
            "through_p50_ms": percentile(t.latencies_ms, 50),
            "through_p99_ms": percentile(t.latencies_ms, 99),
            "server_cpu_ms_per_request": self.server_cpu_s * 1000 / n,
            "mock_cpu_ms_per_request_direct": self.mock_cpu_direct_s * 1000 / max(
                1, len(d.latencies_ms)),
            "mock_cpu_ms_per_request_through": self.mock_cpu_through_s * 1000 / n,
            "errors": d.errors + t.errors,
            "first_error": d.first_error or t.first_error,
        }
        out["added_p50_ms"] = out["through_p50_ms"] - out["direct_p50_ms"]
        out["added_p99_ms"] = out["through_p99_ms"] - out["direct_p99_ms"]
        if self.scenario.stream:
            out["direct_ttft_p50_ms"] = percentile(d.ttft_ms, 50)
            out["through_ttft_p50_ms"] = percentile(t.ttft_ms, 50)
            out["added_ttft_p50_ms"] = out["through_ttft_p50_ms"] - out["direct_ttft_p50_ms"]
        return out


@dataclass
class RunResult:
    options: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    import_switchboard_s: float = 0.0
    import_app_s: float = 0.0
    startup_s: float = 0.0
    startup_cpu_s: float = 0.0
    """The server's own CPU time (utime + stime) from spawn to the first answer: on a
    shared machine the wall-clock start-up is mostly waiting for a core, this is not."""
    rss_idle_mb: float = 0.0
    rss_after_mb: float = 0.0
    usage_rows: int | None = None
    usage_expected: int = 0
    reference_ms: float = 0.0
    """This machine's time for ``bench.machine``'s fixed work, on the server's core: the
    divisor that makes CPU figures of different machines comparable."""


BENCH_LIMITS = {"SWITCHBOARD_RATE_LIMITS": "on", "SWITCHBOARD_RATE_LIMITS_USER":
                "rpm=2000000000,tpm=2000000000,concurrent=1000000"}


def compile_bytecode(paths: list[str]) -> None:
    """Write the bytecode of the Python sources under ``paths`` (``__pycache__``, which git
    ignores), as an installed package has it (pip compiles at install).

    Without it, a checkout run with ``PYTHONDONTWRITEBYTECODE`` set (development
    containers often set it) compiles all of Switchboard's ~250 modules from source at
    every start, and the start-up figure measures the compiler rather than the server;
    ``--source`` measures that case on purpose."""
    existing = [p for p in paths if p and Path(p).is_dir()]
    if existing:
        subprocess.run([sys.executable, "-m", "compileall", "-q", *existing],
                       capture_output=True, check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def import_time(module: str, cpus: set[int] | None, env: dict[str, str],
                repeat: int = 5) -> float:
    """Best of ``repeat`` fresh interpreters: seconds to ``import module``."""
    code = (f"import time; t = time.perf_counter(); import {module}; "
            "print(time.perf_counter() - t)")
    best = float("inf")
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             check=True, preexec_fn=(lambda: os.sched_setaffinity(0, cpus))
                             if cpus else None)
        best = min(best, float(out.stdout))
    return best


async def wait_port(port: int, proc: Proc, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise SystemExit(f"{proc.name} exited with {proc.popen.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.005)
    raise SystemExit(f"{proc.name} did not listen on {port} within {limit}s")


async def first_success(target: Target, body: bytes, proc: Proc, log: Path,
                        limit: float = 60.0) -> None:
    """Poll until one real, authenticated chat completion succeeds."""
    deadline = time.monotonic() + limit
    last = ""
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            tail = log.read_bytes()[-3000:].decode(errors="replace")  # noqa: ASYNC240
            raise SystemExit(f"switchboard serve exited ({proc.popen.returncode}); "
                             f"see {log}:\n{tail}")
        try:
            status, data = await one_request(target, body)
            if status == 200:
                return
            last = f"HTTP {status}: {data[:300]!r}"
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as exc:
            last = repr(exc)
        await asyncio.sleep(0.002)
    raise SystemExit(f"no successful request within {limit}s (last: {last}); see {log}")


def make_pg_database(admin_url: str) -> tuple[str, str]:
    """A fresh database for this run: (its URL, its name)."""
    import asyncpg  # type: ignore[import-untyped]

    name = f"sb_bench_{os.getpid()}_{int(time.time())}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def drop_pg_database(admin_url: str, name: str) -> None:
    import asyncpg

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url.replace("+asyncpg", ""))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def count_usage(env: dict[str, str]) -> int:
    code = ("import asyncio, sqlalchemy as sa\n"
            "from switchboard.db import Database\n"
            "async def main():\n"
            "    db = Database.from_settings()\n"
            "    async with db.session() as s:\n"
            "        print(await s.scalar(sa.text('SELECT count(*) FROM usage_events')))\n"
            "    await db.dispose()\n"
            "asyncio.run(main())\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         check=True, cwd=ROOT)
    return int(out.stdout)


def run(options: Options, say: Any = print) -> RunResult:
    """The whole run; returns the measurements (the caller prints and saves them)."""
    result = RunResult(options={
        "chunks": options.chunks, "warmup": options.warmup, "workers": options.workers,
        "database": "postgresql" if options.database_url else "sqlite",
        "redis": bool(options.redis_url), "mock_cpus": sorted(options.mock_cpus or []),
        "server_cpus": sorted(options.server_cpus or []), "log_level": options.log_level,
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
        "server_env": options.server_env, "limits": options.limits,
        "budgets": options.budgets,
    })
    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-"))
    mock_port, server_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHBOARD_", "OPENAI_", "ANTHROPIC_", "MISTRAL_",
                                "GEMINI_", "GOOGLE_"))}
    env.update({
        "SWITCHBOARD_DATA_DIR": str(tmp / "data"),
        "OPENAI_API_KEY": BENCH_KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1",
        "PYTHONPATH": str(ROOT),
        # thousands of calls a minute from one user: off, unless measured (``--limits``)
        **(BENCH_LIMITS if options.limits else {"SWITCHBOARD_RATE_LIMITS": "off"}),
        **({"BENCH_BUDGETS": "1"} if options.budgets else {}),
    })
    pg_name: str | None = None
    if options.database_url:
        env["SWITCHBOARD_DATABASE_URL"], pg_name = make_pg_database(options.database_url)
    if options.redis_url:
        env["SWITCHBOARD_REDIS_URL"] = options.redis_url
    env.update(options.server_env)
    if options.compile:
        compile_bytecode([str(ROOT / "src"), *env.get("PYTHONPATH", "").split(":")])
    log = tmp / "processes.log"
    procs: list[Proc] = []
    if options.mock_cpus:  # the load generator shares the mock's core
        os.sched_setaffinity(0, options.mock_cpus)
    try:
        say("· measuring import times")
        result.import_switchboard_s = import_time("switchboard", options.server_cpus, env)
        result.import_app_s = import_time("switchboard.api.app", options.server_cpus, env)
        result.reference_ms = reference_ms(options.server_cpus)
        say("· preparing the database (schema, seed, user, API token)")
        prep = subprocess.run([sys.executable, "-m", "bench.prepare"], env=env, cwd=ROOT,
                              capture_output=True, check=False)
        if prep.returncode:
            raise SystemExit(f"preparing the database failed:\n{prep.stderr.decode()}")
        token = json.loads(prep.stdout.decode().strip().splitlines()[-1])["token"]
        mock = spawn("mock", ["-m", "bench.mock_upstream", "--port", str(mock_port),
                              "--chunks", str(options.chunks)],
                     cpus=options.mock_cpus, env=env, log=log)
        procs.append(mock)
        asyncio.run(wait_port(mock_port, mock))
        direct = Target("127.0.0.1", mock_port, "/v1/chat/completions", BENCH_KEY)
        through = Target("127.0.0.1", server_port, "/v1/chat/completions", token)
        say("· starting switchboard serve")
        started = time.perf_counter()
        server = spawn("switchboard", [
            "-m", "switchboard.cli.main", "serve", "--port", str(server_port),
            "--workers", str(options.workers), "--log-level", options.log_level],
            cpus=options.server_cpus, env=env, log=log)
        procs.append(server)
        # each worker migrates nothing but imports everything: give a loaded machine time
        asyncio.run(first_success(through, chat_body(MODEL, False), server, log,
                                  limit=60.0 * max(options.workers, 1)))
        result.startup_s = time.perf_counter() - started
        result.startup_cpu_s = server.cpu()
        time.sleep(IDLE_AFTER_S)
        result.rss_idle_mb = server.rss() / 2**20
        profiler = _profiler(options.profile, server) if options.profile else None
        result.rows = [m.row() for m in asyncio.run(
            _scenarios(options, direct, through, server, mock, say))]
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)
            profiler.wait(30)
            say(f"· profile: {options.profile}")
        result.rss_after_mb = server.rss() / 2**20
        result.usage_expected = 1 + sum(
            s.requests + min(options.warmup, s.requests) for s in options.scenarios)
        server.stop()  # graceful: flushes the usage buffer
        procs.remove(server)
        result.usage_rows = count_usage(env)
    finally:
        for proc in procs:
            proc.stop()
        if pg_name and options.database_url and not options.keep:
            drop_pg_database(options.database_url, pg_name)
        if options.keep:
            say(f"· kept {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return result


def _profiler(path: Path, server: Proc) -> subprocess.Popen[bytes]:
    """py-spy sampling the server (and its workers) while the scenarios run.

    Blocking sampling (py-spy pauses the process for each sample): with ``--nonblocking``
    the stacks were torn — suspended coroutines showed as busy — which misled a profile
    (docs/performance.md, issue 12's figures). A profiled run's CPU figures are therefore
    not comparable with an unprofiled one's."""
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(server.pid), "--subprocesses",
                             "--rate", "500", "--format", "raw",
                             "-o", str(path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def _scenarios(options: Options, direct: Target, through: Target, server: Proc,
                     mock: Proc, say: Any) -> list[Measured]:
    out: list[Measured] = []
    for s in options.scenarios:
        body_direct = chat_body(MODEL.split(":", 1)[1], s.stream)
        body_through = chat_body(MODEL, s.stream)
        warm = min(options.warmup, s.requests)
        say(f"· {s.name}: {s.requests} requests at concurrency {s.concurrency}")
        await run_load(direct, body_direct, warm, s.concurrency, s.stream)
        m0 = mock.cpu()
        d = await run_load(direct, body_direct, s.requests, s.concurrency, s.stream)
        m1 = mock.cpu()
        await run_load(through, body_through, warm, s.concurrency, s.stream)
        c0, m2 = server.cpu(), mock.cpu()
        t = await run_load(through, body_through, s.requests, s.concurrency, s.stream)
        await asyncio.sleep(0.6)  # let the usage recorder's batch flush land in the window
        c1, m3 = server.cpu(), mock.cpu()
        out.append(Measured(s, d, t, c1 - c0, m1 - m0, m3 - m2))
    return out
