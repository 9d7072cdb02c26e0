"""Provider keys at rest through the service layer: encrypted, masked, audited, rotated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.security import DecryptionError, MasterKeyError, generate_master_key
from switchboard.security.masterkey import load_keyring, parse_keyring
from switchboard.services import catalog
from switchboard.services.audit import list_entries
from switchboard.services.errors import NotFound
from switchboard.services.registry_source import build_registry
from switchboard.spec.errors import InvalidRequestError
from tests.services.helpers import table_snapshot

KEY = "sk-proj-TOPSECRETtopsecret0123456789abcdWXYZ"
OTHER = "sk-ant-api03-ANOTHERSECRETvalue9876543210-QRST"


def _raw_bytes(db: Database) -> bytes:
    path = Path(str(make_url(db.engine.url).database))
    blobs = [p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()]
    return b"".join(blobs)


async def test_key_is_stored_encrypted_masked_and_audited(database: Database) -> None:
    p = await catalog.create_provider(database, name="oa", kind="openai")
    status = await catalog.set_provider_key(database, "oa", KEY + "\n")
    assert status.has_api_key and status.api_key_masked == "\u2026WXYZ"
    view = await catalog.get_provider_by_id(database, p.id)
    assert view.api_key_masked == "\u2026WXYZ" and view.has_api_key
    assert KEY not in view.model_dump_json()

    async with database.unit_of_work() as s:
        row = await s.get(m.Provider, p.id)
        assert row is not None and [k.label for k in row.keys] == ["default"]
        assert row.keys[0].ciphertext.startswith(b"v1:")
        assert KEY.encode() not in row.keys[0].ciphertext
        assert row.keys[0].last4 == "WXYZ" and row.keys[0].set_at is not None
    if database.is_sqlite:
        raw = _raw_bytes(database)
        assert raw and KEY.encode() not in raw and b"TOPSECRET" not in raw

    entries = await list_entries(database, target_type="provider", target_id=p.id)
    assert entries[0].action == "provider.key.set"
    assert entries[0].details["key"] == "\u2026WXYZ"
    assert all("TOPSECRET" not in e.model_dump_json() for e in entries)

    registry = await build_registry(database)
    provider = registry.provider("oa")
    assert provider.api_key == KEY

    removed = await catalog.remove_provider_key(database, "oa")
    assert not removed.has_api_key and removed.api_key_masked is None
    assert (await list_entries(database, target_id=p.id))[0].action == "provider.key.remove"


async def test_bad_key_input_changes_nothing(database: Database) -> None:
    await catalog.create_provider(database, name="oa", kind="openai")
    before = await table_snapshot(database)
    for bad in ("", "  \n", "two words"):
        with pytest.raises(InvalidRequestError):
            await catalog.set_provider_key(database, "oa", bad)
    with pytest.raises(NotFound):
        await catalog.set_provider_key(database, "nope", KEY)
    assert await table_snapshot(database) == before


async def test_env_key_is_the_fallback(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await catalog.create_provider(sqlite_database, name="oa", kind="openai")
    monkeypatch.setenv("OPENAI_API_KEY", OTHER)
    assert (await build_registry(sqlite_database)).provider("oa").api_key == OTHER
    await catalog.set_provider_key(sqlite_database, "oa", KEY)
    assert (await build_registry(sqlite_database)).provider("oa").api_key == KEY


async def test_wrong_master_key_is_a_clear_error(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await catalog.create_provider(sqlite_database, name="oa", kind="openai")
    await catalog.create_provider(sqlite_database, name="off", kind="offline")
    await catalog.set_provider_key(sqlite_database, "oa", KEY)
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", generate_master_key("other").encode())
    registry = await build_registry(sqlite_database)
    registry.provider("off")  # other providers still work
    with pytest.raises(DecryptionError) as info:
        registry.provider("oa")
    message = str(info.value)
    assert "SWITCHBOARD_SECRET_KEY" in message and "provider 'oa'" in message
    assert "TOPSECRET" not in message

    # Same id, different key: still the clear error (not InvalidTag, not garbage).
    key_file = tmp_path / "sb-data" / "secret.key"
    same_id = parse_keyring(key_file.read_text(), "file").current.key_id
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", generate_master_key(same_id).encode())
    with pytest.raises(DecryptionError, match="master key is wrong"):
        (await build_registry(sqlite_database)).provider("oa")

    # No env var and no key file: names both.
    monkeypatch.delenv("SWITCHBOARD_SECRET_KEY")
    key_file.unlink()
    with pytest.raises(MasterKeyError) as missing:
        (await build_registry(sqlite_database)).provider("oa")
    assert "SWITCHBOARD_SECRET_KEY" in str(missing.value) and str(key_file) in str(missing.value)


async def test_ciphertext_moved_to_another_row_does_not_decrypt(database: Database) -> None:
    await catalog.create_provider(database, name="a", kind="openai")
    await catalog.create_provider(database, name="b", kind="openai")
    await catalog.set_provider_key(database, "a", KEY)
    await catalog.set_provider_key(database, "b", OTHER)
    async with database.unit_of_work() as s:
        a = await s.scalar(select(m.Provider).where(m.Provider.name == "a"))
        b = await s.scalar(select(m.Provider).where(m.Provider.name == "b"))
        assert a is not None and b is not None
        await s.execute(update(m.ProviderKey).where(m.ProviderKey.provider_id == b.id).values(
            ciphertext=a.keys[0].ciphertext, master_key_id=a.keys[0].master_key_id,
            last4=a.keys[0].last4))
    registry = await build_registry(database)
    assert registry.provider("a").api_key == KEY
    with pytest.raises(DecryptionError, match="copied from another provider row"):
        registry.provider("b")


async def test_rotate_master_key_with_key_file(database: Database, tmp_path: Path) -> None:
    for name, key in (("a", KEY), ("b", OTHER)):
        await catalog.create_provider(database, name=name, kind="openai")
        await catalog.set_provider_key(database, name, key)
    await catalog.create_provider(database, name="nokey", kind="openai")
    data_dir = tmp_path / "sb-data"
    old = load_keyring(data_dir, create=False)

    result = await catalog.rotate_master_key(database)
    assert result.rotation.re_encrypted == 2 and result.key_file == str(data_dir / "secret.key")
    new = load_keyring(data_dir, create=False)
    assert new.key_ids == [result.rotation.new_key_id] and new.current != old.current

    registry = await build_registry(database)  # the file now holds only the new key
    assert registry.provider("a").api_key == KEY and registry.provider("b").api_key == OTHER
    async with database.unit_of_work() as s:
        rows = (await s.scalars(select(m.ProviderKey))).all()
        assert len(rows) == 2 and {r.master_key_id for r in rows} == {new.current.key_id}
    # The old key alone opens nothing.
    (data_dir / "secret.key").write_text(old.encode())
    for name in ("a", "b"):
        with pytest.raises(DecryptionError, match="not among the configured keys"):
            (await build_registry(database)).provider(name)
    assert (await list_entries(database, target_type="master_key"))[0].details[
        "re_encrypted"] == 2


async def test_rotate_master_key_with_env_var(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = generate_master_key("first")
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", old.encode())
    await catalog.create_provider(sqlite_database, name="a", kind="openai")
    await catalog.set_provider_key(sqlite_database, "a", KEY)
    result = await catalog.rotate_master_key(sqlite_database)
    assert result.key_file is None and result.new_env_value is not None
    assert result.new_env_value.endswith(old.encode())  # new first, old kept for rollout
    new_only = result.new_env_value.split(",")[0]
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", new_only)
    assert (await build_registry(sqlite_database)).provider("a").api_key == KEY
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", old.encode())
    with pytest.raises(DecryptionError):
        (await build_registry(sqlite_database)).provider("a")


async def test_rotation_is_all_or_nothing(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key the current ring cannot open aborts the rotation: nothing is re-encrypted."""
    first = generate_master_key("first")
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", first.encode())
    await catalog.create_provider(sqlite_database, name="a", kind="openai")
    await catalog.set_provider_key(sqlite_database, "a", KEY)
    stranger = generate_master_key("stranger")
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", stranger.encode())
    await catalog.create_provider(sqlite_database, name="b", kind="openai")
    await catalog.set_provider_key(sqlite_database, "b", OTHER)
    before = await table_snapshot(sqlite_database)
    with pytest.raises(DecryptionError, match="'first'"):
        await catalog.rotate_master_key(sqlite_database)
    after = await table_snapshot(sqlite_database)
    assert after == before


