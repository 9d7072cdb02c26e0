from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.services.cache import CatalogCache, reset_catalog_cache


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[CatalogCache]:
    """Each test starts with an empty process-wide catalog cache."""
    yield reset_catalog_cache()
    reset_catalog_cache()
