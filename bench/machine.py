"""How fast this machine runs Python, as one reference figure printed beside the results.

The issue's targets are absolute (milliseconds of server CPU per request), but the
machines the benchmark runs on are not alike: the same commit measured 0.68 s of start-up
CPU on one session's machine and 1.04 s on the next one's (2026-12-06). A figure is only
comparable with another taken on the same machine, or after dividing by what the machine
does with a fixed piece of work. This module times that fixed piece — pure Python shaped
like a gateway's request handling (a JSON body parsed and re-encoded, dicts and strings
built, small objects made, functions called) — in a fresh interpreter pinned to the
server's core, best of several runs, so a reader can scale one run's figures to
another's: ``figure_here * reference_there / reference_here``.
"""

from __future__ import annotations

import os
import subprocess
import sys

# The work itself, run by ``python -c`` (a fresh interpreter, nothing warmed by the
# benchmark); 2,000 rounds take ~46 ms on the 2026-12-06 machine.
_WORK = r"""
import json, time
from dataclasses import dataclass

@dataclass(slots=True)
class Part:
    role: str
    text: str
    tokens: int

def handle(raw: bytes) -> bytes:
    body = json.loads(raw)
    parts = [Part(m["role"], m["content"], len(m["content"]) // 4) for m in body["messages"]]
    headers = {f"x-ratelimit-{k}": str(v) for k, v in
               (("limit-requests", 60), ("remaining-requests", 59), ("reset-requests", "1s"))}
    answer = {"id": "chatcmpl-" + format(len(raw), "x"), "object": "chat.completion",
              "model": body["model"], "choices": [{"index": 0, "message": {
                  "role": "assistant", "content": " ".join(p.text for p in parts)},
                  "finish_reason": "stop"}],
              "usage": {"prompt_tokens": sum(p.tokens for p in parts),
                        "completion_tokens": 7, "total_tokens": 0}, **headers}
    return json.dumps(answer, separators=(",", ":")).encode()

raw = json.dumps({"model": "gpt-4o-mini", "messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hello to the benchmark, please." * 3}]}).encode()
best = float("inf")
for _ in range(5):
    start = time.process_time()
    for _ in range(2000):
        handle(raw)
    best = min(best, time.process_time() - start)
print(best * 1000)
"""


def reference_ms(cpus: set[int] | None = None) -> float:
    """Milliseconds of CPU the reference work takes here (best of five rounds)."""
    out = subprocess.run([sys.executable, "-c", _WORK], capture_output=True, check=True,
                         preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    return float(out.stdout)


if __name__ == "__main__":
    print(f"reference work: {reference_ms():.1f} ms of CPU")
