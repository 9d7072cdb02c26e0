"""Migrations: idempotent, reversible with data in every table, safe to run concurrently."""

from __future__ import annotations

import asyncio
import json

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from switchboard.db import Database, migrate
from switchboard.db import models as m
from tests.db.sample import dump, fill_every_table, fingerprint, triggers

CATALOG = ["providers", "provider_models"]
REVISIONS = ["0001_catalog", "0002_accounts_chat_usage", "0003_audit_append_only",
             "0004_message_tree", "0005_catalog_states", "0006_usage_estimates",
             "0007_conversation_pins",
             "0008_revocation_stamp", "0009_fallbacks", "0010_budgets",
             "0011_rate_limit_rules", "0012_model_types", "0013_stored_responses",
             "0014_provider_keys", "0015_image_models", "0016_files",
             "0017_usage_rollups", "0018_tool_settings",
             "0019_task_defaults", "0020_mcp_servers",
             "0021_alerts", "0022_audit_chain_flags", "0023_grades",
             "0024_image_captions", "0025_message_auto", "0026_file_blobs",
             "0027_conversation_tools",
             "0028_audit_head_trigger", "0029_image_edits"]
# Tables a revision creates: a downgrade past it drops them with their rows.
ADDED_TABLES = {"0008_revocation_stamp": {"revocation_stamp"},
                "0010_budgets": {"budgets", "budget_spend"},
                "0011_rate_limit_rules": {"rate_limit_rules"},
                "0013_stored_responses": {"stored_responses"},
                "0014_provider_keys": {"provider_keys"},
                "0016_files": {"files"},
                "0017_usage_rollups": {"usage_daily", "usage_daily_models",
                                       "usage_daily_users", "usage_daily_latency"},
                "0018_tool_settings": {"tool_settings"},
                "0019_task_defaults": {"task_defaults"},
                "0020_mcp_servers": {"mcp_servers"},
                "0021_alerts": {"alert_rules", "alert_channels", "alerts",
                                "alert_deliveries", "alert_signals"},
                "0022_audit_chain_flags": {"audit_chain", "feature_flags"},
                "0023_grades": {"grade_votes", "grade_exclusions", "suggestion_daily"},
                "0024_image_captions": {"image_captions"},
                "0026_file_blobs": {"file_blobs"}}


def kept_at(revision: str, rows: dict[str, list[object]]) -> dict[str, int]:
    """Row counts expected after downgrading to ``revision``."""
    later = REVISIONS[REVISIONS.index(revision) + 1:]
    dropped = set().union(*(ADDED_TABLES.get(r, set()) for r in later))
    return {t: len(r) for t, r in rows.items() if t not in dropped}


