"""The PostgreSQL test fixtures skip when PostgreSQL is absent, and FAIL instead when the
environment requires services (so CI never goes green by skipping)."""

from __future__ import annotations

import pytest

from tests.dbfixtures import PG_URL_ENV, REQUIRE_ENV, fresh_postgres_database

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1


@pytest.mark.parametrize(
    ("require", "outcome"), [("", pytest.skip.Exception), ("1", pytest.fail.Exception)]
)
@pytest.mark.parametrize("url", [None, UNREACHABLE], ids=["unset", "unreachable"])
async def test_postgres_unavailable(
    monkeypatch: pytest.MonkeyPatch, require: str, outcome: type[BaseException], url: str | None
) -> None:
    monkeypatch.setenv(REQUIRE_ENV, require)
    if url is None:
        monkeypatch.delenv(PG_URL_ENV, raising=False)
    else:
        monkeypatch.setenv(PG_URL_ENV, url)
    with pytest.raises(outcome, match="PostgreSQL"):
        async with fresh_postgres_database():
            pass
