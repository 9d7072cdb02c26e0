"""``python -m bench.scale``: the catalog and the usage report at scale (docs/scaling.md).

Part 1 (catalog, ``bench.scale_catalog``): 200 providers and 5,000 models seeded through
the catalog services into a throwaway database (SQLite by default, ``--catalog-db
postgres`` for PostgreSQL), then ``/api/model-registry`` and ``/api/models`` cold and warm
through a real ``switchboard serve``, registry build and ``resolve`` in process, and
response sizes.

Part 2 (usage, ``bench.scale_usage``): one million ``usage_events`` rows on PostgreSQL (a
temporary ``sb_scale_<random>`` database, dropped afterwards), the usage report for scope
all / me over 30 and 90 days, the EXPLAIN (ANALYZE, BUFFERS) plans, and candidate
improvements measured on the same data.

Prints a table; writes everything (plans included) to ``bench/results/scaling-<time>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.scale_catalog import run_catalog
from bench.scale_db import DEFAULT_POSTGRES, temp_database, workdir
from bench.scale_usage import execution_ms, plan_summary, run_usage

RESULTS = Path(__file__).resolve().parent / "results"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.scale",
                                description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--providers", type=int, default=200)
    p.add_argument("--models", type=int, default=5000)
    p.add_argument("--cold", type=int, default=10, help="cold calls per endpoint")
    p.add_argument("--warm", type=int, default=20, help="warm calls after each cold one")
    p.add_argument("--catalog-db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--usage-rows", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--users", type=int, default=40)
    p.add_argument("--reps", type=int, default=5, help="runs of each usage query")
    p.add_argument("--postgres", default=DEFAULT_POSTGRES,
                   help=f"PostgreSQL server URL (default {DEFAULT_POSTGRES})")
    p.add_argument("--skip-catalog", action="store_true")
    p.add_argument("--skip-usage", action="store_true")
    p.add_argument("--no-experiments", action="store_true",
                   help="skip the candidate query / index / roll-up measurements")
    p.add_argument("--server-cpus", default="1" if (os.cpu_count() or 1) >= 2 else "none",
                   help="pin switchboard serve to these cores (default 1; 'none')")
    p.add_argument("--no-save", action="store_true")
    return p


async def run(args: argparse.Namespace, say: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(),
                                       "python": sys.version.split()[0]},
                           "args": vars(args)}
    tmp = workdir()
    try:
        if not args.skip_catalog:
            pg = args.postgres if args.catalog_db == "postgres" else None
            cpus = None if args.server_cpus == "none" else {
                int(x) for x in args.server_cpus.split(",")}
            if cpus and (others := set(range(os.cpu_count() or 1)) - cpus):
                os.sched_setaffinity(0, others)  # the client off the server's core
            async with temp_database(pg, tmp) as url:
                catalog = await run_catalog(url, tmp, providers=args.providers,
                                            models=args.models, cold=args.cold,
                                            warm=args.warm, server_cpus=cpus, say=say)
            out["catalog"] = catalog.as_dict() | {"database": args.catalog_db}
        if not args.skip_usage:
            async with temp_database(args.postgres, tmp) as url:
                usage = await run_usage(url, rows=args.usage_rows, days=args.days,
                                        users=args.users, reps=args.reps,
                                        with_experiments=not args.no_experiments, say=say)
            out["usage"] = usage.as_dict()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _catalog_lines(c: dict[str, Any]) -> list[str]:
    lines = [f"catalog: {c['providers']} providers, {c['models']} models ({c['database']}); "
             f"seeding {c['seed_ms_per_model']:.1f} ms/model, PUT provider "
             f"{c['provider_put_ms_median']:.1f} ms, PUT model {c['model_put_ms_median']:.1f} ms",
             f"{'endpoint':22} {'cold ms':>8} {'warm ms':>8} {'warm p99':>8} "
             f"{'cpu cold':>8} {'cpu warm':>8} {'KiB':>7} {'gzip ms':>8} {'cpu gzip':>8} "
             f"{'gzip KiB':>8}"]
    for path, e in c["endpoints"].items():
        lines.append(f"{path:22} {e['cold_ms_median']:8.1f} {e['warm_ms_median']:8.1f} "
                     f"{e['warm_ms_p99']:8.1f} {e['cold_server_cpu_ms']:8.1f} "
                     f"{e['warm_server_cpu_ms']:8.1f} {e['bytes'] / 1024:7.0f} "
                     f"{e.get('warm_gzip_ms_median', float('nan')):8.1f} "
                     f"{e.get('warm_gzip_server_cpu_ms', float('nan')):8.1f} "
                     f"{e['gzip_bytes'] / 1024:8.0f}")
    r = c["registry"]
    lines.append(f"registry: build {r['build_ms_median']:.1f} ms (min {r['build_ms_min']:.1f}), "
                 f"cached load {r['load_cached_us']:.1f} us; resolve explicit "
                 f"{r['resolve_explicit_us']:.1f} us, bare {r['resolve_bare_us']:.1f} us, "
                 f"default {r['resolve_default_us']:.1f} us")
    return lines


def _usage_lines(u: dict[str, Any]) -> list[str]:
    lines = [f"usage: {u['rows']:,} events over {u['days']} days, {u['table_mb']:.0f} MB; "
             f"COPY {u['insert_s']:.1f} s; heaviest user {u['heavy_user_rows']:,} events",
             f"roll-ups rebuilt in {u.get('rollup_s', 0):.1f} s "
             f"({u.get('rollup_rows', 0):,} daily rows)"]
    for period, d in u.get("dashboard", {}).items():
        lines.append(f"dashboard {period:4} first {d['first_ms']:7.1f} ms, median "
                     f"{d['median_ms']:7.1f} ms, max {d['max_ms']:7.1f} ms "
                     f"({d['events']:,} events)")
    lines.append(f"{'query':10} {'first ms':>9} {'median ms':>9} {'events':>9}  plan")
    for key, q in u["queries"].items():
        plan = u["plans"].get(key, "")
        lines.append(f"{key:10} {q['first_ms']:9.1f} {q['median_ms']:9.1f} {q['events']:9,}  "
                     f"{plan_summary(plan)} (exec {execution_ms(plan):.0f} ms)")
    for name, exp in u["experiments"].items():
        for key, q in exp["queries"].items():
            figure = (f"median {q['median_ms']:8.1f} ms" if "median_ms" in q
                      else q.get("skipped", ""))
            if "as_is_median_ms" in q:
                figure += f" (same SQL as is: {q['as_is_median_ms']:.1f} ms)"
            lines.append(f"  {name:18} {key:10} {figure}  {q.get('plan', '')}")
    return lines


def table(out: dict[str, Any]) -> str:
    lines: list[str] = []
    if "catalog" in out:
        lines += _catalog_lines(out["catalog"])
    if "usage" in out:
        lines += _usage_lines(out["usage"])
    return "\n".join(lines)


def save(out: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"scaling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(out, indent=2, default=str))
    return path


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    out = asyncio.run(run(args, say=lambda m: print(m, file=sys.stderr, flush=True)))
    print(table(out))
    if not args.no_save:
        print(f"results: {save(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
