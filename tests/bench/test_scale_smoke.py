"""The scale and multi-worker benchmarks must keep running: tiny sizes, real processes.

No timing is asserted (timings live in ``python -m bench.scale`` / ``bench.workers`` and
docs/scaling.md). What is checked: the seeded catalog is what the endpoints serve, the
registry resolves, the usage report counts the inserted events and its plan was captured;
with two workers on PostgreSQL and Redis every call is accounted exactly once and a
provider change made through one worker is seen by the other.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from bench import scale, scale_db, workers


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


needs_postgres = pytest.mark.skipif(not _listening(5432),
                                    reason="no PostgreSQL on 127.0.0.1:5432")
needs_redis = pytest.mark.skipif(not _listening(6379), reason="no Redis on 127.0.0.1:6379")


def test_catalog_scale_tiny() -> None:
    args = scale.parser().parse_args([
        "--providers", "6", "--models", "30", "--cold", "1", "--warm", "2",
        "--skip-usage", "--server-cpus", "none", "--no-save"])
    out = asyncio.run(scale.run(args, say=lambda _: None))
    catalog = out["catalog"]
    registry_ep = catalog["endpoints"]["/api/model-registry"]
    models_ep = catalog["endpoints"]["/api/models"]
    # 5 enabled models per provider (only a provider's tenth model is disabled); the
    # first-run seed adds offline and the vendor kinds (enabled, not configured: no keys,
    # so they are in the registry too; decision 0035).
    assert models_ep["models"] >= registry_ep["models"] >= 30
    assert models_ep["providers"] >= 6 + 1
    assert registry_ep["bytes"] > registry_ep["gzip_bytes"] > 0
    assert catalog["registry"]["instances"] >= 6
    assert all(catalog["registry"][f"resolve_{k}_us"] > 0
               for k in ("explicit", "bare", "default"))
    assert "/api/models" in scale.table(out)


@needs_postgres
def test_usage_scale_tiny() -> None:
    args = scale.parser().parse_args([
        "--skip-catalog", "--usage-rows", "3000", "--users", "3", "--reps", "1",
        "--postgres", scale_db.DEFAULT_POSTGRES, "--no-save"])
    out = asyncio.run(scale.run(args, say=lambda _: None))
    usage = out["usage"]
    assert set(usage["queries"]) == {"all-30d", "all-90d", "me-30d", "me-90d"}
    assert 0 < usage["queries"]["all-30d"]["events"] < usage["queries"]["all-90d"]["events"]
    assert usage["queries"]["all-90d"]["events"] <= 3000
    assert usage["queries"]["me-90d"]["events"] <= usage["heavy_user_rows"]
    for plan in usage["plans"].values():  # the report reads the roll-ups (decision 0129)
        assert "usage_daily" in plan and "Execution Time" in plan
    assert usage["rollup_rows"] > 0
    assert set(usage["dashboard"]) == {"1d", "7d", "30d", "90d"}
    assert usage["dashboard"]["90d"]["events"] == usage["queries"]["all-90d"]["events"]
    assert set(usage["experiments"]) == {"day_as_date", "covering_index_me",
                                         "daily_rollup"}
    assert all("median_ms" in q for q in usage["experiments"]["day_as_date"]["queries"].values())
    assert "all-90d" in scale.table(out)


@needs_postgres
@needs_redis
def test_two_workers_account_everything_and_invalidate_each_other() -> None:
    args = workers.parser().parse_args([
        "--workers", "2", "--requests", "40", "--warmup", "10", "--concurrency", "4",
        "--trials", "2", "--no-redis-trials", "0", "--no-save"])
    out = asyncio.run(workers.run(args, say=lambda _: None))
    (row,) = out["throughput"]
    assert row["errors"] == 0, row["first_error"]
    assert row["usage_rows"] == row["usage_expected"] > 40
    assert sum(row["connections_per_worker"]) == 4
    inv = out["invalidation_redis"]
    assert inv["trials"] == 2 and len(inv["delays_ms"]) == 2
    assert "invalidation (redis)" in workers.table(out)
