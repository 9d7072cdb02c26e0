"""Master keys: where they come from, their format, and rotation.

The master key encrypts provider keys at rest (see ``secretbox``). It comes from, in order:

1. ``SWITCHBOARD_SECRET_KEY`` — one or more comma-separated entries ``KEY_ID:BASE64KEY``,
   the FIRST being the current key (new values are encrypted with it) and the others kept
   only to decrypt values not yet re-encrypted (rotation). ``KEY_ID`` is 1-32 characters of
   ``[A-Za-z0-9_-]``; ``BASE64KEY`` is 32 random bytes in standard or URL-safe base64
   (padding optional). Generate one with ``switchboard keys rotate-master`` or
   ``python -c "import os,base64;print('k1:'+base64.b64encode(os.urandom(32)).decode())"``.
   A bare ``BASE64KEY`` (no id) is accepted; its id is derived from the key's fingerprint.
2. Otherwise the key file ``<data dir>/secret.key`` (same format), generated on first use
   with permissions 0600 inside a 0700 directory.

Why key ids: each ciphertext records the id of the key that sealed it, so several keys
can be live at once and a rotation can proceed without downtime.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.security.errors import MasterKeyError

ENV_VAR = "SWITCHBOARD_SECRET_KEY"
KEY_FILE_NAME = "secret.key"
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True, slots=True)
class MasterKey:
    key_id: str
    key: bytes = field(repr=False)

    def encode(self) -> str:
        """The ``KEY_ID:BASE64KEY`` form used in the env var and key file."""
        return f"{self.key_id}:{base64.b64encode(self.key).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class KeyRing:
    """The current key first, then older keys still accepted for decryption.

    ``source`` says where the keys came from, for error messages ("SWITCHBOARD_SECRET_KEY"
    or the key file's path).
    """

    keys: tuple[MasterKey, ...]
    source: str
    path: Path | None = None

    def __post_init__(self) -> None:
        if not self.keys:
            raise MasterKeyError(f"no master key in {self.source}")
        ids = [k.key_id for k in self.keys]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise MasterKeyError(
                f"{self.source} lists master key id(s) {', '.join(dupes)} more than once; "
                "give each key a distinct id"
            )

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    @property
    def key_ids(self) -> list[str]:
        return [k.key_id for k in self.keys]

    def get(self, key_id: str) -> MasterKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    def encode(self) -> str:
        return ",".join(k.encode() for k in self.keys)

    def describe_source(self) -> str:
        """Where to look when a key is wrong, for error messages."""
        if self.path is not None:
            return f"the key file {self.path} (or set {ENV_VAR})"
        return ENV_VAR


def generate_master_key(key_id: str | None = None) -> MasterKey:
    key = secrets.token_bytes(KEY_BYTES)
    return MasterKey(key_id or _fingerprint_id(key), key)


def _fingerprint_id(key: bytes) -> str:
    return "k" + hashlib.sha256(b"switchboard-master-key-id|" + key).hexdigest()[:10]


def parse_keyring(text: str, source: str, path: Path | None = None) -> KeyRing:
    """Parse ``id:base64,id:base64`` (first = current). Errors never echo the key."""
    entries = [e.strip() for e in text.replace("\n", ",").split(",") if e.strip()]
    if not entries:
        raise MasterKeyError(f"{source} is empty; expected KEY_ID:BASE64KEY[,KEY_ID:BASE64KEY]")
    keys = []
    for position, entry in enumerate(entries, start=1):
        key_id, sep, encoded = entry.rpartition(":")
        if not sep:
            key_id, encoded = "", entry
        if key_id and not _KEY_ID.match(key_id):
            raise MasterKeyError(
                f"{source}: entry {position} has an invalid key id (use 1-32 characters of "
                "A-Z a-z 0-9 _ -); format is KEY_ID:BASE64KEY[,KEY_ID:BASE64KEY]"
            )
        key = _decode_key(encoded, source, position)
        keys.append(MasterKey(key_id or _fingerprint_id(key), key))
    return KeyRing(tuple(keys), source, path)


def _decode_key(encoded: str, source: str, position: int) -> bytes:
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        if "-" in encoded or "_" in encoded:
            key = base64.urlsafe_b64decode(padded)
        else:
            key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise MasterKeyError(
            f"{source}: entry {position} is not a base64-encoded {KEY_BYTES}-byte key; "
            "format is KEY_ID:BASE64KEY[,KEY_ID:BASE64KEY] (first = current). Generate one "
            "with `switchboard keys rotate-master`"
        )
    return key


def key_file_path(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def load_keyring(
    data_dir: Path, env_value: str | None = None, *, create: bool = True
) -> KeyRing:
    """The key ring from ``SWITCHBOARD_SECRET_KEY`` or the key file.

    With ``create`` (writing a value), a missing key file is generated; without it
    (reading only), a missing key is an error naming both places to look.
    """
    if env_value is None:
        env_value = os.environ.get(ENV_VAR) or None
    if env_value:
        return parse_keyring(env_value, ENV_VAR)
    path = key_file_path(data_dir)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        if not create:
            raise MasterKeyError(
                f"no master key: {ENV_VAR} is not set and the key file {path} does not "
                f"exist. Set {ENV_VAR} (or restore {path}) to the key the stored provider "
                "keys were encrypted with"
            ) from None
        ring = KeyRing((generate_master_key(),), str(path), path)
        return _create_key_file(path, ring)
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(
            f"cannot read the master key file {path} ({type(exc).__name__}); fix its "
            f"permissions or set {ENV_VAR}"
        ) from None
    return parse_keyring(text, f"the key file {path}", path)


def _create_key_file(path: Path, ring: KeyRing) -> KeyRing:
    """Create the key file exclusively; if another process won the race, use its key."""
    _ensure_private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return parse_keyring(path.read_text(encoding="ascii"), f"the key file {path}", path)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(ring.encode() + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return ring


def write_key_file(path: Path, ring: KeyRing) -> None:
    """Replace the key file atomically (write a 0600 temp file, fsync, rename)."""
    _ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(ring.encode() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _ensure_private_dir(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        directory.chmod(0o700)
    except PermissionError:  # a directory we do not own (e.g. a mounted volume): leave it
        pass
