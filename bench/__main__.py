"""``python -m bench``: run the benchmark and print the table (docs/performance.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from bench.report import save, table
from bench.run import Options, run
from bench.scenarios import scenarios, select


def _cpus(text: str | None) -> set[int] | None:
    if not text or text == "none":
        return None
    return {int(x) for x in text.split(",")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny counts (smoke test)")
    parser.add_argument("--scenarios", help="comma-separated: json-c1,json-c32,stream-c1,"
                        "stream-c32 (default: all)")
    parser.add_argument("--requests", type=int, help="requests per scenario and mode")
    parser.add_argument("--warmup", type=int, default=None,
                        help="warm-up requests per scenario and mode (default 100)")
    parser.add_argument("--chunks", type=int, default=20, help="content chunks per stream")
    parser.add_argument("--workers", type=int, default=1,
                        help="switchboard serve --workers (more than 1 needs --postgres)")
    parser.add_argument("--postgres", metavar="URL", default=None,
                        help="PostgreSQL server URL (a temporary database is created in "
                        "it), e.g. postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis", metavar="URL", default=None,
                        help="Redis URL for cross-process cache invalidation")
    two = (os.cpu_count() or 1) >= 2
    parser.add_argument("--mock-cpus", default="0" if two else None,
                        help="cores for the mock and the load generator (default 0)")
    parser.add_argument("--server-cpus", default="1" if two else None,
                        help="cores for switchboard serve (default 1; 'none' = unpinned)")
    parser.add_argument("--log-level", default="warning",
                        help="switchboard serve --log-level (info logs every request)")
    parser.add_argument("--profile", metavar="FILE", type=Path, default=None,
                        help="record the server with py-spy (collapsed stacks) into FILE")
    parser.add_argument("--server-env", metavar="KEY=VALUE", action="append", default=[],
                        help="extra environment for the server (repeatable), e.g. "
                        "SWITCHBOARD_HTTP_TRANSPORT=httpcore")
    parser.add_argument("--budgets", action="store_true",
                        help="a hard budget (never reached) on the benchmark's user and token: "
                             "measures reservation and settlement")
    parser.add_argument("--limits", action="store_true",
                        help="rate limits on (so high none refuses): measures the limiter, "
                        "in Redis with --redis")
    parser.add_argument("--source", action="store_true",
                        help="do not compile the server's bytecode first: with "
                        "PYTHONDONTWRITEBYTECODE set and no __pycache__, every start "
                        "compiles from source")
    parser.add_argument("--no-save", action="store_true", help="do not write results JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir and database")
    args = parser.parse_args(argv)
    if args.workers > 1 and not args.postgres:
        parser.error("--workers > 1 needs --postgres (SQLite allows one writer process)")
    options = Options(
        scenarios=select(scenarios(args.requests, args.quick), args.scenarios),
        chunks=args.chunks,
        warmup=args.warmup if args.warmup is not None else (5 if args.quick else 100),
        workers=args.workers, database_url=args.postgres, redis_url=args.redis,
        mock_cpus=_cpus(args.mock_cpus), server_cpus=_cpus(args.server_cpus),
        log_level=args.log_level, keep=args.keep, profile=args.profile,
        server_env=dict(item.split("=", 1) for item in args.server_env),
        limits=args.limits,
        budgets=args.budgets,
        compile=not args.source,
    )
    result = run(options, say=lambda m: print(m, file=sys.stderr, flush=True))
    print(table(result))
    if not args.no_save:
        print(f"results: {save(result)}")
    failed = sum(r["errors"] for r in result.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(main())
