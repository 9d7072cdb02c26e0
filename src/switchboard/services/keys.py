"""Provider API keys: the key pool (add, list, retire, switch), and master-key rotation.

A key goes straight from the caller into ``Vault.seal`` (AES-256-GCM bound to the
PROVIDER's row id: decision 0066); only the ciphertext, the master key id, the last four
characters and the settings are stored. Audit rows record the label and the masked tail,
never the key.

A provider holds a pool of keys (``provider_keys``, decision 0066): ``add_provider_key``
adds one beside the others (rotation: add the new key, both serve, retire the old),
``retire_provider_key`` removes one, ``update_provider_key`` switches one on or off or
changes its weight, limits or expiry. ``set_provider_key`` (``switchboard keys set``, the
single-key form) REPLACES the pool with this one key, labelled "default": a deployment
with one key keeps meaning what it always meant. ``remove_provider_key`` empties the pool.

A key the vendor refuses with 401 is marked failed by ``record_key_failure`` (called by
the registry's pool through ``DatabaseKeyEvents``): ``failed_at`` set, an audit row, an
error log line ``key_failed`` naming the provider and the label. Enabling the key again
clears the mark.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from switchboard.config import load_settings
from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.db.types import utcnow
from switchboard.registry.keypool import PROCESS_LEDGER, PoolKey, log_key_failed
from switchboard.registry.keypool import key_ref as ledger_ref
from switchboard.security import secretbox
from switchboard.security.masking import mask_last4
from switchboard.security.masterkey import KeyRing
from switchboard.security.vault import Vault
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.errors import Conflict, NotFound, ValidationFailed
from switchboard.services.mcp.servers import binding
from switchboard.services.providers import ProviderRef, load_provider
from switchboard.services.transactions import catalog_write
from switchboard.services.views import KeyStatus, ProviderKeyView, primary_key
from switchboard.spec.errors import AuthenticationError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger("switchboard.keys")

DEFAULT_LABEL = "default"
MAX_KEYS = 50
"""Keys per provider: a pool is a handful of keys, not an unbounded list."""
MAX_LABEL = 100
MAX_WEIGHT = 1000
MAX_PER_MINUTE = 1_000_000_000
_LABEL = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")


def open_vault(*, create: bool = True) -> Vault:
    """The vault of this process's master key(s) (env var or key file)."""
    return Vault.load(load_settings().data_dir, create=create)


def _status(row: m.Provider) -> KeyStatus:
    key = primary_key(row)
    return KeyStatus(
        provider=row.name,
        has_api_key=key is not None,
        api_key_masked=mask_last4(key.last4) if key is not None else None,
        api_key_key_id=key.master_key_id if key is not None else None,
        api_key_set_at=key.set_at if key is not None else None,
    )


def _details(row: m.Provider, key: m.ProviderKey, **more: Any) -> dict[str, Any]:
    return {"name": row.name, "label": key.label, "key": mask_last4(key.last4), **more}


def clean_label(label: str) -> str:
    label = label.strip()
    if not _LABEL.match(label):
        raise ValidationFailed(
            f"a key's label is 1 to {MAX_LABEL} characters without control characters",
            field="label")
    return label


def _bounded(value: int | None, name: str, high: int) -> int | None:
    if value is not None and not 1 <= value <= high:
        raise ValidationFailed(f"{name} must be between 1 and {high}", field=name)
    return value


