"""Model import and "test connection" against a fake OpenAI server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.db import Database
from switchboard.services import catalog
from switchboard.services.audit import list_entries
from switchboard.spec.errors import AuthenticationError
from tests.fakes import openai as fake_openai
from tests.fakes.script import Received
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-proj-discoverydiscovery0123456789-LAST"


def _check(req: Received) -> str | None:
    if req.headers.get("authorization") == f"Bearer {KEY}":
        return None
    return "Incorrect API key provided"


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(fake_openai.Wire(), key_check=_check)
    with serve_in_thread(app) as url:
        yield app, url + "/v1"


async def test_import_models_upserts_with_prices(
    sqlite_database: Database, vendor: tuple[FakeVendor, str]
) -> None:
    app, url = vendor
    await catalog.create_provider(sqlite_database, name="oa", kind="openai", base_url=url)
    await catalog.create_model(sqlite_database, "oa", "gpt-4o", name="Mine", price_input=9,
                               price_output=9)
    await catalog.set_provider_key(sqlite_database, "oa", KEY)
    result = await catalog.import_models(sqlite_database, "oa")
    assert app.last.path == "/v1/models"
    assert "gpt-4o-mini" in result.added and "gpt-4o" not in result.added
    assert result.total_listed == 3  # the adapter lists chat models only
    models = {x.model_sdk_id: x for x in await catalog.get_models_by_provider_id(
        sqlite_database, "oa")}
    assert models["gpt-4o-mini"].price_input is not None  # from switchboard.pricing
    assert models["gpt-4o"].name == "Mine" and models["gpt-4o"].price_input == 9  # kept
    again = await catalog.import_models(sqlite_database, "oa")
    assert again.added == [] and again.updated == []
    entries = await list_entries(sqlite_database, target_type="provider")
    assert entries[0].action == "provider.models.import"


async def test_test_provider_records_ok_and_error(
    sqlite_database: Database, vendor: tuple[FakeVendor, str]
) -> None:
    _, url = vendor
    await catalog.create_provider(sqlite_database, name="oa", kind="openai", base_url=url)
    await catalog.set_provider_key(sqlite_database, "oa", KEY)
    ok = await catalog.test_provider(sqlite_database, "oa")
    assert ok.ok and ok.status == "ok" and ok.models_seen == 3 and ok.latency_ms is not None
    view = await catalog.get_provider_by_id(sqlite_database, "oa")
    assert view.status == "ok" and view.status_checked_at is not None

    wrong = "sk-proj-wrongwrongwrongwrong0123456789-BAD1"
    await catalog.set_provider_key(sqlite_database, "oa", wrong)
    bad = await catalog.test_provider(sqlite_database, "oa")
    assert not bad.ok and bad.status == "error" and "Incorrect API key" in bad.message
    assert wrong not in bad.message
    view = await catalog.get_provider_by_id(sqlite_database, "oa")
    assert view.status == "error" and view.status_error == bad.message

    with pytest.raises(AuthenticationError):  # import surfaces the vendor's refusal
        await catalog.import_models(sqlite_database, "oa")
