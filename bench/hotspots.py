"""Summarise a py-spy collapsed-stack profile (``python -m bench --profile FILE``):
``python -m bench.hotspots FILE [--top N] [--filter TEXT]`` prints the frames with the
most inclusive and self samples, as a share of all non-idle samples."""

from __future__ import annotations

import argparse
import inspect
import re
from collections import Counter
from pathlib import Path

IDLE = ("select (selectors.py", "_run_once (asyncio/base_events.py", "run_forever")


LINE = re.compile(r":\d+\)$")


def _aiosqlite_wait() -> str | None:
    """The frame of aiosqlite's worker thread waiting for work (``tx.get()``): py-spy
    counts that thread as busy while it blocks there (a third of a stream profile's
    samples), so it is idle here. None when aiosqlite is not importable."""
    try:
        from aiosqlite import core
    except ImportError:
        return None
    lines, first = inspect.getsourcelines(core._connection_worker_thread)
    for offset, text in enumerate(lines):
        if "tx.get()" in text:
            return f"_connection_worker_thread (aiosqlite/core.py:{first + offset})"
    return None


def load(path: Path) -> list[tuple[list[str], int]]:
    """Stacks with line numbers dropped, so a function counts once however many of its
    lines were sampled; aiosqlite's idle worker thread left out."""
    waiting = _aiosqlite_wait()
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            frames = stack.split(";")
            if waiting is not None and frames[-1] == waiting:
                continue
            stacks.append(([LINE.sub(")", f) for f in frames], int(count)))
    return stacks


def summarise(stacks: list[tuple[list[str], int]], top: int, text: str | None) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for frames, count in stacks:
        if frames and frames[-1].startswith(IDLE):
            continue  # the loop waiting for I/O
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} busy samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"-- top {title}")
        shown = 0
        for frame, count in counter.most_common():
            if text and text not in frame:
                continue
            lines.append(f"{100 * count / total:6.1f}%  {frame}")
            shown += 1
            if shown >= top:
                break
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--filter", default=None)
    args = parser.parse_args()
    print(summarise(load(args.file), args.top, args.filter))


if __name__ == "__main__":
    main()
