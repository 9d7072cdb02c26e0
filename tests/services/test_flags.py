"""Feature flags (decision 0124): the rollout's proportion and stickiness, allow-lists,
the snapshot (no database read per evaluation), the stamp that other processes follow,
and the audit row of every change."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import event, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import accounts, audit_trail, flags, revocations
from switchboard.services.audit import Actor
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.principal import Principal

USERS = 10_000


def _user(i: int, role: str = "user") -> Principal:
    return Principal(user_id=i, username=f"u{i}", role=role)


def test_ten_percent_reaches_ten_percent_of_users_and_sticks() -> None:
    rule = flags.Rule("mcp", "rollout", percent=10)
    chosen = {i for i in range(1, USERS + 1) if rule.allows(_user(i))}
    assert 900 <= len(chosen) <= 1100, len(chosen)  # 10% ± 1%
    # sticky: the same users on every evaluation (any process: a pure hash)
    assert chosen == {i for i in range(1, USERS + 1) if rule.allows(_user(i))}
    # growing the rollout only adds users
    twenty = {i for i in range(1, USERS + 1)
              if flags.Rule("mcp", "rollout", percent=20).allows(_user(i))}
    assert chosen < twenty and 1900 <= len(twenty) <= 2100
    # another flag at 10% picks other users (overlap about 1% of users, not 10%)
    other = {i for i in range(1, USERS + 1)
             if flags.Rule("comparison", "rollout", percent=10).allows(_user(i))}
    assert len(chosen & other) < 200
    assert not any(flags.Rule("mcp", "rollout", percent=0).allows(_user(i))
                   for i in range(1, 1000))
    assert all(flags.Rule("mcp", "rollout", percent=100).allows(_user(i))
               for i in range(1, 1000))


def test_allow_lists_on_and_off() -> None:
    rule = flags.Rule("mcp", "rollout", user_ids=frozenset({7}), roles=frozenset({"admin"}))
    assert rule.allows(_user(7)) and rule.allows(_user(8, "admin"))
    assert not rule.allows(_user(9))
    assert flags.Rule("mcp", "on").allows(_user(1))
    assert not flags.Rule("mcp", "off").allows(_user(1, "admin"))


async def test_book_follows_changes_and_reads_no_database_per_evaluation(
        sqlite_database: Database) -> None:
    db = sqlite_database
    ann = await accounts.create_user(db, "ann", "correct horse battery")
    book = flags.FlagBook(db, interval=0.05)
    await book.start()
    try:
        who = _user(ann.id)
        assert book.enabled("image_generation", who)  # no row: on
        assert not book.off_for_everyone("image_generation")
        with pytest.raises(KeyError):
            book.enabled("no_such_flag", who)
        await flags.set_flag(db, "image_generation", Actor("root", 1), mode="off")
        assert not book.enabled("image_generation", who)  # this process: at once
        assert book.off_for_everyone("image_generation")  # nothing to warm up for it
        assert not flags.enabled("image_generation", who)  # the module's view too
        with pytest.raises(flags.FeatureDisabled):
            book.require("image_generation", who)

        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            for _ in range(1000):
                book.enabled("image_generation", who)
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert statements == []

        # a change made elsewhere (no announcement here): the stamp is read within the
        # interval and the snapshot reloaded
        async with db.unit_of_work() as session:
            row = await session.get(m.FeatureFlag, "image_generation")
            assert row is not None
            row.mode, row.roles = "rollout", ["user"]
            await revocations.bump(session, flags.FLAGS_STAMP)
        started = time.monotonic()
        while not book.enabled("image_generation", who):
            assert time.monotonic() - started < 1.0, "not followed within a second"
            await asyncio.sleep(0.01)
        assert not book.off_for_everyone("image_generation")  # a rollout: some have it
    finally:
        await book.close()
    assert flags._active is None


async def test_set_flag_validates_and_is_audited(sqlite_database: Database) -> None:
    db = sqlite_database
    await accounts.create_user(db, "bob", "correct horse battery")
    view = await flags.set_flag(db, "mcp", Actor("root", 1), mode="rollout", percent=25,
                                users=["bob"], roles=["admin"])
    assert (view.mode, view.percent, view.users, view.roles) == (
        "rollout", 25, ["bob"], ["admin"])
    listed = {v.name: v for v in await flags.list_flags(db)}
    assert set(listed) == set(flags.KNOWN) and listed["tool_loop"].mode == "on"
    for kwargs, field in (({"mode": "rollout", "percent": 101}, "percent"),
                          ({"mode": "rollout", "users": ["nobody"]}, "users"),
                          ({"mode": "rollout", "roles": ["root"]}, "roles"),
                          ({"mode": "on", "percent": 5}, "mode"),
                          ({"mode": "maybe"}, "mode")):
        with pytest.raises(ValidationFailed) as caught:
            await flags.set_flag(db, "mcp", Actor("root", 1), **kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field
    with pytest.raises(NotFound):
        await flags.set_flag(db, "nope", Actor("root", 1), mode="off")
    await flags.set_flag(db, "mcp", Actor("root", 1), mode="off")
    async with db.session() as session:
        rows = (await session.scalars(select(m.AuditLog).where(
            m.AuditLog.action == "flag.set").order_by(m.AuditLog.seq))).all()
    assert [r.details["after"]["mode"] for r in rows] == ["rollout", "off"]
    assert rows[1].details["before"]["mode"] == "rollout" and rows[1].target_id == "mcp"
    assert (await audit_trail.verify(db)).ok
