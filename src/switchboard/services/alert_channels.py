"""Where alert notices go: e-mail over SMTP, a generic JSON webhook, a Slack-compatible
webhook (issue 17 item 4, decision 0131).

Secrets — the SMTP password, and a webhook's URL (whoever has it can post, so it is a
credential) — are sealed by the ``Vault`` like provider keys, with ``alert-channel:ID``
as associated data (a provider key's ciphertext pasted here does not open). Only the
last four characters are kept in clear to tell them apart; no response, log or audit
row carries the secret, and a delivery error is described without the URL.

E-mail is sent with the standard library's ``smtplib`` in a worker thread: a notice is a
few messages an hour at most, so a dependency for an asyncio SMTP client buys nothing.
Every send has a timeout (``SEND_TIMEOUT``), so a dead receiver delays the evaluator by
seconds, never minutes; retries are the evaluator's (``services.alerts``), bounded.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.security.masking import last4, mask_last4
from switchboard.security.vault import Vault
from switchboard.services.audit import Actor, record
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.spec.errors import InvalidRequestError

SEND_TIMEOUT = 10.0
"""Seconds one delivery may take (connect + send) before it counts as failed."""
MAX_CHANNELS = 20
MAX_RECIPIENTS = 20
MAX_URL = 2000
MAX_SECRET = 1000
KINDS = m.ALERT_CHANNEL_KINDS
SECURITY = ("starttls", "tls", "none")
_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")
_ADDRESS = re.compile(r"^[^\s@<>,;\"]{1,64}@[A-Za-z0-9.-]{1,190}$")
_HOST = re.compile(r"^[A-Za-z0-9.:\[\]-]{1,255}$")
_USERNAME = re.compile(r"^[^\x00-\x1f\x7f]{0,200}$")


@dataclass(frozen=True, slots=True)
class Notice:
    """One message about one alert (or a test), the same for every channel."""

    event: str
    """``opened``, ``resolved`` or ``test``."""
    rule: str
    subject: str
    title: str
    message: str
    value: float | None
    link: str
    at: str
    """ISO-8601 time of the event."""

    def text(self) -> str:
        head = {"opened": "Alert", "resolved": "Resolved", "test": "Test"}[self.event]
        return f"[{head}] {self.message}\n{self.link}"

    def as_json(self) -> dict[str, Any]:
        return {"event": self.event, "rule": self.rule, "subject": self.subject,
                "title": self.title, "message": self.message, "value": self.value,
                "link": self.link, "at": self.at}


class DeliveryFailed(Exception):
    """A channel did not take a notice; the message never contains the secret."""


# -- settings -----------------------------------------------------------------------------


def _name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise ValidationFailed("give the channel a name of 1 to 100 characters", "name")
    return name


def _webhook_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if (len(url) > MAX_URL or parts.scheme not in ("http", "https") or not parts.hostname
            or any(c.isspace() for c in url)):
        raise ValidationFailed("the webhook address must be an http or https URL of at most "
                               f"{MAX_URL} characters", "secret")
    return url


def _email_settings(raw: dict[str, Any]) -> dict[str, Any]:
    def text(name: str, pattern: re.Pattern[str], message: str, default: str = "") -> str:
        value = raw.get(name, default)
        if not isinstance(value, str) or not pattern.match(value.strip()):
            raise ValidationFailed(message, f"settings.{name}")
        return value.strip()

    host = text("host", _HOST, "give the mail server's host name")
    port = raw.get("port", 587)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValidationFailed("the mail server's port must be a number from 1 to 65535",
                               "settings.port")
    security = raw.get("security", "starttls")
    if security not in SECURITY:
        raise ValidationFailed("the connection security must be starttls, tls or none",
                               "settings.security")
    sender = text("from", _ADDRESS, "give the sender's e-mail address")
    to = raw.get("to")
    if isinstance(to, str):
        to = [a for a in re.split(r"[,;\s]+", to) if a]
    if (not isinstance(to, list) or not 1 <= len(to) <= MAX_RECIPIENTS
            or not all(isinstance(a, str) and _ADDRESS.match(a) for a in to)):
        raise ValidationFailed(f"give 1 to {MAX_RECIPIENTS} recipient e-mail addresses",
                               "settings.to")
    username = text("username", _USERNAME, "the user name is too long", default="")
    return {"host": host, "port": port, "security": security, "from": sender, "to": to,
            "username": username}


def _settings(kind: str, raw: dict[str, Any] | None) -> dict[str, Any]:
    if kind == "email":
        return _email_settings(raw or {})
    return {}


def _aad(channel_id: int) -> str:
    return f"alert-channel:{channel_id}"


def _seal(vault: Vault, row: m.AlertChannel, secret: str | None) -> None:
    if secret is None or secret == "":
        row.secret = row.secret_hint = None
        return
    if len(secret) > MAX_SECRET:
        raise ValidationFailed(f"the secret is longer than {MAX_SECRET} characters", "secret")
    if row.kind != "email":
        secret = _webhook_url(secret)
    try:
        row.secret = vault.seal_value(_aad(row.id), secret).ciphertext
    except InvalidRequestError as exc:
        what = "the SMTP password" if row.kind == "email" else "the webhook address"
        raise ValidationFailed(f"{what}: {exc.message}", "secret") from None
    row.secret_hint = last4(secret) or None


def view(row: m.AlertChannel) -> dict[str, Any]:
    """A channel as admins see it: never the secret, only its last four characters."""
    return {"id": row.id, "name": row.name, "kind": row.kind, "enabled": row.enabled,
            "settings": dict(row.settings), "has_secret": row.secret is not None,
            "secret_hint": mask_last4(row.secret_hint)}


async def list_channels(db: Database) -> list[dict[str, Any]]:
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.execute(select(m.AlertChannel)
                                      .order_by(m.AlertChannel.name))).scalars().all()
    return [view(r) for r in rows]


async def create_channel(db: Database, vault: Vault, actor: Actor, *, name: str, kind: str,
                         settings: dict[str, Any] | None, secret: str | None,
                         enabled: bool = True) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValidationFailed("the kind must be email, webhook or slack", "kind")
    name = _name(name)
    clean = _settings(kind, settings)
    if kind != "email" and not secret:
        raise ValidationFailed("give the webhook's address", "secret")
    async with db.unit_of_work() as session:
        count = await session.scalar(select(m.AlertChannel.id).order_by(
            m.AlertChannel.id.desc()).limit(1).offset(MAX_CHANNELS - 1))
        if count is not None:
            raise Conflict(f"there are already {MAX_CHANNELS} channels; remove one first")
        if await session.scalar(select(m.AlertChannel.id).where(m.AlertChannel.name == name)):
            raise Conflict(f"a channel named '{name}' already exists")
        row = m.AlertChannel(name=name, kind=kind, enabled=enabled, settings=clean)
        session.add(row)
        await session.flush()  # the id is the secret's associated data
        _seal(vault, row, secret)
        record(session, actor, "alert.channel.add", target_type="alert_channel",
               target_id=row.id, details={"name": name, "kind": kind,
                                          "secret": mask_last4(row.secret_hint)})
        return view(row)


async def update_channel(db: Database, vault: Vault, actor: Actor, channel_id: int, *,
                         name: str | None = None, enabled: bool | None = None,
                         settings: dict[str, Any] | None = None,
                         secret: str | None = None) -> dict[str, Any]:
    async with db.unit_of_work() as session:
        row = await session.get(m.AlertChannel, channel_id)
        if row is None:
            raise NotFound(f"no alert channel {channel_id}")
        changes: dict[str, Any] = {}
        if name is not None and _name(name) != row.name:
            if await session.scalar(select(m.AlertChannel.id).where(
                    m.AlertChannel.name == _name(name))):
                raise Conflict(f"a channel named '{_name(name)}' already exists")
            row.name = changes["name"] = _name(name)
        if enabled is not None and enabled != row.enabled:
            row.enabled = changes["enabled"] = enabled
        if settings is not None:
            row.settings = changes["settings"] = _settings(row.kind, settings)
        if secret is not None:
            if row.kind != "email" and not secret:
                raise ValidationFailed("give the webhook's address", "secret")
            _seal(vault, row, secret)
            changes["secret"] = mask_last4(row.secret_hint)
        if changes:
            record(session, actor, "alert.channel.update", target_type="alert_channel",
                   target_id=row.id, details=changes)
        return view(row)


async def remove_channel(db: Database, actor: Actor, channel_id: int) -> None:
    async with db.unit_of_work() as session:
        row = await session.get(m.AlertChannel, channel_id)
        if row is None:
            raise NotFound(f"no alert channel {channel_id}")
        record(session, actor, "alert.channel.remove", target_type="alert_channel",
               target_id=row.id, details={"name": row.name, "kind": row.kind})
        await session.delete(row)


async def load_channel(db: Database, channel_id: int) -> m.AlertChannel:
    async with db.unit_of_work(read_only=True) as session:
        row = await session.get(m.AlertChannel, channel_id)
    if row is None:
        raise NotFound(f"no alert channel {channel_id}")
    return row


# -- sending ------------------------------------------------------------------------------


def _secret(vault: Vault, row: m.AlertChannel) -> str | None:
    if row.secret is None:
        return None
    return vault.open(_aad(row.id), row.secret, label=f"alert channel '{row.name}'"
                      ).get_secret_value()


def _send_mail(settings: dict[str, Any], password: str | None, notice: Notice,
               timeout: float) -> None:
    mail = EmailMessage()
    mail["Subject"] = notice.text().splitlines()[0][:200]
    mail["From"] = settings["from"]
    mail["To"] = ", ".join(settings["to"])
    mail.set_content(f"{notice.message}\n\n{notice.title}\nOpen the dashboard: "
                     f"{notice.link}\n")
    host, port, security = settings["host"], settings["port"], settings["security"]
    client: smtplib.SMTP
    if security == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if settings.get("username") and password:
            client.login(settings["username"], password)
        client.send_message(mail)


async def _post(url: str, body: dict[str, Any], limit: float) -> None:
    try:
        async with httpx.AsyncClient(timeout=limit, follow_redirects=False) as client:
            response = await client.post(url, json=body)
    except httpx.TimeoutException:
        raise DeliveryFailed(f"the receiver did not answer within {limit:g} s") from None
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"the receiver could not be reached ({type(exc).__name__})"
                             ) from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"the receiver answered HTTP {response.status_code}")


def slack_body(notice: Notice) -> dict[str, Any]:
    """Slack's incoming-webhook shape: a ``text`` with ``<url|label>`` links
    (https://api.slack.com/messaging/webhooks); Mattermost and others take it too."""
    head = {"opened": ":rotating_light: Alert", "resolved": ":white_check_mark: Resolved",
            "test": ":wave: Test"}[notice.event]
    return {"text": f"{head}: {notice.message} <{notice.link}|Open the dashboard>"}


async def send(row: m.AlertChannel, vault: Vault, notice: Notice, *,
               limit: float = SEND_TIMEOUT) -> None:
    """Deliver one notice on one channel, or raise ``DeliveryFailed`` (within about
    ``limit`` seconds either way)."""
    timeout = limit
    secret = _secret(vault, row)
    if row.kind == "email":
        try:
            await asyncio.wait_for(asyncio.to_thread(
                _send_mail, row.settings, secret, notice, timeout), timeout * 2)
        except TimeoutError:
            raise DeliveryFailed(f"the mail server did not answer within {timeout:g} s"
                                 ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"the mail server refused the message ({exc.smtp_code})"
                                 ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryFailed(f"the mail server could not be reached "
                                 f"({type(exc).__name__})") from None
        return
    if secret is None:
        raise DeliveryFailed("the webhook has no address")
    body = slack_body(notice) if row.kind == "slack" else notice.as_json()
    await _post(secret, body, limit)
