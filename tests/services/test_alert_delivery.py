"""Alert notices through real receivers on loopback: an SMTP server (``aiosmtpd``) and a
small HTTP server taking the generic JSON and the Slack-compatible webhooks. An alert
opens, every channel gets its notice with a link back to the dashboard, it resolves,
every channel gets the resolution; a receiver that fails is retried a bounded number of
times with the clock turned, never with a sleep, and its error is recorded without the
webhook's secret address."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import alert_channels, alerts, catalog, keys
from switchboard.services.audit import SYSTEM
from switchboard.services.errors import Conflict, ValidationFailed
from tests.alert_support import Receiver

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def _refused_key(db: Database) -> int:
    await catalog.create_provider(db, name="oa", kind="openai")
    await keys.add_provider_key(db, "oa", "sk-test-refused-0123456789", label="main")
    async with db.unit_of_work() as session:
        await session.execute(update(m.ProviderKey).values(failed_at=NOW))
        key_id = await session.scalar(select(m.ProviderKey.id))
    assert key_id is not None
    return key_id


async def test_notices_reach_smtp_and_webhooks_and_resolve(
        sqlite_database: Database, smtp: tuple[Mailbox, int], receiver: Receiver) -> None:
    db, (box, port), vault = sqlite_database, smtp, keys.open_vault()
    mail = await alert_channels.create_channel(
        db, vault, SYSTEM, name="ops mail", kind="email", secret=None,
        settings={"host": "127.0.0.1", "port": port, "security": "none",
                  "from": "switchboard@example.com", "to": "ops@example.com, cto@example.com"})
    hook = await alert_channels.create_channel(db, vault, SYSTEM, name="json", kind="webhook",
                                               settings=None,
                                               secret=f"{receiver.url}/hook/s3cr3t-token")
    slack = await alert_channels.create_channel(db, vault, SYSTEM, name="chat", kind="slack",
                                                settings=None,
                                                secret=f"{receiver.url}/slack/T0/B0/xyz9")
    assert hook["secret_hint"] == "…oken" and "s3cr3t" not in json.dumps(hook)
    assert mail["settings"]["to"] == ["ops@example.com", "cto@example.com"]
    async with db.unit_of_work() as session:  # sealed at rest
        stored = await session.scalar(select(m.AlertChannel.secret).where(
            m.AlertChannel.id == hook["id"]))
    assert stored is not None and "s3cr3t" not in stored

    key_id = await _refused_key(db)
    clock = Clock(NOW)
    evaluator = alerts.Evaluator(db, vault=lambda: vault, base_url="https://ai.example.com/",
                                 now=clock, send_timeout=5)
    first = await evaluator.run_once()
    assert first is not None and (len(first.opened), first.sent, first.failed) == (1, 3, 0)
    [(sender, recipients, raw)] = box.mails
    assert (sender, recipients) == ("switchboard@example.com",
                                    ["ops@example.com", "cto@example.com"])
    message = message_from_bytes(raw)
    assert message["Subject"].startswith("[Alert] Provider oa refused the key 'main'")
    assert "https://ai.example.com/settings/dashboard" in message.get_payload()
    by_path = dict(receiver.posts)
    generic = by_path["/hook/s3cr3t-token"]
    assert (generic["event"], generic["rule"], generic["subject"]) == (
        "opened", "key_rejected", f"key:{key_id}")
    assert generic["link"] == "https://ai.example.com/settings/dashboard"
    assert by_path["/slack/T0/B0/xyz9"]["text"].startswith(":rotating_light: Alert: Provider oa")
    assert "<https://ai.example.com/settings/dashboard|" in by_path["/slack/T0/B0/xyz9"]["text"]

    # No new notice while it stays open; one resolution notice each when it clears.
    clock.at = NOW + timedelta(minutes=1)
    quiet = await evaluator.run_once()
    assert quiet is not None and (quiet.sent, len(box.mails), len(receiver.posts)) == (0, 1, 2)
    async with db.unit_of_work() as session:
        await session.execute(update(m.ProviderKey).values(failed_at=None))
    clock.at = NOW + timedelta(minutes=2)
    cleared = await evaluator.run_once()
    assert cleared is not None and (len(cleared.resolved), cleared.sent) == (1, 3)
    assert message_from_bytes(box.mails[-1][2])["Subject"].startswith("[Resolved] No longer")
    assert [p[1].get("event") for p in receiver.posts[2:] if p[0].startswith("/hook")] == [
        "resolved"]

    # A test notice per channel.
    await evaluator.send_test(slack["id"])
    assert receiver.posts[-1][1]["text"].startswith(":wave: Test")


async def test_a_failing_receiver_is_retried_a_bounded_number_of_times(
        sqlite_database: Database, receiver: Receiver) -> None:
    db, vault = sqlite_database, keys.open_vault()
    await alert_channels.create_channel(db, vault, SYSTEM, name="json", kind="webhook",
                                        settings=None, secret=f"{receiver.url}/hook/secret-path")
    await _refused_key(db)
    receiver.status = 500
    clock = Clock(NOW)
    evaluator = alerts.Evaluator(db, vault=lambda: vault, now=clock, send_timeout=5)
    rounds = []
    for _ in range(alerts.MAX_ATTEMPTS + 2):
        done = await evaluator.run_once()
        assert done is not None
        rounds.append((done.sent, done.failed))
        clock.at += timedelta(minutes=15)  # past every back-off
    assert rounds == [(0, 1)] * alerts.MAX_ATTEMPTS + [(0, 0)] * 2
    assert len(receiver.posts) == alerts.MAX_ATTEMPTS
    [failed] = (await alerts.alert_lists(db))["failed_deliveries"]
    assert (failed["status"], failed["attempts"], failed["error"]) == (
        "failed", alerts.MAX_ATTEMPTS, "the receiver answered HTTP 500")
    assert "secret-path" not in json.dumps(failed)

    # Within the back-off it waits; a receiver that recovers gets the next notice.
    receiver.status = 200
    async with db.unit_of_work() as session:
        await session.execute(update(m.ProviderKey).values(failed_at=None))
    resolved = await evaluator.run_once()
    assert resolved is not None and (resolved.sent, resolved.failed) == (1, 0)


async def test_an_unreachable_mail_server_fails_fast(sqlite_database: Database) -> None:
    db, vault = sqlite_database, keys.open_vault()
    channel = await alert_channels.create_channel(
        db, vault, SYSTEM, name="mail", kind="email", secret="hunter2",
        settings={"host": "127.0.0.1", "port": _free_port(), "security": "none",
                  "from": "a@example.com", "to": ["b@example.com"], "username": "a"})
    evaluator = alerts.Evaluator(db, vault=lambda: vault, now=Clock(NOW), send_timeout=2)
    with pytest.raises(alert_channels.DeliveryFailed, match="could not be reached"):
        await evaluator.send_test(channel["id"])


async def test_channel_settings_are_checked(sqlite_database: Database) -> None:
    db, vault = sqlite_database, keys.open_vault()
    good = {"host": "mail.example.com", "from": "a@example.com", "to": ["b@example.com"]}
    for bad, field in (({**good, "to": ["not an address"]}, "settings.to"),
                       ({**good, "from": "x\r\nBcc: evil@example.com"}, "settings.from"),
                       ({**good, "port": 70000}, "settings.port"),
                       ({**good, "security": "maybe"}, "settings.security")):
        with pytest.raises(ValidationFailed) as caught:
            await alert_channels.create_channel(db, vault, SYSTEM, name="m", kind="email",
                                                settings=bad, secret=None)
        assert caught.value.field == field
    with pytest.raises(ValidationFailed):
        await alert_channels.create_channel(db, vault, SYSTEM, name="w", kind="webhook",
                                            settings=None, secret="ftp://example.com/x")
    await alert_channels.create_channel(db, vault, SYSTEM, name="m", kind="email",
                                        settings=good, secret=None)
    with pytest.raises(Conflict):
        await alert_channels.create_channel(db, vault, SYSTEM, name="m", kind="email",
                                            settings=good, secret=None)
    changed = await alert_channels.update_channel(
        db, vault, SYSTEM, (await alert_channels.list_channels(db))[0]["id"], enabled=False,
        secret="new password")
    assert (changed["enabled"], changed["has_secret"], changed["secret_hint"]) == (
        False, True, "…word")
    # the secret goes through the vault's one sealing path (no control characters), the
    # message says which secret
    with pytest.raises(ValidationFailed) as caught:
        await alert_channels.update_channel(db, vault, SYSTEM, changed["id"],
                                            secret="pass\x00word")
    assert caught.value.field == "secret"
    assert "SMTP password" in str(caught.value) and "control characters" in str(caught.value)
