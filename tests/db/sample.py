"""Helpers for the database tests: one row in every table, a dump of all rows, and a
fingerprint of the schema as the database itself reports it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from switchboard.db import models as m

T0 = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def one_row_per_table() -> list[m.Base]:
    """A small, fully linked data set touching every table and most column types."""
    provider = m.Provider(
        id=1, name="openai-main", kind="openai", base_url="https://api.openai.com/v1",
        image_url="/static/openai.svg", enabled=True, status="ok", status_checked_at=T0,
        status_latency_ms=123, status_error=None,
        settings={"headers": {"X-Org": "acme"}, "timeout": 30.5, "flags": [1, "two", None]},
        created_at=T0, updated_at=T0,
    )
    # One key, as migration 0009 makes of a single stored key (round trips keep it whole).
    key = m.ProviderKey(
        id=1, provider_id=1, label="default", ciphertext=b"\x00\x01ciphertext\xff",
        master_key_id="k1", last4="abcd", weight=1, rpm=None, tpm=None, enabled=True,
        expires_at=T0 + timedelta(days=90), failed_at=None, set_at=T0, updated_at=T0,
    )
    model = m.ProviderModel(
        id=1, provider_id=1, name="GPT-4o mini", model_sdk_id="gpt-4o-mini", is_default=True,
        is_enabled=True,
        capabilities={"streaming": True, "tools": True, "vision": True, "json_output": True},
        context_window=128000, max_output_tokens=16384, price_input=Decimal("0.15"),
        price_cached_input=Decimal("0.075"), price_output=Decimal("0.6"),
        price_cache_write=None, description="small and fast", created_at=T0, updated_at=T0,
    )
    user = m.User(
        id=1, username="ada", display_name="Ada L.", password_hash="$argon2id$v=19$...",
        role="admin", is_active=True, created_at=T0, last_login_at=T0,
    )
    prefs = m.UserPreferences(
        user_id=1, selected_model="openai-main/gpt-4o-mini", settings={"theme": "dark"},
        updated_at=T0,
    )
    token = m.ApiToken(
        id=1, user_id=1, name="laptop", token_hash="h" * 64, prefix="sb-abc", created_at=T0,
        last_used_at=None, expires_at=None, revoked_at=None,
    )
    setup = m.SetupToken(
        id=1, token_hash="s" * 64, purpose="admin_setup", created_at=T0,
        expires_at=T0 + timedelta(hours=1), used_at=None,
    )
    conversation = m.Conversation(
        id=1, user_id=1, title="Hello", provider="openai-main", model="gpt-4o-mini",
        leaf_id=2, created_at=T0, updated_at=T0,
    )
    question = m.Message(
        id=1, conversation_id=1, role="user", parts=[{"type": "text", "text": "Hi ✓"}],
        status="complete", created_at=T0,
    )
    answer = m.Message(
        id=2, conversation_id=1, parent_id=1, role="assistant",
        parts=[{"type": "text", "text": "Hello!"}],
        provider="openai-main", model="gpt-4o-mini", input_tokens=10, output_tokens=5,
        cached_tokens=2, cache_write_tokens=0, reasoning_tokens=0,
        cost=Decimal("0.0000045000"), latency_ms=800, ttft_ms=120, finish_reason="stop",
        status="complete", error=None, rating=1, created_at=T0 + timedelta(seconds=1),
    )
    usage = m.UsageEvent(
        id=1, created_at=T0, user_id=1, api_token_id=1, provider="openai-main",
        model="gpt-4o-mini", source="api", input_tokens=10, output_tokens=5, cached_tokens=2,
        cache_write_tokens=0, reasoning_tokens=0, cost=Decimal("0.0000045000"),
        latency_ms=800, ttft_ms=120, status="ok", error_code=None,
    )
    audit = m.AuditLog(
        id=1, created_at=T0, actor_user_id=1, actor="ada", action="provider.key.set",
        target_type="provider", target_id="1", details={"last4": "abcd"},
    )
    web_session = m.WebSession(
        id=1, token_hash="w" * 64, user_id=1, csrf_token="c" * 43, created_at=T0,
        last_seen_at=T0, expires_at=T0 + timedelta(days=14), user_agent="Mozilla/5.0",
    )
    stamp = m.RevocationStamp(id=1, version=0)  # as migration 0008 seeds it
    budget = m.Budget(id=1, scope="token", api_token_id=1, subject="token:1",
                      amount=Decimal("12.5000000000"), period="month", soft=False,
                      created_at=T0, updated_at=T0)
    spend = m.BudgetSpend(budget_id=1, period_start=date(2025, 1, 1), spent=1_500_000_000,
                          reserved=4_000)
    rule = m.RateLimitRule(id=1, scope="token", api_token_id=token.id, requests_per_minute=30,
                           tokens_per_minute=0, concurrent=None, updated_at=T0)
    stored = m.StoredResponse(
        id=1, response_id="resp_" + "0" * 32, user_id=1, created_at=T0,
        model="openai:gpt-4o-mini", body={"id": "resp_" + "0" * 32, "object": "response"},
        conversation=[{"role": "user", "parts": [{"type": "text", "text": "Hi"}]}],
    )
    stored_file = m.StoredFile(id=1, owner_id=1, sha256="ab" * 32, media_type="image/png",
                               size=2_048, created_at=T0)
    # The roll-ups of ``usage``, exactly as migration 0017's backfill computes them (the
    # round trip drops and rebuilds them).
    daily = m.UsageDaily(
        id=1, day=T0.date(), user_id=1, provider="openai-main", model="gpt-4o-mini",
        source="api", requests=1, errors=0, input_tokens=10, output_tokens=5,
        cached_tokens=2, reasoning_tokens=0, cost=Decimal("0.0000045000"), priced=1,
        latency_total=800, latency_count=1, estimated=0)
    daily_model = m.UsageDailyModel(
        id=1, day=T0.date(), provider="openai-main", model="gpt-4o-mini", source="api",
        requests=1, errors=0, input_tokens=10, output_tokens=5, cached_tokens=2,
        reasoning_tokens=0, cost=Decimal("0.0000045000"), priced=1, latency_total=800,
        latency_count=1, estimated=0)
    daily_user = m.UsageDailyUser(
        id=1, day=T0.date(), user_id=1, requests=1, errors=0, input_tokens=10,
        output_tokens=5, cached_tokens=2, reasoning_tokens=0, cost=Decimal("0.0000045000"),
        priced=1, latency_total=800, latency_count=1, estimated=0)
    latency = m.UsageDailyLatency(id=1, day=T0.date(), provider="openai-main",
                                  model="gpt-4o-mini", bucket=6, calls=1)
    tool_setting = m.ToolSetting(name="calculator", enabled=True, default_on=None,
                                 policy="ask", updated_at=T0)
    task_default = m.TaskDefault(task="code", model_ref="openai-main:gpt-4o-mini",
                                 updated_at=T0)
    mcp_server = m.McpServer(
        id=1, name="files", transport="stdio", command="/usr/bin/mcp-files", args=["--root", "/"],
        env={"TOKEN": {"ciphertext": "v1:k:abc", "masked": "****wxyz"}}, enabled=True,
        timeout_seconds=30, default_policy="ask",
        created_at=T0, updated_at=T0)
    alert_rule = m.AlertRule(id=1, kind="error_rate", enabled=True, threshold=0.25,
                             window_seconds=300, min_requests=20, updated_at=T0)
    channel = m.AlertChannel(id=1, name="ops", kind="webhook", enabled=True, settings={},
                             secret="v1:sealed", secret_hint="abcd", created_at=T0,
                             updated_at=T0)
    alert = m.Alert(id=1, rule="key_rejected", subject="key:1", value=1.0,
                    message="Provider openai-main refused the key 'default'.", opened_at=T0,
                    resolved_at=None)
    delivery = m.AlertDelivery(id=1, alert_id=1, channel_id=1, event="opened",
                               status="failed", attempts=4, next_at=T0,
                               last_error="the receiver answered HTTP 500", sent_at=None)
    signal = m.AlertSignal(id=1, kind="breaker_open", subject="openai-main", value=1.0,
                           detail="HTTP 503", created_at=T0)
    chain = m.AuditChain(id=1, seq=0, hash="0" * 64, checkpoint_seq=0,
                         checkpoint_hash="0" * 64)  # as migration 0022 seeds it
    flag = m.FeatureFlag(name="mcp", mode="rollout", percent=10, user_ids=[1], roles=["admin"],
                         updated_at=T0, updated_by="ada")
    # The answer's thumbs up, exactly as migration 0023 copies it (the round trip drops
    # and re-creates it).
    vote = m.GradeVote(id=1, created_at=T0 + timedelta(seconds=1), user_id=1, task=None,
                       a="openai-main:gpt-4o-mini", b=None, winner="a", source="rating",
                       message_id=2)
    exclusion = m.GradeExclusion(model="openai-main:gpt-4o", created_at=T0)
    suggestions = m.SuggestionDaily(id=1, day=T0.date(), user_id=1, shown=3, taken=2)
    caption = m.ImageCaption(sha256="ab" * 32, model_ref="openai-main:gpt-4o",
                             caption="A red square.", created_at=T0)
    blob = m.FileBlob(sha256="ab" * 32, size=4, data=b"\x89PNG", created_at=T0)
    return [provider, key, model, user, prefs, token, setup, conversation, question, answer,
            chain, usage, daily, daily_model, daily_user, latency, audit, web_session, stamp,
            budget, spend, rule, stored, stored_file, tool_setting, task_default, mcp_server,
            alert_rule, channel, alert, delivery, signal, flag, vote, exclusion, suggestions,
            caption, blob]


async def fill_every_table(session: AsyncSession) -> None:
    rows = one_row_per_table()
    filled = {type(row).__table__.name for row in rows}  # type: ignore[attr-defined]
    assert filled == set(m.Base.metadata.tables), (
        "every table needs a row in tests/db/sample.py; missing: "
        f"{sorted(set(m.Base.metadata.tables) - filled)}"
    )
    for row in rows:  # in dependency order, flushing each (explicit ids, no ORM relationships)
        if isinstance(row, m.RevocationStamp | m.AuditChain):
            await session.merge(row)  # migration 0005 seeds its one row already
        else:
            session.add(row)
        await session.flush()
    if session.bind.dialect.name == "postgresql":
        # Explicit ids do not advance PostgreSQL sequences; do it so later inserts work.
        for table in m.Base.metadata.sorted_tables:
            if "id" in table.c:
                await session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT max(id) FROM {table.name}))"
                ))


async def dump(conn: AsyncConnection, tables: list[str] | None = None) -> dict[str, list[Any]]:
    """Every row of the given tables (default: all), in primary-key order, as typed values."""
    out: dict[str, list[Any]] = {}
    present = await conn.run_sync(lambda c: {
        name: {col["name"] for col in inspect(c).get_columns(name)}
        for name in inspect(c).get_table_names()})
    for table in m.Base.metadata.sorted_tables:
        if tables is not None and table.name not in tables:
            continue
        # Only the columns this revision has (a downgraded schema lacks newer ones).
        columns = [c for c in table.columns if c.name in present.get(table.name, set())]
        query = select(*columns).order_by(*table.primary_key.columns)
        out[table.name] = [dict(row._mapping) for row in await conn.execute(query)]
    return out


async def fingerprint(conn: AsyncConnection) -> dict[str, Any]:
    """The schema as the database reports it: tables, columns, keys, indexes, triggers."""
    return await conn.run_sync(_fingerprint)


def _fingerprint(conn: Connection) -> dict[str, Any]:
    insp = inspect(conn)
    schema: dict[str, Any] = {}
    for name in sorted(insp.get_table_names()):
        schema[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in insp.get_columns(name)
            ],
            "pk": insp.get_pk_constraint(name),
            "fks": sorted(
                (fk["name"], fk["referred_table"], str(fk.get("options")))
                for fk in insp.get_foreign_keys(name)
            ),
            "indexes": sorted(
                (ix["name"], tuple(ix["column_names"]), bool(ix["unique"]),
                 sorted((k, str(v)) for k, v in ix.get("dialect_options", {}).items()))
                for ix in insp.get_indexes(name)
            ),
            "uniques": sorted(
                (u["name"], tuple(u["column_names"])) for u in insp.get_unique_constraints(name)
            ),
            "checks": sorted((c["name"], c["sqltext"]) for c in insp.get_check_constraints(name)),
        }
    schema["<triggers>"] = triggers(conn)
    return schema


def triggers(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal ORDER BY tgname"
    return [row[0] for row in conn.exec_driver_sql(query)]
