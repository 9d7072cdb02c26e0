"""The server's own CPU per ``/v1`` call, in one process, without uvicorn or sockets on
the client side: ``python -m bench.inprocess [--calls N] [--concurrency C] [--stream]``.

Why: on the shared 2-core machine the full benchmark's per-request figure moves by ±10 %
with other people's load, which hides changes of 10-30 µs. Here the ASGI application is
called directly (the same middleware stack, routing, pipeline, vendor exchange over
loopback to the mock, usage recording) and the figure is the **main thread's** CPU time
(``time.thread_time``) per call, which a loaded machine inflates far less than wall
time. The load generator's own cost (a scope, a receive and a send per call) is measured
alone and subtracted.

The environment is the benchmark's (``bench.run``): a fresh data dir, the mock upstream
in a child process, rate limits and budgets on for the caller (``--no-policies`` turns
them off). It prints one line per round and the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.load import chat_body
from bench.procs import rss_bytes, spawn
from bench.run import BENCH_KEY, BENCH_LIMITS, MODEL, ROOT, free_port, wait_port

Send = Any


def _scope(path: str, token: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1", "method": "POST", "scheme": "http", "path": path,
        "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def _call(app: Any, token: str, body: bytes) -> int:
    """One request through the ASGI app; the status (raises on a body-less answer)."""
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope("/v1/chat/completions", token, body), receive, send)
    return status


async def _null_app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _round(app: Any, token: str, body: bytes, calls: int, concurrency: int,
                 workers: set[asyncio.Task[Any]] | None = None) -> float:
    """Main-thread CPU seconds for ``calls`` calls at ``concurrency``; ``workers``, when
    given, receives the tasks that make the calls."""
    left = calls

    async def worker() -> None:
        nonlocal left
        if workers is not None:
            workers.add(asyncio.current_task())  # type: ignore[arg-type]
        while left > 0:
            left -= 1
            status = await _call(app, token, body)
            if status != 200:
                raise SystemExit(f"a call answered {status}")

    start = time.thread_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.thread_time() - start


async def _count_calls(app: Any, token: str, body: bytes, args: argparse.Namespace) -> None:
    """Function calls per request (Python and C, with ``sys.setprofile``), a figure no
    machine load moves: the interpreter's work per call is mostly calls. Prints the total
    per request and the functions called most often."""
    from collections import Counter

    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()

    def where(frame: Any) -> str:
        code = frame.f_code
        return (f"{code.co_filename.rsplit('site-packages/', 1)[-1]}:"
                f"{code.co_firstlineno}({code.co_name})")

    # Only the requests' own work: their tasks, and the event loop's callbacks outside
    # any task (the upstream connection's reads). A background task that runs in the
    # window (the usage writer's flush, a cache probe) is left out, or the figure would
    # move by ~20 calls whenever one happens to fall inside it.
    workers: set[asyncio.Task[Any]] = set()
    current_task = asyncio.current_task

    def hook(frame: Any, event: str, arg: Any) -> None:
        task = current_task()
        if task is not None and task not in workers:
            return
        if event == "call":
            counts[where(frame)] += 1
            kinds["python"] += 1
        elif event == "c_call":  # a C function, named with its Python caller
            counts[f"<C> {getattr(arg, '__qualname__', arg)} in {where(frame)}"] += 1
            kinds["c"] += 1

    calls = 500
    sys.setprofile(hook)
    try:
        await _round(app, token, body, calls, args.concurrency, workers)
    finally:
        sys.setprofile(None)
    print(f"function calls per request: {kinds['python'] / calls:.1f} Python "
          f"(a generator or coroutine resumed counts again), {kinds['c'] / calls:.1f} C; "
          "background tasks left out")
    for name, n in counts.most_common(args.count_calls):
        print(f"  {n / calls:7.2f}  {name}")


async def _lifespan(app: Any) -> tuple[asyncio.Queue[Any], asyncio.Task[None]]:
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    outbox: asyncio.Queue[Any] = asyncio.Queue()
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"},
                                    "state": {}}, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    answer = await outbox.get()
    if answer["type"] != "lifespan.startup.complete":
        raise SystemExit(f"start-up failed: {answer}")
    return inbox, task


def _write_modules(path: str) -> None:
    """The names of the modules loaded now, one a line (to diff two trees' starts)."""
    Path(path).write_text("".join(f"{m}\n" for m in sorted(sys.modules)))


async def memory(token: str, args: argparse.Namespace) -> None:
    """What the process holds after its first answer, by package: idle RSS follows the
    modules imported (their code objects) and what start-up builds."""
    import tracemalloc
    from collections import Counter

    from switchboard.api.app import create_app

    app = create_app()
    inbox, task = await _lifespan(app)
    await _round(app, token, chat_body(MODEL, False), 1, 1)
    snapshot = tracemalloc.take_snapshot()
    rss = rss_bytes(os.getpid())
    by_package: Counter[str] = Counter()
    for stat in snapshot.statistics("filename"):
        name = stat.traceback[0].filename
        if "site-packages/" in name:
            package = name.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/switchboard/" in name:
            package = "switchboard/" + name.split("/switchboard/", 1)[1].split("/", 1)[0]
        else:
            package = "stdlib/" + Path(name).stem
        by_package[package] += stat.size
    modules = Counter(m.split(".", 1)[0] for m in sys.modules)
    traced = sum(by_package.values())
    print(f"RSS {rss / 2**20:.1f} MB (tracemalloc running: it adds its own), "
          f"{len(sys.modules)} modules, {traced / 2**20:.1f} MB traced")
    for package, size in by_package.most_common(args.memory):
        print(f"  {size / 2**20:6.2f} MB  {package}")
    print("modules by top-level package:", ", ".join(
        f"{name} {n}" for name, n in modules.most_common(args.memory)))
    if args.modules:  # the full list, to diff two trees or find what a start imports
        _write_modules(args.modules)
    await inbox.put({"type": "lifespan.shutdown"})
    await task


async def rss_steps(token: str, args: argparse.Namespace) -> None:
    """Resident memory after each step of a start (no tracemalloc, which adds its own):
    where the idle RSS of ``switchboard serve`` comes from (the server also has uvicorn,
    its socket and its own first request)."""
    seen = set(sys.modules)

    def step(name: str) -> None:
        print(f"{rss_bytes(os.getpid()) / 2**20:6.1f} MB, {len(sys.modules)} modules: "
              f"{name}")
        new = set(sys.modules) - seen
        if args.modules and new:  # the names this step imported
            print("   ", " ".join(sorted(new)))
        seen.update(sys.modules)

    step("interpreter, uvloop, this harness")
    from switchboard.api.app import create_app

    step("switchboard.api.app imported")
    app = create_app()
    inbox, task = await _lifespan(app)
    step("after the lifespan")
    await _round(app, token, chat_body(MODEL, False), 1, 1)
    step("after the first answer")
    await _round(app, token, chat_body(MODEL, False), 50, 1)
    step("after 50 more")
    if args.modules:
        _write_modules(args.modules)
    await inbox.put({"type": "lifespan.shutdown"})
    await task


async def measure(token: str, args: argparse.Namespace) -> None:
    import gc

    from switchboard.api.app import create_app

    app = create_app()
    inbox, task = await _lifespan(app)
    body = chat_body(MODEL, args.stream)
    await _round(app, token, body, args.warmup, args.concurrency)
    base = await _round(_null_app, token, body, args.calls, args.concurrency)
    per_call: list[float] = []
    if args.profile:
        import cProfile

        profiler = cProfile.Profile(time.thread_time)
        profiler.enable()
        await _round(app, token, body, args.calls, args.concurrency)
        profiler.disable()
        profiler.dump_stats(args.profile)
        print(f"profile (cProfile, main-thread CPU): {args.profile}")
    if args.count_calls:
        await _count_calls(app, token, body, args)
    for n in range(args.rounds):
        gc.collect()
        cpu = await _round(app, token, body, args.calls, args.concurrency)
        per_call.append((cpu - base) / args.calls * 1e6)
        print(f"round {n + 1}: {per_call[-1]:.1f} us main-thread CPU per call")
    print(f"median {statistics.median(per_call):.1f} us per call "
          f"({'stream' if args.stream else 'JSON'}, c={args.concurrency}, "
          f"{args.calls} calls x {args.rounds}; harness {base / args.calls * 1e6:.1f} us "
          "subtracted)")
    await inbox.put({"type": "lifespan.shutdown"})
    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--no-policies", action="store_true")
    parser.add_argument("--profile", help="cProfile one more round into this file")
    parser.add_argument("--memory", type=int, default=0, metavar="TOP",
                        help="after the first answer: RSS, modules, and the TOP packages "
                             "by memory allocated (tracemalloc from the start)")
    parser.add_argument("--rss-steps", action="store_true",
                        help="resident memory after the imports, the lifespan and the first "
                             "answers (no tracemalloc)")
    parser.add_argument("--modules", metavar="FILE",
                        help="with --memory or --rss-steps: write the names of the loaded "
                             "modules here (and, with --rss-steps, print each step's)")
    parser.add_argument("--count-calls", type=int, default=0, metavar="TOP",
                        help="count function calls per request; print the TOP most called")
    args = parser.parse_args()
    if os.environ.get("BENCH_INPROCESS_CHILD") != "1":
        _parent(args)
        return
    if args.memory:
        import tracemalloc

        tracemalloc.start()
    import uvloop

    run = memory if args.memory else rss_steps if args.rss_steps else measure
    uvloop.run(run(os.environ["BENCH_TOKEN"], args))


def _parent(args: argparse.Namespace) -> None:
    """Prepare the database and start the mock, then run this module again as the child
    that measures (its environment then is exactly the server's)."""
    tmp = Path(tempfile.mkdtemp(prefix="sb-inproc-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHBOARD_", "OPENAI_", "ANTHROPIC_", "MISTRAL_",
                                "GEMINI_", "GOOGLE_"))}
    env.update({
        "SWITCHBOARD_DATA_DIR": str(tmp / "data"), "OPENAI_API_KEY": BENCH_KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1", "PYTHONPATH": str(ROOT),
        "SWITCHBOARD_GC_TUNING": "on", "SWITCHBOARD_LOG_LEVEL": "warning",
        **({"SWITCHBOARD_RATE_LIMITS": "off"} if args.no_policies
           else {**BENCH_LIMITS, "BENCH_BUDGETS": "1"}),
    })
    prep = subprocess.run([sys.executable, "-m", "bench.prepare"], env=env, cwd=ROOT,
                          capture_output=True, check=True)
    import json

    env["BENCH_TOKEN"] = json.loads(prep.stdout.decode().strip().splitlines()[-1])["token"]
    env["BENCH_INPROCESS_CHILD"] = "1"
    mock = spawn("mock", ["-m", "bench.mock_upstream", "--port", str(port)], cpus=None,
                 env=env, log=tmp / "mock.log")
    try:
        asyncio.run(wait_port(port, mock))
        subprocess.run([sys.executable, "-m", "bench.inprocess", *sys.argv[1:]], env=env,
                       cwd=ROOT, check=True)
    finally:
        mock.stop()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
