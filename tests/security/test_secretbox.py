"""Provider keys at rest: AES-GCM format, row binding, wrong keys, rotation."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from switchboard.security import (
    DecryptionError,
    KeyRing,
    MasterKeyError,
    Vault,
    generate_master_key,
    load_keyring,
    parse_keyring,
    secretbox,
)
from switchboard.spec.errors import ConfigurationError, InvalidRequestError

KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789WXYZ"


def _ring(*ids: str) -> KeyRing:
    return KeyRing(tuple(generate_master_key(i) for i in ids), "test")


def test_round_trip_and_format() -> None:
    ring = _ring("k1")
    stored = secretbox.encrypt(ring, KEY, 7)
    version, key_id, data = stored.split(":")
    assert (version, key_id) == ("v1", "k1")
    assert KEY not in stored
    blob = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    assert len(blob) == 12 + len(KEY) + 16  # nonce | ciphertext | tag
    assert secretbox.decrypt(ring, stored, 7) == KEY


def test_fresh_nonce_per_value() -> None:
    ring = _ring("k1")
    a, b = secretbox.encrypt(ring, KEY, 1), secretbox.encrypt(ring, KEY, 1)
    assert a != b
    assert secretbox.parse(a).blob[:12] != secretbox.parse(b).blob[:12]


def test_ciphertext_moved_to_another_row_fails() -> None:
    ring = _ring("k1")
    stored = secretbox.encrypt(ring, KEY, "row-1")
    with pytest.raises(DecryptionError) as info:
        secretbox.decrypt(ring, stored, "row-2", label="provider 'b'")
    message = str(info.value)
    assert "provider 'b'" in message and "copied from another provider row" in message
    assert KEY not in message


def test_wrong_master_key_with_same_id_names_the_env_var() -> None:
    stored = secretbox.encrypt(_ring("k1"), KEY, 1)
    other = parse_keyring(generate_master_key("k1").encode(), "SWITCHBOARD_SECRET_KEY")
    with pytest.raises(DecryptionError) as info:
        secretbox.decrypt(other, stored, 1)
    assert "SWITCHBOARD_SECRET_KEY" in str(info.value)
    assert isinstance(info.value, ConfigurationError)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_unknown_key_id_lists_configured_ids() -> None:
    stored = secretbox.encrypt(_ring("old"), KEY, 1)
    with pytest.raises(DecryptionError, match=r"'old'.*not among the configured keys \(new\)"):
        secretbox.decrypt(_ring("new"), stored, 1)


def test_tampered_or_foreign_values_are_clear_errors() -> None:
    ring = _ring("k1")
    stored = secretbox.encrypt(ring, KEY, 1)
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with pytest.raises(DecryptionError):
        secretbox.decrypt(ring, flipped, 1)
    for bad in ("plaintext-key", "v2:k1:abc", "v1:k1:", "v1:k1:c2hvcnQ"):
        with pytest.raises(DecryptionError, match="keys set PROVIDER"):
            secretbox.decrypt(ring, bad, 1)


def test_rotation_old_ring_opens_nothing_new() -> None:
    old, new_key = _ring("k1"), generate_master_key("k2")
    stored = secretbox.encrypt(old, KEY, 3)
    new = KeyRing((new_key,), "test")
    rotated = secretbox.reencrypt(old, new, stored, 3, "p")
    assert secretbox.key_id_of(rotated) == "k2"
    assert secretbox.decrypt(new, rotated, 3) == KEY
    with pytest.raises(DecryptionError):
        secretbox.decrypt(old, rotated, 3)


def test_keyring_parsing() -> None:
    a, b = generate_master_key("a"), generate_master_key("b-2")
    ring = parse_keyring(f" {a.encode()} , {b.encode()} ", "SWITCHBOARD_SECRET_KEY")
    assert ring.current == a and ring.key_ids == ["a", "b-2"]
    urlsafe = base64.urlsafe_b64encode(a.key).decode().rstrip("=")
    assert parse_keyring(f"x:{urlsafe}", "env").current.key == a.key
    bare = parse_keyring(base64.b64encode(a.key).decode(), "env").current
    assert bare.key == a.key and bare.key_id.startswith("k")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("k1:c2hvcnQ=", "not a base64-encoded 32-byte key"),
        ("k1:!!!notbase64!!!", "not a base64-encoded 32-byte key"),
        ("bad id:" + base64.b64encode(bytes(range(32))).decode(), "invalid key id"),
    ],
)
def test_bad_secret_key_env_is_a_clear_error(value: str, fragment: str) -> None:
    with pytest.raises(MasterKeyError) as info:
        parse_keyring(value, "SWITCHBOARD_SECRET_KEY")
    assert fragment in str(info.value) and "SWITCHBOARD_SECRET_KEY" in str(info.value)


def test_duplicate_key_ids_refused() -> None:
    a = generate_master_key("same")
    b = generate_master_key("same")
    with pytest.raises(MasterKeyError, match="more than once"):
        parse_keyring(f"{a.encode()},{b.encode()}", "SWITCHBOARD_SECRET_KEY")


def test_key_file_generated_private_and_stable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = load_keyring(data, env_value=None)
    path = data / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    again = load_keyring(data, env_value=None)
    assert again.current == first.current and again.path == path


def test_missing_key_when_reading_names_env_and_file(tmp_path: Path) -> None:
    with pytest.raises(MasterKeyError) as info:
        load_keyring(tmp_path / "none", env_value=None, create=False)
    message = str(info.value)
    assert "SWITCHBOARD_SECRET_KEY" in message and str(tmp_path / "none" / "secret.key") in message
    assert not (tmp_path / "none").exists()


def test_env_wins_over_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_keyring(tmp_path, env_value=None)
    key = generate_master_key("envkey")
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", key.encode())
    assert load_keyring(tmp_path).current == key


def test_vault_seal_gives_hints_not_key(tmp_path: Path) -> None:
    vault = Vault.load(tmp_path)
    sealed = vault.seal(5, f"  {KEY}\n")
    assert sealed.last4 == "WXYZ" and sealed.masked == "sk-proj-\u2026WXYZ"
    assert KEY not in repr(sealed)
    opened = vault.open(5, sealed.ciphertext, label="p")
    assert opened.get_secret_value() == KEY and KEY not in repr(opened)


@pytest.mark.parametrize("bad", ["", "   \n", "sk-has space-inside", "sk-\x00ctrl"])
def test_vault_refuses_non_keys_without_echoing(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        Vault.load(tmp_path).seal(1, bad)
    assert bad.strip() == "" or bad not in str(info.value)


def test_secrets_sealed_before_the_one_sealing_path_still_open() -> None:
    """Ciphertexts written by the former ``Vault.seal_secret`` (alert channels) and by
    ``seal_value`` (MCP secrets) before they became one path: same cipher, same
    associated data, so they open unchanged."""
    ring = parse_keyring("old:" + base64.b64encode(bytes(range(32))).decode(), "test")
    vault = Vault(ring)
    alert = "v1:old:2x1yGm93Po91rVxuEQI3cbbQbY5aogML8rFNyUA5zH4NPk10-sUfCCgP"
    mcp = "v1:old:ciSWGXNqktDA8k79f4VHgmOUyIqSLMX-__bA25un2M_3s-rxUGy5jPM"
    assert vault.open("alert-channel:5", alert, label="x").get_secret_value() == "smtp pass word"
    assert vault.open("mcp:3:env:TOKEN", mcp, label="x").get_secret_value() == "Bearer abc123"
    with pytest.raises(DecryptionError):
        vault.open("alert-channel:6", alert, label="x")
    # and what is sealed now opens with the same associated data
    sealed = vault.seal_value("alert-channel:5", "smtp pass word").ciphertext
    assert secretbox.decrypt(ring, sealed, "alert-channel:5") == "smtp pass word"