async def _snapshot(url: str) -> tuple[dict[str, object], dict[str, list[object]]]:
    db = Database.from_url(url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            return await fingerprint(conn), await dump(conn)
    finally:
        await db.dispose()


async def _row_counts(url: str) -> dict[str, int]:
    """Rows per table, by plain SQL (an older schema lacks columns the models declare,
    and the tables later revisions add)."""
    db = Database.from_url(url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            present = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            return {t.name: int((await conn.exec_driver_sql(
                f"SELECT count(*) FROM {t.name}")).scalar_one())
                for t in m.Base.metadata.sorted_tables if t.name in present}
    finally:
        await db.dispose()


async def _fill(url: str) -> None:
    db = Database.from_url(url, pooled=False)
    try:
        async with db.unit_of_work() as session:
            await fill_every_table(session)
    finally:
        await db.dispose()


def test_revisions_form_one_linear_chain() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(":memory:"))
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert chain == REVISIONS
    assert migrate.head() == REVISIONS[-1]
    assert migrate.HEAD == migrate.head(), "update migrate.HEAD with each new revision"


async def test_empty_database_has_no_revision(database_url: str) -> None:
    assert await migrate.current(database_url) is None


async def test_upgrade_twice_is_idempotent(database_url: str) -> None:
    assert await migrate.upgrade(database_url) == migrate.head()
    await _fill(database_url)
    before = await _snapshot(database_url)

    assert await migrate.upgrade(database_url) == migrate.head()
    assert await migrate.ensure_schema(database_url) == migrate.head()

    after = await _snapshot(database_url)
    assert after == before
    assert after[1]["providers"][0]["name"] == "openai-main"  # the data really is there


async def test_round_trip_one_step_keeps_every_row(database_url: str) -> None:
    await migrate.upgrade(database_url)
    await _fill(database_url)
    schema, rows = await _snapshot(database_url)
    assert all(rows[table] for table in m.Base.metadata.tables), "every table has data"

    assert await migrate.downgrade(database_url) == REVISIONS[-2]
    assert await migrate.current(database_url) == REVISIONS[-2]
    assert await _row_counts(database_url) == kept_at(REVISIONS[-2], rows)

    assert await migrate.upgrade(database_url) == migrate.head()
    # The tables the last revision added come back as it creates them (without the rows
    # the downgrade dropped); every other row is kept.
    # provider_keys is the exception: 0014's downgrade puts each provider's first key
    # back on its row and the upgrade moves it in again, so one key per provider returns.
    # The usage roll-ups too: 0017's upgrade rebuilds them from usage_events; audit_chain:
    # 0022 chains the audit rows that exist; 0023 copies the answers' thumbs into
    # grade_votes.
    recreated = ADDED_TABLES.get(REVISIONS[-1], set()) - {
        "provider_keys", "usage_daily", "usage_daily_models", "usage_daily_users",
        "usage_daily_latency", "audit_chain", "grade_votes"}
    assert await _snapshot(database_url) == (schema, {
        t: ([] if t in recreated else r) for t, r in rows.items()})


async def test_audit_triggers_go_with_their_revision(database_url: str) -> None:
    await migrate.upgrade(database_url)
    await _fill(database_url)
    _, rows = await _snapshot(database_url)
    assert await migrate.downgrade(database_url, "0002_accounts_chat_usage")
    db = Database.from_url(database_url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            schema_down = await fingerprint(conn)
    finally:
        await db.dispose()
    assert schema_down["<triggers>"] == []  # 0003 removed exactly the audit triggers
    assert await _row_counts(database_url) == kept_at("0002_accounts_chat_usage", rows)


async def test_downgrade_to_catalog_keeps_catalog_rows(database_url: str) -> None:
    await migrate.upgrade(database_url)
    await _fill(database_url)
    _, rows = await _snapshot(database_url)

    assert await migrate.downgrade(database_url, REVISIONS[0]) == REVISIONS[0]
    db = Database.from_url(database_url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(
                lambda c: sorted(c.dialect.get_table_names(c))
            )
            assert tables == sorted(["alembic_version", *CATALOG])
            added = {"allow_unlisted_models", "removed_models"}  # by 0005
            typed = {"model_type", "embedding", "image"}  # by 0012 and 0015
            assert await dump(conn, CATALOG) == {**{t: rows[t] for t in CATALOG}, "providers": [
                {k: v for k, v in row.items() if k not in added} for row in rows["providers"]],
                "provider_models": [  # 0009 added the fallback chain, 0012 the type
                    {k: v for k, v in row.items() if k != "fallbacks" and k not in typed}
                    for row in rows["provider_models"]]}
    finally:
        await db.dispose()

    assert await migrate.upgrade(database_url) == migrate.head()
    _, rows_again = await _snapshot(database_url)
    assert {t: rows_again[t] for t in CATALOG} == {t: rows[t] for t in CATALOG}
    # The dropped tables come back empty and usable.
    await migrate.downgrade(database_url, "base")
    assert await migrate.current(database_url) is None
    await migrate.upgrade(database_url)
    await _fill(database_url)


async def test_downgrade_to_base_leaves_only_the_version_table(database_url: str) -> None:
    await migrate.upgrade(database_url)
    assert await migrate.downgrade(database_url, "base") is None
    db = Database.from_url(database_url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            assert await conn.run_sync(lambda c: c.dialect.get_table_names(c)) == [
                "alembic_version"
            ]
            assert await conn.run_sync(triggers) == []
    finally:
        await db.dispose()


async def test_downgrade_of_an_empty_database_is_a_clear_error(database_url: str) -> None:
    with pytest.raises(migrate.MigrationError, match=r"no schema yet"):
        await migrate.downgrade(database_url)


async def test_unknown_revision_is_a_clear_error(database_url: str) -> None:
    with pytest.raises(migrate.MigrationError, match=r"Can't locate revision.*'0099_nope'"):
        await migrate.upgrade(database_url, "0099_nope")
    assert await migrate.current(database_url) is None


async def test_ensure_schema_refuses_a_database_from_a_newer_version(
    migrated_database_url: str,
) -> None:
    db = Database.from_url(migrated_database_url, pooled=False)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    finally:
        await db.dispose()
    with pytest.raises(migrate.MigrationError, match=r"'0099_future'.*upgrade Switchboard"):
        await migrate.ensure_schema(migrated_database_url)


async def test_concurrent_ensure_schema_migrates_once(database_url: str) -> None:
    """Several server processes starting at once: one migrates, the others wait for the
    lock (advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) and find head."""
    results = await asyncio.gather(*(migrate.ensure_schema(database_url) for _ in range(4)))
    assert results == [migrate.head()] * 4
    await _fill(database_url)


async def test_failed_migration_rolls_back_completely(database_url: str) -> None:
    """Migrations are atomic: a failure mid-way leaves the database as it was."""
    await migrate.upgrade(database_url, REVISIONS[0])
    db = Database.from_url(database_url, pooled=False)
    try:
        async with db.engine.begin() as conn:  # make 0002's LAST table fail to be created
            await conn.execute(text("CREATE TABLE audit_log (id INTEGER PRIMARY KEY)"))

        with pytest.raises(Exception, match=r"audit_log"):
            await migrate.upgrade(database_url)

        assert await migrate.current(database_url) == REVISIONS[0]
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sorted(c.dialect.get_table_names(c)))
        # users, conversations, ... (created before the failure) were rolled back too
        assert tables == sorted(["alembic_version", "audit_log", *CATALOG])
    finally:
        await db.dispose()


def test_ensure_schema_on_a_current_database_does_not_load_alembic(database_url: str) -> None:
    import subprocess
    import sys

    asyncio.run(migrate.upgrade(database_url))
    code = (
        "import asyncio, sys\n"
        "from switchboard.db import migrate\n"
        f"assert asyncio.run(migrate.ensure_schema({database_url!r})) == migrate.HEAD\n"
        "assert not [m for m in sys.modules if m.startswith('alembic')], 'alembic loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


async def test_0029_marks_the_editing_image_models_seeded_before(database_url: str) -> None:
    """Rows seeded before the catalog knew ``edits`` get it; a row that says ``edits``
    either way, and other models, are left as they are."""
    await migrate.upgrade(database_url, "0028_audit_head_trigger")
    db = Database.from_url(database_url, pooled=False)
    image = '{"prices": {"standard": {"512x512": "0"}}, "max_n": 4}'
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text(
                "INSERT INTO providers (id, name, kind, enabled, settings) VALUES "
                "(1, 'offline', 'offline', true, '{}'), (2, 'openai', 'openai', true, '{}')"))
            for row_id, provider, model, json_text in [
                    (1, 1, "offline-image", image), (2, 2, "gpt-image-1", image),
                    (3, 2, "dall-e-2", '{"prices": {}, "edits": false}'),
                    (4, 2, "dall-e-3", image)]:
                await conn.execute(text(
                    "INSERT INTO provider_models (id, provider_id, name, model_sdk_id, "
                    "capabilities, model_type, image) VALUES (:id, :p, :m, :m, '{}', "
                    "'image', :image)"), {"id": row_id, "p": provider, "m": model,
                                          "image": json_text})
        assert await migrate.upgrade(database_url) == migrate.head()
        async with db.engine.connect() as conn:
            rows = (await conn.execute(text(
                "SELECT model_sdk_id, image FROM provider_models ORDER BY id"))).all()
    finally:
        await db.dispose()
    edits = {model: (image if isinstance(image, dict) else json.loads(image)).get("edits")
             for model, image in rows}
    assert edits == {"offline-image": True, "gpt-image-1": True, "dall-e-2": False,
                     "dall-e-3": None}
