"""``CatalogCache.fresh``: the synchronous read answers exactly when ``get`` would answer
from its entries without awaiting (issue 12, fourth pass), and is counted the same."""

from __future__ import annotations

import asyncio

from switchboard.services.cache import MISSING, CatalogCache


def age(c: CatalogCache, scope: str, seconds: float) -> None:
    """Make the scope's last probe ``seconds`` older."""
    stamp, at = c._stamps[scope]
    c._stamps[scope] = (stamp, at - seconds)


def test_fresh_answers_only_what_get_would_answer_without_awaiting() -> None:
    probes: list[int] = []
    stamp = [1]

    async def probe() -> int:
        probes.append(stamp[0])
        return stamp[0]

    async def main() -> None:
        c = CatalogCache(probe_interval=5.0)
        loads = [0]

        async def loader() -> str:
            loads[0] += 1
            return f"value {loads[0]}"

        assert c.fresh("k", "db") is MISSING  # never read: no stamp, no entry
        assert await c.get("k", loader, probe=probe, scope="db") == "value 1"
        assert c.fresh("k", "db") == "value 1"
        assert c.stats.hits == 1 and c.stats.misses == 1
        assert c.fresh("other", "db") is MISSING  # no entry for that key
        assert c.fresh("k", "other scope") is MISSING  # that scope was never probed
        age(c, "db", 5.0)  # the probe is due: only get may run it
        assert c.fresh("k", "db") is MISSING
        assert await c.get("k", loader, probe=probe, scope="db") == "value 1"
        assert probes == [1, 1]
        assert c.fresh("k", "db") == "value 1"
        c.invalidate_local()  # a write here: the entry is gone
        assert c.fresh("k", "db") is MISSING
        assert await c.get("k", loader, probe=probe, scope="db") == "value 2"
        age(c, "db", 6.0)
        stamp[0] = 2  # a write in another process, seen by get's probe
        assert c.fresh("k", "db") is MISSING
        assert await c.get("k", loader, probe=probe, scope="db") == "value 3"
        assert c.fresh("k", "db") == "value 3"
        c.redis_url = "redis://127.0.0.1:1/0"  # Redis configured, not listening
        assert c.fresh("k", "db") is MISSING
        await c.close()

    asyncio.run(main())


def test_reads_that_find_the_probe_due_together_share_one_probe() -> None:
    """32 reads at once when the stamp is due: one probe, and every read answers with
    what it found (a changed stamp drops the entry for all of them); a failing probe
    fails every read that waited for it, and the next read probes again."""
    calls: list[int] = []
    stamp = [1]
    fail = [False]

    async def probe() -> int:
        calls.append(stamp[0])
        await asyncio.sleep(0.01)
        if fail[0]:
            raise RuntimeError("database down")
        return stamp[0]

    async def main() -> None:
        c = CatalogCache(probe_interval=5.0)
        loads = [0]

        async def loader() -> str:
            loads[0] += 1
            return f"value {loads[0]}"

        assert await c.get("k", loader, probe=probe, scope="db") == "value 1"
        age(c, "db", 5.0)
        stamp[0] = 2  # another process wrote
        got = await asyncio.gather(*(c.get("k", loader, probe=probe, scope="db")
                                     for _ in range(32)))
        assert calls == [1, 2]  # the first read's probe, then ONE for the 32
        assert set(got) <= {"value 2", "value 3"} and "value 1" not in got
        assert c.stats.remote_invalidations == 1
        age(c, "db", 5.0)
        fail[0] = True
        failed = await asyncio.gather(*(c.get("k", loader, probe=probe, scope="db")
                                        for _ in range(8)), return_exceptions=True)
        assert all(isinstance(f, RuntimeError) for f in failed) and len(calls) == 3
        fail[0] = False
        assert await c.get("k", loader, probe=probe, scope="db") in {"value 2", "value 3"}
        assert len(calls) == 4 and not c._probing

    asyncio.run(main())
