"""Provider keys at rest: AES-256-GCM with a versioned, self-describing format.

A stored value is ``v1:<key_id>:<base64url(nonce || ciphertext+tag)>``:

- ``v1`` — the format version, so the scheme can change without guessing;
- ``key_id`` — which master key sealed it (rotation keeps old ids decryptable);
- a fresh random 96-bit nonce per value (the size GCM is designed for; random nonces are
  safe far beyond the number of keys a catalog will ever store under one master key);
- the associated data binds the value to its *purpose* and *row id*: a ciphertext copied
  onto another provider row fails authentication instead of silently decrypting.

Nothing here logs or raises with key material; an authentication failure becomes a
``DecryptionError`` naming ``SWITCHBOARD_SECRET_KEY`` / the key file to check.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.security.errors import DecryptionError
from switchboard.security.masterkey import KeyRing

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT_VERSION = "v1"
NONCE_BYTES = 12
_PURPOSE = b"switchboard:provider-api-key:v1"


@dataclass(frozen=True, slots=True)
class Sealed:
    """A parsed stored value (no secret in it)."""

    version: str
    key_id: str
    blob: bytes


def _aesgcm(key: bytes) -> AESGCM:
    """The cipher, with cryptography imported on the first key sealed or opened: its
    bindings cost ~6 MB resident and a start-up import, and a server whose provider keys
    come from the environment never needs them (tests/test_startup_imports.py)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def _associated_data(row_id: object) -> bytes:
    return _PURPOSE + b"|" + str(row_id).encode("utf-8")


def encrypt(ring: KeyRing, plaintext: str, row_id: object) -> str:
    """Seal ``plaintext`` for row ``row_id`` under the ring's current key."""
    key = ring.current
    nonce = secrets.token_bytes(NONCE_BYTES)
    ct = _aesgcm(key.key).encrypt(nonce, plaintext.encode("utf-8"), _associated_data(row_id))
    blob = base64.urlsafe_b64encode(nonce + ct).decode("ascii").rstrip("=")
    return f"{FORMAT_VERSION}:{key.key_id}:{blob}"


def parse(stored: str) -> Sealed:
    version, _, rest = stored.partition(":")
    key_id, _, encoded = rest.partition(":")
    if version != FORMAT_VERSION or not key_id or not encoded:
        raise DecryptionError(
            "a stored provider key is not in a format this version understands "
            f"(expected {FORMAT_VERSION}:KEY_ID:DATA); set the key again with "
            "`switchboard keys set PROVIDER`"
        )
    try:
        blob = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        blob = b""
    if len(blob) < NONCE_BYTES + 16:
        raise DecryptionError(
            "a stored provider key is truncated or corrupted; set it again with "
            "`switchboard keys set PROVIDER`"
        )
    return Sealed(version, key_id, blob)


def key_id_of(stored: str) -> str:
    """The id of the master key that sealed ``stored``."""
    return parse(stored).key_id


def decrypt(ring: KeyRing, stored: str, row_id: object, *, label: str = "a provider") -> str:
    """Open a value sealed by :func:`encrypt` for the same ``row_id``.

    ``label`` names the owner (e.g. "provider 'openai'") in error messages.
    """
    sealed = parse(stored)
    key = ring.get(sealed.key_id)
    if key is None:
        raise DecryptionError(
            f"the stored API key of {label} was encrypted with master key "
            f"{sealed.key_id!r}, which is not among the configured keys "
            f"({', '.join(ring.key_ids)}) from {ring.describe_source()}. Add that key to "
            "SWITCHBOARD_SECRET_KEY (ID:BASE64KEY, comma-separated) or set the provider "
            "key again"
        )
    from cryptography.exceptions import InvalidTag  # with the cipher (see _aesgcm)

    nonce, ct = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    try:
        plain = _aesgcm(key.key).decrypt(nonce, ct, _associated_data(row_id))
    except InvalidTag:
        raise DecryptionError(
            f"the stored API key of {label} cannot be decrypted with master key "
            f"{key.key_id!r} from {ring.describe_source()}: the master key is wrong "
            "(same id, different key), or the value was copied from another provider "
            "row or altered. Restore the right SWITCHBOARD_SECRET_KEY / key file, or set "
            "the provider key again"
        ) from None
    return plain.decode("utf-8")


def reencrypt(old: KeyRing, new: KeyRing, stored: str, row_id: object, label: str) -> str:
    """Open with ``old`` ring, seal under ``new``'s current key (master-key rotation)."""
    return encrypt(new, decrypt(old, stored, row_id, label=label), row_id)
