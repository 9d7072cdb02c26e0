"""Provider API keys: set, remove, and master-key rotation.

A key goes straight from the caller into ``Vault.seal`` (AES-256-GCM bound to the row id);
only the ciphertext, the master key id, the last four characters and the time are stored.
The audit row records the masked key, never the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from switchboard.config import load_settings
from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.db.types import utcnow
from switchboard.security import secretbox
from switchboard.security.masking import mask_last4
from switchboard.security.masterkey import KeyRing
from switchboard.security.vault import Vault
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.providers import ProviderRef, load_provider
from switchboard.services.transactions import catalog_write
from switchboard.services.views import KeyStatus


def open_vault(*, create: bool = True) -> Vault:
    """The vault of this process's master key(s) (env var or key file)."""
    return Vault.load(load_settings().data_dir, create=create)


def _status(row: m.Provider) -> KeyStatus:
    has = row.api_key_ciphertext is not None
    return KeyStatus(
        provider=row.name,
        has_api_key=has,
        api_key_masked=mask_last4(row.api_key_last4 or "") if has else None,
        api_key_key_id=row.api_key_key_id if has else None,
        api_key_set_at=row.api_key_set_at if has else None,
    )


async def set_provider_key(
    db: Database, provider: ProviderRef, api_key: str, *, actor: Actor = SYSTEM,
    vault: Vault | None = None,
) -> KeyStatus:
    vault = vault or open_vault()
    async with catalog_write(db, f"setting the key of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        sealed = vault.seal(row.id, api_key)
        replaced = row.api_key_ciphertext is not None
        row.api_key_ciphertext = sealed.ciphertext.encode("ascii")
        row.api_key_key_id = sealed.key_id
        row.api_key_last4 = sealed.last4
        row.api_key_set_at = sealed.set_at
        row.status, row.status_error, row.status_checked_at = "unknown", None, None
        record(session, actor, "provider.key.set", target_type="provider", target_id=row.id,
               details={"name": row.name, "key": mask_last4(sealed.last4),
                        "master_key_id": sealed.key_id, "replaced": replaced})
        return _status(row)


async def remove_provider_key(
    db: Database, provider: ProviderRef, *, actor: Actor = SYSTEM
) -> KeyStatus:
    async with catalog_write(db, f"removing the key of provider {provider!r}") as session:
        row = await load_provider(session, provider)
        had = row.api_key_ciphertext is not None
        if had:
            record(session, actor, "provider.key.remove", target_type="provider",
                   target_id=row.id,
                   details={"name": row.name, "key": mask_last4(row.api_key_last4 or "")})
        row.api_key_ciphertext = None
        row.api_key_key_id = None
        row.api_key_last4 = None
        row.api_key_set_at = None
        row.api_key_expires_at = None
        row.status, row.status_error, row.status_checked_at = "unknown", None, None
        return _status(row)


async def get_key_status(db: Database, provider: ProviderRef) -> KeyStatus:
    async with db.unit_of_work(read_only=True) as session:
        return _status(await load_provider(session, provider))


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
        rows = (await session.scalars(select(m.Provider).where(
            m.Provider.api_key_ciphertext.is_not(None)).order_by(m.Provider.id))).all()
        for row in rows:
            assert row.api_key_ciphertext is not None
            stored = row.api_key_ciphertext.decode("ascii")
            row.api_key_ciphertext = secretbox.reencrypt(
                old, new, stored, row.id, f"provider {row.name!r}").encode("ascii")
            row.api_key_key_id = new.current.key_id
            count += 1
        record(session, actor, "security.master_key.rotate", target_type="master_key",
               target_id=new.current.key_id,
               details={"re_encrypted": count, "old_key_ids": old.key_ids,
                        "at": utcnow().isoformat()})
    return Rotation(count, new.current.key_id, old.key_ids)


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