async def test_pool_keys_refused_enabled_again_and_deleted_with_their_provider(
    database: Database,
) -> None:
    from switchboard.registry.keypool import PoolKey
    from switchboard.services import keys

    await catalog.create_provider(database, name="oa", kind="openai")
    first = await keys.add_provider_key(database, "oa", KEY)
    second = await keys.add_provider_key(database, "oa", OTHER, weight=3, rpm=10)
    assert (first.label, second.label) == ("default", "key-2")
    assert await keys.record_key_failure(database, PoolKey(id=first.id, label="default"), "oa")
    assert not await keys.record_key_failure(  # once: a second 401 changes nothing
        database, PoolKey(id=first.id, label="default"), "oa")
    view = await catalog.get_provider(database, "oa")
    assert [k.state for k in view.keys] == ["failed", "active"]
    assert view.api_key_masked == "\u2026QRST"  # the card's "key" is the one serving
    registry = await build_registry(database)
    pool = registry.key_pool("oa")
    assert pool is not None and [k.label for k in pool.serving()] == ["key-2"]

    again = await keys.update_provider_key(database, "oa", "default", enabled=True)
    assert again.state == "active" and again.failed_at is None
    entries = [e.action for e in await list_entries(database, target_type="provider")]
    assert entries[:3] == ["provider.key.update", "provider.key.failed", "provider.key.add"]

    await catalog.delete_provider(database, "oa")
    async with database.unit_of_work() as s:
        assert (await s.scalars(select(m.ProviderKey))).all() == []
