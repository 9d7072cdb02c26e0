"""``python -m bench.classify``: how long the task-type classifier takes per prompt, on
one pinned core (issue 16 item 1: p99 <= 2 ms). Every prompt of the dev and held-out
sets, plus long pasted texts (the classifier reads a bounded slice of them), classified
``--rounds`` times; prints p50 / p99 / max per prompt in microseconds of the thread's
CPU time (what the classifier costs, without the time a busy machine takes the core
away), and the wall-clock p50 / p99 next to it with the load average."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from switchboard.services.auto.tasks import classify

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def prompts() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name in ("task_types_dev.jsonl", "task_types_heldout.jsonl"):
        rows.extend(json.loads(line) for line in (DATA / name).read_text().splitlines())
    article = "The council met on Tuesday and discussed the budget at length. " * 1600
    rows.append({"prompt": f"Summarize this article: {article}"})
    rows.append({"prompt": f"{article}\n\nWhat are the three key points?"})
    return rows


def measure(rounds: int) -> dict[str, float]:
    rows = prompts()
    samples: list[float] = []
    wall: list[float] = []
    for _ in range(rounds):
        for row in rows:
            prompt = str(row["prompt"])
            images = len(row.get("attachments") or [])  # type: ignore[arg-type]
            history = list(row.get("history") or [])  # type: ignore[call-overload]
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            classify(prompt, images=images, history=history)
            samples.append((time.thread_time_ns() - cpu) / 1000)
            wall.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    wall.sort()
    return {"prompts": len(rows), "samples": len(samples),
            "p50_us": statistics.median(samples),
            "p99_us": samples[int(len(samples) * 0.99) - 1], "max_us": samples[-1],
            "wall_p50_us": statistics.median(wall),
            "wall_p99_us": wall[int(len(wall) * 0.99) - 1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.classify", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cpu", type=int, default=0, help="pin to this core (-1: unpinned)")
    args = parser.parse_args(argv)
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    measure(1)  # warm-up: compiled patterns, caches
    result = measure(args.rounds)
    print(f"classify: {result['prompts']} prompts x {args.rounds} rounds on core "
          f"{args.cpu}: p50 {result['p50_us']:.0f} us, p99 {result['p99_us']:.0f} us, "
          f"max {result['max_us']:.0f} us (CPU time of the thread); wall clock: p50 "
          f"{result['wall_p50_us']:.0f} us, p99 {result['wall_p99_us']:.0f} us "
          f"(load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
