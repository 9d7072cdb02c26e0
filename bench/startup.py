"""``python -m bench.startup``: start-up and idle memory only, several interleaved runs.

The full benchmark measures start-up once per run, between two long load phases; judging
a start-up change on the shared machine needs many starts, alternated between trees, and
medians. This prepares one database (the full benchmark's: schema at head, seeded catalog,
a user with an API token, budgets and limits on with ``--budgets --limits``), starts the
mock upstream once, then starts ``switchboard serve`` ``--runs`` times per tree, pinned to
the server core, and records for each start:

- wall seconds from spawn to the first successful authenticated chat completion;
- the server's own CPU seconds over that span (robust on a loaded machine);
- resident memory 2.5 s after that first answer, once the start's delayed work (the MCP
  warm-up) ran: idle RSS (``bench.run.IDLE_AFTER_S``).

Each tree's bytecode is compiled first, as an installed package has it (``--source``:
not, see ``bench.run.compile_bytecode``).

``--tree PATH`` (repeatable) adds another checkout's ``src`` to compare (e.g. a copy of
main); the starts alternate tree A, tree B, tree A, ... so load drifts hit both alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.load import Target, chat_body
from bench.procs import Proc, spawn
from bench.run import (
    BENCH_KEY,
    BENCH_LIMITS,
    IDLE_AFTER_S,
    MODEL,
    ROOT,
    compile_bytecode,
    first_success,
    free_port,
    wait_port,
)


def _one_start(tree: Path, env: dict[str, str], token: str, mock_port: int,
               cpus: set[int] | None, log: Path) -> dict[str, float]:
    port = free_port()
    server_env = {**env, "PYTHONPATH": f"{tree / 'src'}:{ROOT}"}
    started = time.perf_counter()
    server = spawn("switchboard", ["-m", "switchboard.cli.main", "serve", "--port",
                                   str(port), "--log-level", "warning"],
                   cpus=cpus, env=server_env, log=log)
    try:
        target = Target("127.0.0.1", port, "/v1/chat/completions", token)
        asyncio.run(first_success(target, chat_body(MODEL, False), server, log))
        wall = time.perf_counter() - started
        cpu = server.cpu()
        time.sleep(IDLE_AFTER_S)
        return {"wall_s": wall, "cpu_s": cpu, "rss_mb": server.rss() / 2**20}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="starts per tree")
    parser.add_argument("--tree", action="append", type=Path, default=[],
                        help="another checkout to compare (its src/ is put first)")
    parser.add_argument("--server-cpus", default="1" if (os.cpu_count() or 1) >= 2
                        else "none", help="cores for the server (default 1)")
    parser.add_argument("--budgets", action="store_true")
    parser.add_argument("--limits", action="store_true")
    parser.add_argument("--source", action="store_true",
                        help="do not compile bytecode first (see bench.run.compile_bytecode; "
                        "remove the trees' __pycache__ to measure a cold compile)")
    args = parser.parse_args(argv)
    cpus = None if args.server_cpus == "none" else {int(c) for c in
                                                    args.server_cpus.split(",")}
    trees = [*args.tree, ROOT]
    if not args.source:
        compile_bytecode([str(t / "src") for t in trees])
    tmp = Path(tempfile.mkdtemp(prefix="sb-startup-"))
    mock_port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SWITCHBOARD_", "OPENAI_", "ANTHROPIC_", "MISTRAL_",
                                "GEMINI_", "GOOGLE_"))}
    env.update({
        "SWITCHBOARD_DATA_DIR": str(tmp / "data"), "OPENAI_API_KEY": BENCH_KEY,
        "OPENAI_BASE_URL": f"http://127.0.0.1:{mock_port}/v1", "PYTHONPATH": str(ROOT),
        **(BENCH_LIMITS if args.limits else {"SWITCHBOARD_RATE_LIMITS": "off"}),
        **({"BENCH_BUDGETS": "1"} if args.budgets else {}),
    })
    log = tmp / "processes.log"
    mock: Proc | None = None
    results: dict[str, list[dict[str, float]]] = {str(t): [] for t in trees}
    try:
        prep = subprocess.run([sys.executable, "-m", "bench.prepare"], env=env, cwd=ROOT,
                              capture_output=True, check=True)
        token = json.loads(prep.stdout.decode().strip().splitlines()[-1])["token"]
        mock = spawn("mock", ["-m", "bench.mock_upstream", "--port", str(mock_port)],
                     cpus=None, env=env, log=log)
        asyncio.run(wait_port(mock_port, mock))
        for run in range(args.runs):
            for tree in trees:
                one = _one_start(tree, env, token, mock_port, cpus, log)
                results[str(tree)].append(one)
                print(f"run {run + 1} {tree}: {one['wall_s']:.2f} s wall, "
                      f"{one['cpu_s']:.2f} s CPU, {one['rss_mb']:.1f} MB "
                      f"(load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    finally:
        if mock is not None:
            mock.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    for tree, runs in results.items():
        med = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s",
                                                                   "rss_mb")}
        walls = " / ".join(f"{r['wall_s']:.2f}" for r in runs)
        cpus_s = " / ".join(f"{r['cpu_s']:.2f}" for r in runs)
        rss = " / ".join(f"{r['rss_mb']:.1f}" for r in runs)
        print(f"{tree}: median of {len(runs)}: start-up {med['wall_s']:.2f} s wall, "
              f"{med['cpu_s']:.2f} s CPU, idle RSS {med['rss_mb']:.1f} MB  "
              f"[wall {walls}; CPU {cpus_s}; RSS {rss}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
