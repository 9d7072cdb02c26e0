"""The server's garbage-collector tuning (decision 0179): frozen start-up objects and a
higher young threshold, only when configured (``switchboard serve`` sets it)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from switchboard.api.gc_tuning import YOUNG_THRESHOLD, tune_gc
from switchboard.config import load_settings


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_tuning_freezes_what_exists_and_raises_the_young_threshold(restored: None) -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    older = gc.get_threshold()[1:]
    tune_gc()
    assert gc.get_freeze_count() > 10_000  # the interpreter and the imports, at least
    assert gc.get_threshold() == (YOUNG_THRESHOLD, *older)
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle made after the freeze is still collected
    del garbage
    assert gc.collect() >= 1


@pytest.mark.parametrize(("value", "on"), [(None, False), ("on", True), ("off", False)])
def test_the_setting(value: str | None, on: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if value is None:
        monkeypatch.delenv("SWITCHBOARD_GC_TUNING", raising=False)
    else:
        monkeypatch.setenv("SWITCHBOARD_GC_TUNING", value)
    assert load_settings().gc_tuning is on


@pytest.mark.parametrize("value", [None, "", "on", "1", "off", "0", "false", "no", " OFF "])
def test_serve_raises_the_start_threshold_only_when_the_lifespan_will_lower_it(
        value: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """``cli.main`` raises the young threshold for a ``serve`` start only when the
    lifespan's ``tune_gc`` will run (decision 0222): with the tuning off it would stay at
    100,000 for the life of the process."""
    from switchboard.cli.main import _gc_tuning_wanted

    if value is None:
        monkeypatch.delenv("SWITCHBOARD_GC_TUNING", raising=False)
    else:
        monkeypatch.setenv("SWITCHBOARD_GC_TUNING", value)
    serve_default = value is None or not value.strip()  # serve sets it on when unset
    assert _gc_tuning_wanted() is (serve_default or load_settings().gc_tuning)
