"""The benchmark's output: a table on stdout and the raw figures as JSON."""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.run import RunResult

RESULTS = Path(__file__).resolve().parent / "results"

# Targets from issue 12 (with budgets, rate limits and metering on), on a 2-core machine,
# database on; the CPU figures are at concurrency 32, the added p50 at concurrency 1.
TARGETS = {
    "server_cpu_ms_json": 0.4,
    "added_p50_ms_c1": 0.5,
    "server_cpu_ms_stream": 1.2,
    "added_ttft_ms": 1.0,
    "startup_s": 0.8,
    "rss_idle_mb": 75.0,
    "import_s": 0.3,
}


def _f(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(result: RunResult) -> str:
    cols = [("scenario", "scenario", 0), ("rps direct", "direct_rps", 0),
            ("rps sb", "through_rps", 0), ("p50 direct", "direct_p50_ms", 2),
            ("p50 sb", "through_p50_ms", 2), ("p99 direct", "direct_p99_ms", 2),
            ("p99 sb", "through_p99_ms", 2), ("added p50", "added_p50_ms", 2),
            ("ttft direct", "direct_ttft_p50_ms", 2), ("ttft sb", "through_ttft_p50_ms", 2),
            ("added ttft", "added_ttft_p50_ms", 2),
            ("sb cpu/req ms", "server_cpu_ms_per_request", 3), ("errors", "errors", 0)]
    header = [c[0] for c in cols]
    lines = [[_f(r.get(key), d) if d else _f(r.get(key) if not isinstance(r.get(key), float)
              else round(r[key])) for _, key, d in cols] for r in result.rows]
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h)
              for i, h in enumerate(header)]
    out = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(v.rjust(w) for v, w in zip(line, widths, strict=True))
            for line in lines]
    out.append("")
    out.append("times in ms; rps = requests/s; 'sb' = through switchboard serve; "
               "cpu = server process utime+stime per request")
    out.append(f"startup (spawn -> first successful chat completion): "
               f"{result.startup_s:.3f} s   [target <= {TARGETS['startup_s']}]   "
               f"server CPU until then: {result.startup_cpu_s:.3f} s")
    out.append(f"RSS idle: {result.rss_idle_mb:.1f} MB   [target <= {TARGETS['rss_idle_mb']}]"
               f"   after load: {result.rss_after_mb:.1f} MB")
    out.append(f"import switchboard: {result.import_switchboard_s * 1000:.1f} ms   "
               f"[target <= {TARGETS['import_s'] * 1000:.0f}]   import switchboard.api.app: "
               f"{result.import_app_s * 1000:.0f} ms")
    out.append(f"machine: bench.machine's reference work takes {result.reference_ms:.1f} ms "
               "of CPU here (compare CPU figures across machines in proportion to it)")
    out.append(f"usage rows persisted: {result.usage_rows} of {result.usage_expected} calls")
    for row in result.rows:
        if row.get("first_error"):
            out.append(f"first error in {row['scenario']}: {row['first_error']}")
    return "\n".join(out)


def save(result: RunResult, directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(asdict(result), indent=2, default=str))
    return path
