"""The audit trail's hash chain (decision 0123): every row chained to the one before;
changes, deletions, insertions behind the code's back and a cut-off tail are found and
the first broken row named; retention keeps the chain verifiable. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.db.audit_chain import GENESIS, canonical, fields_of, row_hash
from switchboard.db.types import utcnow
from switchboard.services import audit, audit_trail
from switchboard.services.audit import CLI, Actor, RequestContext, record, request_context


async def _append(db: Database, n: int, *, per_transaction: int = 1) -> None:
    for i in range(0, n, per_transaction):
        async with db.unit_of_work() as session:
            for j in range(i, min(n, i + per_transaction)):
                record(session, CLI, "test.append", target_type="test", target_id=j,
                       details={"n": j, "text": "é ✓", "nested": {"b": 1, "a": [1, 2.5]}})


async def _rows(db: Database) -> list[m.AuditLog]:
    async with db.session() as session:
        return list((await session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))).all())


async def _raw(db: Database, statement: str) -> None:
    """What an attacker with database access does: bypass the append-only triggers (on
    PostgreSQL as a superuser who turns triggers off for the session)."""
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            await conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text(statement))


async def test_rows_are_chained_and_verify(database: Database) -> None:
    token = request_context.set(RequestContext("203.0.113.7", "req-1"))
    try:
        await _append(database, 5)
        await _append(database, 6, per_transaction=3)
    finally:
        request_context.reset(token)
    rows = await _rows(database)
    assert [r.seq for r in rows] == list(range(1, 12))
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert rows[0].address == "203.0.113.7" and rows[0].request_id == "req-1"
    verdict = await audit_trail.verify(database)
    assert verdict.ok and verdict.checked == 11 and verdict.head_seq == 11
    assert verdict.head_hash == rows[-1].hash


def test_canonical_form_is_exactly_as_documented() -> None:
    from datetime import UTC, datetime
    row = {"seq": 1, "created_at": datetime(2026, 12, 4, 20, 0, tzinfo=UTC), "actor": "ann",
           "actor_user_id": 2, "action": "flag.set", "target_type": "flag",
           "target_id": "mcp", "details": {"b": "é", "a": 1}, "address": None,
           "request_id": None, "prev_hash": GENESIS}
    assert canonical(row) == (
        '{"action":"flag.set","actor":"ann","actor_user_id":2,"address":null,'
        '"created_at":"2026-12-04T20:00:00.000000+00:00","details":{"a":1,"b":"é"},'
        f'"prev_hash":"{GENESIS}","request_id":null,"seq":1,"target_id":"mcp",'
        '"target_type":"flag"}').encode()
    assert len(row_hash(row)) == 64


async def test_a_raw_update_is_detected(database: Database) -> None:
    await _append(database, 5)
    third = (await _rows(database))[2]
    await _raw(database, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    verdict = await audit_trail.verify(database)
    assert not verdict.ok
    assert (verdict.broken_id, verdict.broken_seq) == (third.id, 3)
    assert verdict.checked == 2 and "changed" in (verdict.reason or "")


async def test_an_update_that_rehashes_the_row_is_detected_at_the_next(
        database: Database) -> None:
    await _append(database, 4)
    rows = await _rows(database)
    forged = {**fields_of(rows[1]), "actor": "mallory"}
    await _raw(database, f"UPDATE audit_log SET actor = 'mallory', hash = "
                         f"'{row_hash(forged)}' WHERE seq = 2")
    verdict = await audit_trail.verify(database)
    assert not verdict.ok and verdict.broken_seq == 3
    assert "does not follow" in (verdict.reason or "")


async def test_a_deleted_row_is_detected(database: Database) -> None:
    await _append(database, 5)
    fourth = (await _rows(database))[3]
    await _raw(database, "DELETE FROM audit_log WHERE seq = 3")
    verdict = await audit_trail.verify(database)
    assert not verdict.ok and (verdict.broken_id, verdict.broken_seq) == (fourth.id, 4)
    assert "missing" in (verdict.reason or "")


async def test_the_newest_rows_deleted_and_a_row_slipped_in_are_detected(
        database: Database) -> None:
    await _append(database, 3)
    await _raw(database, "DELETE FROM audit_log WHERE seq = 3")
    verdict = await audit_trail.verify(database)
    assert not verdict.ok and verdict.broken_id is None and verdict.broken_seq == 3
    await _raw(database, "INSERT INTO audit_log (created_at, actor, action, details) "
                         "VALUES (CURRENT_TIMESTAMP, 'mallory', 'x', '{}')")
    verdict = await audit_trail.verify(database)
    assert not verdict.ok and "outside the chain" in (verdict.reason or "")


async def test_retention_keeps_a_checkpoint_and_the_chain_verifies(
        database: Database) -> None:
    await _append(database, 4)
    cut = utcnow()
    await asyncio.sleep(0.01)  # the next rows are strictly newer than ``cut``
    await _append(database, 3)
    rows = await _rows(database)
    assert await audit_trail.prune(database, cut, Actor("ann", 1)) == 4
    kept = await _rows(database)
    assert [r.seq for r in kept] == [5, 6, 7, 8]  # 8: the prune's own row
    assert kept[-1].action == "audit.prune" and kept[-1].details["through_seq"] == 4
    verdict = await audit_trail.verify(database)
    assert verdict.ok and verdict.checkpoint_seq == 4 and verdict.checked == 4
    async with database.session() as session:
        chain = (await session.scalars(select(m.AuditChain))).one()
    assert chain.checkpoint_hash == rows[3].hash
    # still append-only above the checkpoint
    with pytest.raises(IntegrityError, match="append-only"):
        async with database.unit_of_work() as session:
            await session.execute(text("DELETE FROM audit_log WHERE seq = 5"))
    assert await audit_trail.prune(database, cut - timedelta(days=1), CLI) == 0


async def test_secrets_in_details_are_masked(sqlite_database: Database) -> None:
    async with sqlite_database.unit_of_work() as session:
        record(session, CLI, "user.create", details={
            "password": "hunter2hunter2", "after": {"api_key": "sk-abc", "name": "x"}})
    row = (await _rows(sqlite_database))[-1]
    assert row.details == {"password": audit.MASK,
                           "after": {"api_key": audit.MASK, "name": "x"}}


def test_csv_cells_cannot_run_as_formulas() -> None:
    assert audit_trail.cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    for risky in ("+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert audit_trail.cell(risky).startswith("'")
    assert audit_trail.cell(-3) == "-3" and audit_trail.cell("alice") == "alice"
    assert audit_trail.cell({"a": "=1"}) == '{"a":"=1"}'


async def test_accounts_logins_and_tokens_are_audited(sqlite_database: Database) -> None:
    from switchboard.services import accounts

    db = sqlite_database
    root = Actor("root", 1)
    ann = await accounts.create_user(db, "ann", "correct horse battery", actor=root)
    await accounts.update_user(db, ann.id, role="admin", password="another long one",
                               actor=root)
    assert await accounts.authenticate(db, "ann", "wrong password") is None
    assert await accounts.authenticate(db, "nobody", "whatever it is") is None
    assert await accounts.authenticate(db, "ann", "another long one") is not None
    _, token = await accounts.create_token(db, ann.id, "laptop", actor=root)
    await accounts.revoke_token(db, token.id, actor=root)
    rows = await _rows(db)
    assert [(r.action, r.actor) for r in rows] == [
        ("user.create", "root"), ("user.update", "root"), ("auth.login_failed", "ann"),
        ("auth.login_failed", "nobody"), ("auth.login", "ann"), ("token.create", "root"),
        ("token.revoke", "root")]
    update = rows[1].details
    assert update["before"] == {"role": "user"} and update["after"] == {"role": "admin"}
    assert update["password_changed"] is True
    assert "wrong password" not in repr([r.details for r in rows])
    assert rows[5].details["hint"].startswith("sb-")
    assert (await audit_trail.verify(db)).ok


async def test_configured_retention_prunes_at_most_once_an_hour(database: Database) -> None:
    """SWITCHBOARD_AUDIT_RETENTION_DAYS as the server applies it: rows older than the
    retention go behind a checkpoint on the first round, not again within the hour, and
    the chain still verifies."""
    await _append(database, 3)
    clock = utcnow() + timedelta(days=31)  # these rows are now 31 days old
    retention = audit_trail.Retention(database, 30, now=lambda: clock)
    await retention()
    assert retention.deleted == 3
    await _append(database, 2)
    clock += timedelta(days=40)  # everything is old now, but the hour has not passed...
    retention.now = lambda: clock
    retention._last = clock - timedelta(minutes=10)
    await retention()
    assert retention.deleted == 3
    retention._last = clock - timedelta(hours=2)  # ...now it has
    await retention()
    assert retention.deleted == 3 + 3  # the two appended and the first prune's own row
    verdict = await audit_trail.verify(database)
    assert verdict.ok
    assert (await _rows(database))[-1].actor == "retention"
    await audit_trail.Retention(database, 0)()  # 0: keep everything, never prunes