def future_expiry(expires_at: datetime | None) -> datetime | None:
    """``expires_at`` as an aware UTC time (naive means UTC); refused when not in the
    future."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        raise ValidationFailed(
            f"expires_at {expires_at.isoformat()} is in the past; give a future date-time "
            "(ISO-8601, e.g. 2030-01-31T00:00:00Z) or leave it out", field="expires_at")
    return expires_at


def _next_label(row: m.Provider) -> str:
    taken = {k.label for k in row.keys}
    if DEFAULT_LABEL not in taken:
        return DEFAULT_LABEL
    n = len(taken) + 1
    while f"key-{n}" in taken:
        n += 1
    return f"key-{n}"


def _find(row: m.Provider, ref: str | int) -> m.ProviderKey:
    """A key of ``row`` by label (or by id, given as an int or digits)."""
    for key in row.keys:
        if key.label == ref or (str(key.id) == str(ref) and str(ref).isdigit()):
            return key
    labels = ", ".join(repr(k.label) for k in row.keys) or "none"
    raise NotFound(f"provider {row.name!r} has no key {ref!r}; its keys: {labels}")


def _new_key(vault: Vault, row: m.Provider, api_key: str, *, label: str, weight: int,
             rpm: int | None, tpm: int | None, expires_at: datetime | None) -> m.ProviderKey:
    sealed = vault.seal(row.id, api_key)
    return m.ProviderKey(
        provider_id=row.id, label=label, ciphertext=sealed.ciphertext.encode("ascii"),
        master_key_id=sealed.key_id, last4=sealed.last4, weight=weight, rpm=rpm, tpm=tpm,
        enabled=True, expires_at=expires_at, set_at=sealed.set_at, updated_at=sealed.set_at)


async def add_provider_key(
    db: Database, provider: ProviderRef, api_key: str, *, label: str | None = None,
    weight: int = 1, rpm: int | None = None, tpm: int | None = None,
    expires_at: datetime | None = None, actor: Actor = SYSTEM, vault: Vault | None = None,
) -> ProviderKeyView:
    """Add a key to the provider's pool, beside the keys it has (they all serve)."""
    _bounded(weight, "weight", MAX_WEIGHT)
    _bounded(rpm, "rpm", MAX_PER_MINUTE)
    _bounded(tpm, "tpm", MAX_PER_MINUTE)
    expires_at = future_expiry(expires_at)
    vault = vault or open_vault()
    async with catalog_write(db, f"adding a key to provider {provider!r}") as session:
        row = await load_provider(session, provider)
        if len(row.keys) >= MAX_KEYS:
            raise ValidationFailed(f"provider {row.name!r} already holds {MAX_KEYS} keys; "
                                   "retire one first", field="api_key")
        label = clean_label(label) if label is not None else _next_label(row)
        if any(k.label == label for k in row.keys):
            raise Conflict(f"provider {row.name!r} already has a key labelled {label!r}; "
                           "choose another label")
        key = _new_key(vault, row, api_key, label=label, weight=weight, rpm=rpm, tpm=tpm,
                       expires_at=expires_at)
        row.keys.append(key)
        row.status, row.status_error, row.status_checked_at = "unknown", None, None
        await session.flush()
        record(session, actor, "provider.key.add", target_type="provider", target_id=row.id,
               details=_details(row, key, master_key_id=key.master_key_id, weight=weight,
                                rpm=rpm, tpm=tpm,
                                expires_at=expires_at.isoformat() if expires_at else None))
        return ProviderKeyView.of(key)


async def list_provider_keys(db: Database, provider: ProviderRef) -> list[ProviderKeyView]:
    async with db.unit_of_work(read_only=True) as session:
        row = await load_provider(session, provider)
        return [ProviderKeyView.of(k) for k in row.keys]


