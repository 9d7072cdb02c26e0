"""``python -m bench.metrics [--calls N] [--workers W]``: what metrics cost a call and a scrape.

Per call: what one streamed ``/v1`` call makes the metrics do — the recorder's
``attempt`` (requests, latency and TTFT histograms, tokens in and out, cost), the stream
counted in and out of flight, and two catalog-cache hits — against ``NULL_METRICS``
(``SWITCHBOARD_METRICS=off``), over 20 models so the label lookups are not all one hit.
In memory (one process) and in multiprocess mode (``serve --workers N``: every value is a
write to a memory-mapped file).

Per scrape: ``Metrics.render`` with the series those calls made, in memory and, in
multiprocess mode, reading the files of W processes that each made them (the scrape
cost grows with workers x series).

``PROMETHEUS_MULTIPROC_DIR`` must be set before ``prometheus_client`` is imported, so each
mode runs in its own interpreter. The end-to-end figure is the main benchmark run with
and without ``--server-env SWITCHBOARD_METRICS=off`` (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

MODELS = 20


def _outcomes() -> list[object]:
    from switchboard.services.metering import CallOutcome
    from switchboard.spec import Collector, Usage

    found = []
    for i in range(MODELS):
        result = Collector().result()
        result.usage = Usage(input_tokens=120, output_tokens=400)
        found.append(CallOutcome(provider="openai", kind="openai", model=f"model-{i}",
                                 result=result, status="ok", started_at=0.0,
                                 latency_ms=850, ttft_ms=240, cost=Decimal("0.000318")))
    return found


def per_call(calls: int, enabled: bool) -> float:
    """Microseconds of metrics work per streamed call."""
    from switchboard.services.metrics import build_metrics

    metrics = build_metrics(enabled)
    outcomes = _outcomes()
    for outcome in outcomes:  # bind every label set first: steady state
        metrics.attempt("api", outcome, 1)  # type: ignore[arg-type]
    start = time.process_time()  # CPU: what the pipeline's budget counts
    for i in range(calls):
        metrics.cache(True)
        metrics.cache(True)
        metrics.stream_opened()
        metrics.attempt("api", outcomes[i % MODELS], 1)  # type: ignore[arg-type]
        metrics.stream_closed()
    return (time.process_time() - start) / calls * 1e6


def scrape(rounds: int) -> tuple[float, int]:
    """Milliseconds per render, and its size in bytes."""
    from switchboard.services.metrics import Metrics

    metrics = Metrics(multiproc_dir=os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None)
    if metrics.multiproc_dir is None:
        for outcome in _outcomes():
            metrics.attempt("api", outcome, 1)  # type: ignore[arg-type]
    body = metrics.render()
    start = time.process_time()
    for _ in range(rounds):
        metrics.render()
    return (time.process_time() - start) / rounds * 1e3, len(body)


def _child(mode: str, calls: int) -> dict[str, float]:
    out = {"metrics_on_us": per_call(calls, True), "metrics_off_us": per_call(calls, False)}
    if mode == "memory":
        out["scrape_ms"], out["scrape_bytes"] = scrape(50)
    return out


def _run(mode: str, calls: int, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "bench.metrics", "--child", mode,
                           "--calls", str(calls)], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.metrics", description=__doc__)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=4,
                        help="processes whose files a multiprocess scrape reads")
    parser.add_argument("--child", choices=["memory", "multiprocess", "scrape"],
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "scrape":
        ms, size = scrape(20)
        print(json.dumps({"scrape_ms": ms, "scrape_bytes": size}))
        return 0
    if args.child:
        print(json.dumps(_child(args.child, args.calls)))
        return 0
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    memory = _run("memory", args.calls, {})
    os.environ.clear()
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as folder:
        multi = {"PROMETHEUS_MULTIPROC_DIR": folder}
        for _ in range(args.workers):  # W processes' files, as W workers leave them
            shared = _run("multiprocess", max(args.calls // 10, 1000), multi)
        multi_calls = _run("multiprocess", args.calls, multi)
        done = subprocess.run([sys.executable, "-m", "bench.metrics", "--child", "scrape"],
                              env={**os.environ, **multi}, capture_output=True, text=True,
                              check=True)
        multi_scrape = json.loads(done.stdout)
    del shared
    print(f"per streamed call (µs of CPU for the metrics; {args.calls} calls over {MODELS} models)")
    print(f"  in memory (1 process):    on {memory['metrics_on_us']:.2f}   "
          f"off {memory['metrics_off_us']:.2f}")
    print(f"  multiprocess (mmap files): on {multi_calls['metrics_on_us']:.2f}   "
          f"off {multi_calls['metrics_off_us']:.2f}")
    print(f"per scrape ({MODELS} models; ms of CPU)")
    print(f"  in memory:                 {memory['scrape_ms']:.2f} ms, "
          f"{int(memory['scrape_bytes'])} bytes")
    print(f"  multiprocess, {args.workers + 1} processes' files: "
          f"{multi_scrape['scrape_ms']:.2f} ms, {int(multi_scrape['scrape_bytes'])} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
