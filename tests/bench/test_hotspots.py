"""``python -m bench.hotspots`` counts what the server did, not where its threads wait."""

from __future__ import annotations

from pathlib import Path

from bench.hotspots import _aiosqlite_wait, load, summarise


def test_aiosqlites_waiting_worker_thread_is_not_counted_as_busy(tmp_path: Path) -> None:
    waiting = _aiosqlite_wait()
    assert waiting is not None  # aiosqlite is a dependency; its wait line was found
    profile = tmp_path / "p.txt"
    profile.write_text(
        "proc;Thread.run (threading.py:982);" + waiting + " 70\n"
        "proc;Runner.run (asyncio/runners.py:118);feed (switchboard/upstream/sse.py:45) 30\n"
    )
    report = summarise(load(profile), top=5, text=None)
    assert report.splitlines()[0] == "30 busy samples"
    assert "100.0%  feed (switchboard/upstream/sse.py)" in report
