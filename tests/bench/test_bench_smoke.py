"""The benchmark must keep running: one tiny run of every scenario, real processes.

No timing is asserted here (timings live in the benchmark); what is checked is that the
whole path works end to end — the mock answers, the server serves through it with
API-token auth, every request succeeds, and every call was persisted as a usage row.
"""

from __future__ import annotations

import asyncio
import math

from bench.load import Target, chat_body, percentile, run_load
from bench.mock_upstream import serve
from bench.report import table
from bench.run import Options, run
from bench.scenarios import scenarios


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


async def test_mock_speaks_openai_sse() -> None:
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve("127.0.0.1", 0, 5, ready))
    try:
        port = await ready
        target = Target("127.0.0.1", port)
        result = await run_load(target, chat_body("gpt-4o-mini", True), 3, 2, stream=True)
        assert result.errors == 0, result.first_error
        assert len(result.latencies_ms) == 3 and len(result.ttft_ms) == 3
        result = await run_load(target, chat_body("gpt-4o-mini", False), 3, 1)
        assert result.errors == 0 and len(result.latencies_ms) == 3
    finally:
        task.cancel()


def test_quick_run_end_to_end() -> None:
    options = Options(scenarios=scenarios(quick=True), warmup=2, mock_cpus=None,
                      server_cpus=None)
    result = run(options, say=lambda _: None)
    assert [r["scenario"] for r in result.rows] == ["json-c1", "json-c32", "stream-c1",
                                                    "stream-c32"]
    for row in result.rows:
        assert row["errors"] == 0, row["first_error"]
        assert row["through_rps"] > 0 and row["server_cpu_ms_per_request"] >= 0
        if row["stream"]:
            assert row["through_ttft_p50_ms"] > 0
    assert result.usage_rows == result.usage_expected
    assert result.startup_s > 0 and result.startup_cpu_s > 0 and result.rss_idle_mb > 0
    assert "json-c32" in table(result)