async def retire_provider_key(
    db: Database, provider: ProviderRef, key_ref: str | int, *, actor: Actor = SYSTEM
) -> ProviderKeyView:
    """Remove a key from the pool. Calls in flight on it finish with it (their provider
    holds the key); new calls use the others."""
    async with catalog_write(db, f"retiring a key of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        key = _find(row, key_ref)
        view = ProviderKeyView.of(key)
        row.keys.remove(key)
        await session.delete(key)
        record(session, actor, "provider.key.retire", target_type="provider",
               target_id=row.id, details=_details(row, key, left=len(row.keys)))
        return view


_UNSET: Any = object()


async def update_provider_key(
    db: Database, provider: ProviderRef, key_ref: str | int, *, enabled: bool | None = None,
    weight: int | None = None, rpm: int | None = _UNSET, tpm: int | None = _UNSET,
    expires_at: datetime | None = _UNSET, label: str | None = None, actor: Actor = SYSTEM,
) -> ProviderKeyView:
    """Change one key's settings. Enabling a key the vendor refused clears the mark (an
    admin fixed it at the vendor): it serves, and may be refused, anew."""
    changes: dict[str, Any] = {}
    async with catalog_write(db, f"changing a key of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        key = _find(row, key_ref)
        if label is not None and clean_label(label) != key.label:
            label = clean_label(label)
            if any(k.label == label for k in row.keys):
                raise Conflict(f"provider {row.name!r} already has a key labelled {label!r}")
            changes["label"] = [key.label, label]
            key.label = label
        if enabled is not None and (enabled != key.enabled or
                                    (enabled and key.failed_at is not None)):
            changes["enabled"] = enabled
            key.enabled = enabled
            if enabled:
                key.failed_at = None
                PROCESS_LEDGER.forget_failure(ledger_ref(key.id, key.set_at))
        if weight is not None and weight != key.weight:
            changes["weight"] = _bounded(weight, "weight", MAX_WEIGHT)
            key.weight = weight
        if rpm is not _UNSET and rpm != key.rpm:
            changes["rpm"] = key.rpm = _bounded(rpm, "rpm", MAX_PER_MINUTE)
        if tpm is not _UNSET and tpm != key.tpm:
            changes["tpm"] = key.tpm = _bounded(tpm, "tpm", MAX_PER_MINUTE)
        if expires_at is not _UNSET:
            expires_at = future_expiry(expires_at)
            if expires_at != key.expires_at:
                key.expires_at = expires_at
                changes["expires_at"] = expires_at.isoformat() if expires_at else None
        if changes:
            record(session, actor, "provider.key.update", target_type="provider",
                   target_id=row.id, details=_details(row, key, changes=changes))
        await session.flush()
        return ProviderKeyView.of(key)


async def set_provider_key(
    db: Database, provider: ProviderRef, api_key: str, *, actor: Actor = SYSTEM,
    vault: Vault | None = None, expires_at: datetime | None = None,
) -> KeyStatus:
    """The single-key form: the pool becomes this one key, labelled "default"."""
    expires_at = future_expiry(expires_at)
    vault = vault or open_vault()
    async with catalog_write(db, f"setting the key of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        replaced = [k.label for k in row.keys]
        for old in list(row.keys):
            row.keys.remove(old)
            await session.delete(old)
        await session.flush()
        key = _new_key(vault, row, api_key, label=DEFAULT_LABEL, weight=1, rpm=None,
                       tpm=None, expires_at=expires_at)
        row.keys.append(key)
        row.status, row.status_error, row.status_checked_at = "unknown", None, None
        record(session, actor, "provider.key.set", target_type="provider", target_id=row.id,
               details={"name": row.name, "key": mask_last4(key.last4),
                        "master_key_id": key.master_key_id, "replaced": bool(replaced),
                        "replaced_labels": replaced,
                        "expires_at": expires_at.isoformat() if expires_at else None})
        return _status(row)


async def remove_provider_key(
    db: Database, provider: ProviderRef, *, actor: Actor = SYSTEM
) -> KeyStatus:
    """Empty the provider's pool (it then falls back to its environment variable)."""
    async with catalog_write(db, f"removing the keys of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        for key in list(row.keys):
            record(session, actor, "provider.key.remove", target_type="provider",
                   target_id=row.id, details=_details(row, key))
            row.keys.remove(key)
            await session.delete(key)
        row.status, row.status_error, row.status_checked_at = "unknown", None, None
        return _status(row)


async def get_key_status(db: Database, provider: ProviderRef) -> KeyStatus:
    async with db.unit_of_work(read_only=True) as session:
        return _status(await load_provider(session, provider))


async def record_key_failure(db: Database, key: PoolKey, provider: str) -> bool:
    """Mark a key the vendor refused (401): ``failed_at``, an audit row. False when the
    key is gone (retired meanwhile) or already marked."""
    async with catalog_write(db, f"marking a key of provider {provider!r} failed") as session:
        row = await session.get(m.ProviderKey, key.id)
        if row is None or row.failed_at is not None:
            return False
        row.failed_at = utcnow()
        record(session, SYSTEM, "provider.key.failed", target_type="provider",
               target_id=row.provider_id,
               details={"name": provider, "label": row.label, "key": mask_last4(row.last4),
                        "reason": "the provider refused the key (401)"})
        return True


class DatabaseKeyEvents:
    """``registry.keypool.KeyEvents`` for a database-backed registry: log at once, then
    persist in the background (the pool already skips the key in this process; the
    database mark reaches the other processes and the provider card)."""

    _tasks: set[asyncio.Task[Any]] = set()

    def __init__(self, db: Database) -> None:
        self.db = db

    def key_failed(self, provider: str, key: PoolKey, error: AuthenticationError, *,
                   kept: bool) -> None:
        log_key_failed(provider, key, error, kept=kept)
        if not kept:
            self._spawn(self._persist(key, provider))

    def key_expired(self, provider: str, key: PoolKey) -> None:
        log.warning("a key expired; it left the pool",
                    extra={"event": "key_expired", "provider": provider, "label": key.label,
                           "key_id": key.id})

    async def _persist(self, key: PoolKey, provider: str) -> None:
        try:
            await record_key_failure(self.db, key, provider)
        except Exception:  # the process-local mark stands; the log line says what happened
            log.exception("could not record a failed key",
                          extra={"event": "key_failed_unrecorded", "provider": provider,
                                 "label": key.label})

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop (a synchronous caller): the log line stands alone
            coro.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @classmethod
    async def drain(cls) -> None:
        """Wait for the pending marks (tests, shutdown)."""
        while cls._tasks:
            await asyncio.gather(*list(cls._tasks), return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Rotation:
    re_encrypted: int
    new_key_id: str
    old_key_ids: list[str]


async def reencrypt_all(
    db: Database, old: KeyRing, new: KeyRing, *, actor: Actor = SYSTEM
) -> Rotation:
    """Re-encrypt every stored key from ``old`` to ``new``'s current key, in ONE
    transaction: on any failure (a key ``old`` cannot open) nothing changes."""
    count = 0
    async with catalog_write(db, "re-encrypting provider keys") as session:
        rows = (await session.execute(
            select(m.ProviderKey, m.Provider.name)
            .join(m.Provider, m.Provider.id == m.ProviderKey.provider_id)
            .order_by(m.ProviderKey.id))).all()
        for key, name in rows:
            key.ciphertext = secretbox.reencrypt(
                old, new, key.ciphertext.decode("ascii"), key.provider_id,
                f"provider {name!r} (key {key.label!r})").encode("ascii")
            key.master_key_id = new.current.key_id
            count += 1
        count += await _reseal_mcp_secrets(session, old, new)
        record(session, actor, "security.master_key.rotate", target_type="master_key",
               target_id=new.current.key_id,
               details={"re_encrypted": count, "old_key_ids": old.key_ids,
                        "at": utcnow().isoformat()})
    return Rotation(count, new.current.key_id, old.key_ids)


async def _reseal_mcp_secrets(session: AsyncSession, old: KeyRing, new: KeyRing) -> int:
    """MCP servers' env and header values are sealed by the same master key (bound to
    ``mcp:<id>:<kind>:<name>``, see ``services.mcp.servers``): they move with the keys."""
    count = 0
    servers = (await session.scalars(select(m.McpServer).order_by(m.McpServer.id))).all()
    for server in servers:
        for column, kind in (("env", "env"), ("headers", "header")):
            values = dict(getattr(server, column))
            for name, sealed in values.items():
                values[name] = {**sealed, "ciphertext": secretbox.reencrypt(
                    old, new, sealed["ciphertext"], binding(server.id, kind, name),
                    f"MCP server {server.name!r} ({kind} {name})")}
                count += 1
            setattr(server, column, values)
    return count


@dataclass(frozen=True, slots=True)
class MasterRotation:
    rotation: Rotation
    key_file: str | None
    """The rewritten key file, or None when the keys come from SWITCHBOARD_SECRET_KEY."""
    new_env_value: str | None
    """When the keys come from the env var: the value to set (new key first, then the old
    ones, which may be dropped once every process runs with the new value)."""


async def rotate_master_key(db: Database, *, actor: Actor = SYSTEM) -> MasterRotation:
    """Generate a new master key and re-encrypt every provider key under it.

    Key file: the file is first rewritten as ``new,old...`` (both decrypt), then the keys
    are re-encrypted in one transaction, then the file is rewritten with the new key
    alone. A crash at any point leaves a file that opens every stored value.

    ``SWITCHBOARD_SECRET_KEY``: the environment cannot be rewritten from here, so the new
    value is returned for the operator to deploy.
    """
    from switchboard.security.masterkey import (
        generate_master_key,
        key_file_path,
        load_keyring,
        write_key_file,
    )

    settings = load_settings()
    old = load_keyring(settings.data_dir, settings.secret_key, create=True)
    new_key = generate_master_key()
    while old.get(new_key.key_id) is not None:  # vanishingly unlikely id clash
        new_key = generate_master_key()
    staged = KeyRing((new_key, *old.keys), old.source, old.path)
    if old.path is None:
        rotation = await reencrypt_all(db, old, staged, actor=actor)
        return MasterRotation(rotation, None, staged.encode())
    path = key_file_path(settings.data_dir)
    write_key_file(path, staged)
    rotation = await reencrypt_all(db, old, staged, actor=actor)
    write_key_file(path, KeyRing((new_key,), old.source, path))
    return MasterRotation(rotation, str(path), None)
